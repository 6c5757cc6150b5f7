from pathlib import Path

import pytest

from tradesim.entrypoints.settings import ConfigurationError, Settings

PRODUCTION = {
    "ENVIRONMENT": "production",
    "TRADESIM_DATABASE_URL": "postgresql+asyncpg://tradesim@db.internal:5432/tradesim",
    "TRADESIM_REDIS_URL": "rediss://cache.internal:6379/0",
    "TRADESIM_OBJECT_STORE_URL": "s3://tradesim-data/prod",
    "JWT_SECRET": "s3cr3t-from-secrets-manager",
    "DB_PASSWORD": "p@ss/word",
    "BYBIT_API_KEY": "key",
}


def test_embedded_defaults_use_the_data_dir(tmp_path: Path) -> None:
    settings = Settings.from_env({"TRADESIM_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'tradesim.sqlite3'}"
    assert settings.object_store_url == (tmp_path / "objects").as_uri()
    assert settings.redis_url is None
    assert settings.symbols == ("BTCUSDT", "ETHUSDT")
    assert (settings.http_host, settings.http_port) == ("127.0.0.1", 8000)


def test_development_generates_and_keeps_a_jwt_secret(tmp_path: Path) -> None:
    first = Settings.from_env({"TRADESIM_DATA_DIR": str(tmp_path)})
    second = Settings.from_env({"TRADESIM_DATA_DIR": str(tmp_path)})
    assert len(first.jwt_secret) >= 48
    assert first.jwt_secret == second.jwt_secret
    assert (tmp_path / "jwt_secret").stat().st_mode & 0o777 == 0o600


def test_production_builds_the_database_url_from_the_injected_password() -> None:
    settings = Settings.from_env(PRODUCTION)
    assert settings.database_url == "postgresql+asyncpg://tradesim:p%40ss%2Fword@db.internal:5432/tradesim"
    assert "p@ss" not in repr(settings)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"JWT_SECRET": ""}, "missing secret(s) JWT_SECRET"),
        ({"JWT_SECRET": "", "DB_PASSWORD": ""}, "missing secret(s) JWT_SECRET, DB_PASSWORD"),
        ({"TRADESIM_DATABASE_URL": "sqlite+aiosqlite:///x.db"}, "must point at PostgreSQL in production, not SQLite"),
        ({"TRADESIM_DATABASE_URL": "memory://"}, "must point at PostgreSQL in production, not memory"),
        ({"DEBUG": "true"}, "DEBUG must be off in production"),
        ({"TRADESIM_REDIS_URL": ""}, "TRADESIM_REDIS_URL must be set in production"),
    ],
)
def test_production_refuses_to_start_and_says_why(change: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match="refusing to start") as info:
        Settings.from_env({**PRODUCTION, **change})
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("role", "env", "missing"),
    [
        ("worker", {"JWT_SECRET": "", "BYBIT_API_KEY": ""}, None),
        ("sync", {"JWT_SECRET": "", "TRADESIM_REDIS_URL": ""}, None),
        # The streamer signs no tokens; the market data it reads is public.
        ("streamer", {"JWT_SECRET": "", "BYBIT_API_KEY": ""}, None),
        # The migration needs the database alone.
        ("migrate", {"JWT_SECRET": "", "BYBIT_API_KEY": "", "TRADESIM_REDIS_URL": ""}, None),
        ("migrate", {"DB_PASSWORD": ""}, "missing secret(s) DB_PASSWORD"),
        ("worker", {"DB_PASSWORD": ""}, "missing secret(s) DB_PASSWORD"),
        ("api", {"JWT_SECRET": ""}, "missing secret(s) JWT_SECRET"),
        ("streamer", {"TRADESIM_REDIS_URL": ""}, "TRADESIM_REDIS_URL must be set"),
    ],
)
def test_each_process_needs_only_its_own_secrets(role: str, env: dict[str, str], missing: str | None) -> None:
    if missing is None:
        Settings.from_env({**PRODUCTION, **env}, role=role)
    else:
        with pytest.raises(ConfigurationError, match="refusing to start") as info:
            Settings.from_env({**PRODUCTION, **env}, role=role)
        assert missing in str(info.value)


def test_the_redis_auth_token_goes_into_the_tls_url() -> None:
    settings = Settings.from_env({**PRODUCTION, "REDIS_AUTH_TOKEN": "t/k"}, role="worker")
    assert settings.redis_url == "rediss://:t%2Fk@cache.internal:6379/0"


def test_bad_values_are_named() -> None:
    with pytest.raises(ConfigurationError, match="TRADESIM_HTTP_PORT must be a port number, not 'http'"):
        Settings.from_env({"TRADESIM_HTTP_PORT": "http", "JWT_SECRET": "x"})


def test_feeds_default_to_bybit_linear_and_name_one_venue_per_category() -> None:
    settings = Settings.from_env({"JWT_SECRET": "x"})
    assert settings.feeds == ("bybit-linear",)
    assert settings.feed_stale_seconds == 10.0
    assert settings.redis_namespace == ""
    chosen = Settings.from_env(
        {"JWT_SECRET": "x", "TRADESIM_FEEDS": " bybit-spot, Bitget-Linear ", "TRADESIM_FEED_STALE_SECONDS": "2.5",
         "TRADESIM_REDIS_NAMESPACE": "staging:"}
    )  # fmt: skip
    assert chosen.feeds == ("bybit-spot", "bitget-linear")
    assert (chosen.feed_stale_seconds, chosen.redis_namespace) == (2.5, "staging:")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TRADESIM_FEEDS": "binance"}, "TRADESIM_FEEDS must name some of"),
        ({"TRADESIM_FEEDS": ","}, "TRADESIM_FEEDS must name some of"),
        ({"TRADESIM_FEEDS": "bybit-linear,bitget-linear"}, "bybit-linear and bitget-linear: choose one venue"),
        ({"TRADESIM_FEED_STALE_SECONDS": "0"}, "TRADESIM_FEED_STALE_SECONDS must be a positive number"),
        ({"TRADESIM_FEED_STALE_SECONDS": "soon"}, "TRADESIM_FEED_STALE_SECONDS must be a positive number"),
    ],
)
def test_bad_feed_settings_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings.from_env({"JWT_SECRET": "x", **env})


def test_worker_timings_are_read_and_bad_ones_named(tmp_path: Path) -> None:
    env = {"TRADESIM_DATA_DIR": str(tmp_path), "TRADESIM_WORKER_LEASE_TTL_MS": "2000"}
    settings = Settings.from_env({**env, "TRADESIM_WORKER_SWEEP_AFTER_MS": "3000"}, role="worker")
    assert (settings.worker_lease_ttl_ms, settings.worker_reclaim_idle_ms, settings.worker_sweep_after_ms) == (
        2000,
        15_000,
        3000,
    )
    with pytest.raises(ConfigurationError, match=r"TRADESIM_WORKER_RECLAIM_IDLE_MS .* not '5s'"):
        Settings.from_env({**env, "TRADESIM_WORKER_RECLAIM_IDLE_MS": "5s"}, role="worker")
    assert settings.worker_linger_ms == 2
    assert Settings.from_env({**env, "TRADESIM_WORKER_LINGER_MS": "0"}, role="worker").worker_linger_ms == 0
    with pytest.raises(ConfigurationError, match=r"TRADESIM_WORKER_LINGER_MS .* from 0 to 100, not '500'"):
        Settings.from_env({**env, "TRADESIM_WORKER_LINGER_MS": "500"}, role="worker")


def test_abuse_policies_are_read_and_bad_ones_named() -> None:
    env = {"JWT_SECRET": "x"}
    defaults = Settings.from_env(env)
    assert (defaults.max_replays_per_user, defaults.metrics_port, defaults.metrics_token) == (5, None, None)
    settings = Settings.from_env(
        {**env, "TRADESIM_MAX_ACCOUNTS_PER_USER": "3", "TRADESIM_METRICS_PORT": "9100", "TRADESIM_METRICS_TOKEN": "t"}
    )
    assert (settings.max_accounts_per_user, settings.metrics_port, settings.metrics_token) == (3, 9100, "t")
    assert "'t'" not in repr(settings)
    with pytest.raises(ConfigurationError, match=r"TRADESIM_MAX_WEBSOCKETS_PER_USER must be a whole number .*'-1'"):
        Settings.from_env({**env, "TRADESIM_MAX_WEBSOCKETS_PER_USER": "-1"})
    with pytest.raises(ConfigurationError, match="TRADESIM_METRICS_PORT must differ"):
        Settings.from_env({**env, "TRADESIM_METRICS_PORT": "8000"})


def test_settings_built_in_code_default_to_the_embedded_stores() -> None:
    settings = Settings(data_dir=Path("somewhere"))
    assert settings.database_url == "sqlite+aiosqlite:///somewhere/tradesim.sqlite3"
    assert settings.object_store_url == (Path("somewhere") / "objects").resolve().as_uri()
    assert settings.jwt_secret is None


@pytest.mark.parametrize("role", ["worker", "streamer", "sync", "migrate"])
def test_roles_that_sign_no_tokens_get_no_generated_secret(role: str, tmp_path: Path) -> None:
    assert Settings.from_env({"TRADESIM_DATA_DIR": str(tmp_path)}, role=role).jwt_secret is None
    assert not (tmp_path / "jwt_secret").exists()


def test_an_unknown_role_is_named() -> None:
    with pytest.raises(ValueError, match="unknown process role 'apii'"):
        Settings.from_env({}, role="apii")


def test_the_bybit_rate_limit_is_read_and_a_bad_one_refused(tmp_path: Path) -> None:
    base = {"TRADESIM_DATA_DIR": str(tmp_path)}
    assert Settings.from_env(base).bybit_rate_limit == 50
    assert Settings.from_env(base | {"TRADESIM_BYBIT_RATE_LIMIT": "400"}).bybit_rate_limit == 400
    with pytest.raises(ConfigurationError, match=r"TRADESIM_BYBIT_RATE_LIMIT must be a number .* not '0'"):
        Settings.from_env(base | {"TRADESIM_BYBIT_RATE_LIMIT": "0"})
