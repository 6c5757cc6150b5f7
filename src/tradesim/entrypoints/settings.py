"""Configuration from the environment (DESIGN.md section 3 fixes the names).

`Settings.from_env` reads everything once at start, for one process role (`roles.py`); nothing
else reads `os.environ`. In production it refuses to start when a secret the role uses is
missing, the database is SQLite or DEBUG is on, with a message that names every problem at once.
Every default of `Settings` is a value the service runs on (the embedded defaults under the data
dir) or absent (None), so a `Settings(...)` built in code is as valid as one read from the
environment.

A new setting: a field here with a valid default (or None), and its variable read in `from_env`
(with a clear error for a bad value); a process that cannot run without it says so in its `Role`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import attrs

from tradesim.entrypoints.roles import role_named

BYBIT_WS_URL = "wss://stream.bybit.com/v5/public"
BYBIT_REST_URL = "https://api.bybit.com"
BITGET_WS_URL = "wss://ws.bitget.com/v2/ws/public"
BITGET_REST_URL = "https://api.bitget.com"
#: Market feeds the streamer can run (TRADESIM_FEEDS): venue-category. One venue per category,
#: since every feed of a category publishes on the same `ticker.{SYMBOL}` channel.
FEEDS = ("bybit-linear", "bybit-spot", "bitget-linear", "bitget-spot")
DEFAULT_FEEDS = ("bybit-linear",)
#: Worker timings in milliseconds, each read from TRADESIM_{NAME} (defaults: the fields of `Settings`).
WORKER_TIMINGS = ("worker_lease_ttl_ms", "worker_reclaim_idle_ms", "worker_sweep_after_ms")
#: Abuse policies (docs/security.md), each read from TRADESIM_{NAME} as a whole number in its range.
POLICY_LIMITS = {
    "login_attempts_per_address": (1, 100_000),
    "login_attempts_per_email_address": (1, 100_000),
    "login_attempts_per_email": (1, 1_000_000),
    "max_replays_per_user": (1, 10_000),
    "replays_created_per_hour": (1, 100_000),
    "max_websockets_per_user": (1, 100_000),
    "max_websockets_per_address": (1, 1_000_000),
    "max_accounts_per_user": (1, 100_000),
    "max_api_keys_per_user": (1, 100_000),
    "max_strategy_runs_per_user": (1, 100_000),
    "password_hash_threads": (1, 64),
    "password_hash_queue": (1, 100_000),
}


class ConfigurationError(Exception):
    """The environment describes a configuration the service must not start with."""


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@attrs.frozen
class Settings:
    environment: str = "development"
    debug: bool = False
    data_dir: Path = Path("var")
    #: By default the embedded SQLite file in the data dir.
    database_url: str = attrs.field(default=attrs.Factory(lambda self: sqlite_url(self.data_dir), takes_self=True))
    redis_url: str | None = None
    #: By default the object folder in the data dir.
    object_store_url: str = attrs.field(default=attrs.Factory(lambda self: objects_url(self.data_dir), takes_self=True))
    s3_endpoint_url: str | None = None
    symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT")
    bybit_ws_url: str = BYBIT_WS_URL
    bybit_rest_url: str = BYBIT_REST_URL
    bitget_ws_url: str = BITGET_WS_URL
    bitget_rest_url: str = BITGET_REST_URL
    feeds: tuple[str, ...] = DEFAULT_FEEDS
    feed_stale_seconds: float = 10.0
    #: Prefix of every Redis key and channel (lets several deployments or test runs share a server).
    redis_namespace: str = ""
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    #: How many partitions the order queue splits symbols into (the unit of work a worker owns).
    order_partitions: int = 8
    #: A worker that stops renewing loses its partitions after this long (then others rebuild them).
    worker_lease_ttl_ms: int = 10_000
    #: A queued command delivered to a worker that went silent is handed to another after this long.
    worker_reclaim_idle_ms: int = 15_000
    #: A recorded order no engine took in for this long is queued again (Redis may have forgotten it).
    worker_sweep_after_ms: int = 10_000
    #: A worker waits this long for more commands after a short read (latency for larger batches).
    worker_linger_ms: int = 2
    #: Login attempts a minute: from one address; at one email from one address; at one email from
    #: addresses that never logged in to it (the owner's own addresses are exempt from this ceiling).
    login_attempts_per_address: int = 20
    login_attempts_per_email_address: int = 5
    login_attempts_per_email: int = 50
    #: Quotas per user: replay sessions not yet ended, open WebSockets, accounts, API keys, strategy
    #: runs queued or running; and open WebSockets per client address.
    max_replays_per_user: int = 5
    #: Replay sessions (each with an account) one user may create in any hour.
    replays_created_per_hour: int = 60
    max_websockets_per_user: int = 20
    max_websockets_per_address: int = 200
    max_accounts_per_user: int = 20
    max_api_keys_per_user: int = 20
    max_strategy_runs_per_user: int = 5
    #: Threads that hash passwords, and how many hashes may wait for one before logins answer 503.
    password_hash_threads: int = 2
    password_hash_queue: int = 64
    #: `/metrics` on this port only (the api's own port answers 404 for it); unset: on the api's port.
    metrics_port: int | None = None
    #: When set, `/metrics` wants `Authorization: Bearer <token>`.
    metrics_token: str | None = attrs.field(default=None, repr=False)
    #: Requests per second each API key may send to each group of `/v5` endpoints (orders,
    #: positions, reads), counted over every api process (shared rate counters); beyond it Bybit's retCode 10006.
    bybit_rate_limit: int = 50
    #: TRADESIM_STRATEGIES_DIR: folders of Jesse strategies (``NAME/__init__.py``) beside the built-in ones.
    strategies_dirs: tuple[Path, ...] = ()
    #: TRADESIM_STRATEGY_RUNS: whether workers (and `serve`) run queued strategy backtests, when the
    #: jesse extra is installed. Each such process keeps a child process with Jesse loaded (~330 MB).
    strategy_runs: bool = True
    #: TRADESIM_STRATEGY_DEPLOYMENTS: whether workers (and `serve`) run live strategy deployments, when
    #: the jesse extra is installed (each such process imports Jesse once, on a thread, at start).
    strategy_deployments: bool = True
    #: None where the process signs no tokens (`Role.signs_tokens`); the api refuses to build without it.
    jwt_secret: str | None = attrs.field(default=None, repr=False)
    db_password: str | None = attrs.field(default=None, repr=False)
    bybit_api_key: str | None = attrs.field(default=None, repr=False)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, role: str = "serve") -> Settings:
        """Read the environment for the process `role` (a name in `roles.ROLES`).

        Raises `ConfigurationError` naming every problem found.
        """
        env = os.environ if environ is None else environ
        process = role_named(role)
        problems: list[str] = []
        environment = env.get("ENVIRONMENT", "development").strip().lower() or "development"
        if environment not in {"development", "production", "test"}:
            problems.append(f"ENVIRONMENT must be development, production or test, not {environment!r}")
        debug = _flag(env.get("DEBUG"))
        data_dir = Path(env.get("TRADESIM_DATA_DIR", "var"))
        database_url = env.get("TRADESIM_DATABASE_URL") or sqlite_url(data_dir)
        db_password = env.get("DB_PASSWORD") or None
        database_url = _with_password(database_url, db_password)
        object_store_url = env.get("TRADESIM_OBJECT_STORE_URL") or objects_url(data_dir)
        symbols = tuple(
            s.strip().upper() for s in env.get("TRADESIM_SYMBOLS", "BTCUSDT,ETHUSDT").split(",") if s.strip()
        )
        if not symbols:
            problems.append("TRADESIM_SYMBOLS names no symbol")
        port_text = env.get("TRADESIM_HTTP_PORT", "8000")
        port = int(port_text) if port_text.isdigit() and 0 < int(port_text) < 65536 else 0
        if not port:
            problems.append(f"TRADESIM_HTTP_PORT must be a port number, not {port_text!r}")
        partitions_text = env.get("TRADESIM_ORDER_PARTITIONS", "8")
        partitions = int(partitions_text) if partitions_text.isdigit() and 0 < int(partitions_text) <= 1024 else 0
        if not partitions:
            problems.append(f"TRADESIM_ORDER_PARTITIONS must be a number from 1 to 1024, not {partitions_text!r}")
        defaults = cls()
        worker_ms = {
            name: _milliseconds(env, f"TRADESIM_{name.upper()}", getattr(defaults, name), problems)
            for name in WORKER_TIMINGS
        }
        worker_linger_ms = _milliseconds(
            env, "TRADESIM_WORKER_LINGER_MS", defaults.worker_linger_ms, problems, low=0, high=100
        )
        policies = {
            name: _whole_number(env, f"TRADESIM_{name.upper()}", getattr(defaults, name), low, high, problems)
            for name, (low, high) in POLICY_LIMITS.items()
        }
        metrics_port_text = env.get("TRADESIM_METRICS_PORT", "")
        metrics_port = None
        if metrics_port_text:
            metrics_port = _whole_number(env, "TRADESIM_METRICS_PORT", 0, 1, 65535, problems) or None
            if metrics_port == port:
                problems.append("TRADESIM_METRICS_PORT must differ from TRADESIM_HTTP_PORT")
        feeds = _feeds(env.get("TRADESIM_FEEDS", ",".join(DEFAULT_FEEDS)), problems)
        stale_text = env.get("TRADESIM_FEED_STALE_SECONDS", "10")
        feed_stale_seconds = _positive_number(stale_text)
        if feed_stale_seconds is None:
            problems.append(f"TRADESIM_FEED_STALE_SECONDS must be a positive number of seconds, not {stale_text!r}")
        rate_text = env.get("TRADESIM_BYBIT_RATE_LIMIT", str(defaults.bybit_rate_limit))
        bybit_rate_limit = int(rate_text) if rate_text.isdigit() and 1 <= int(rate_text) <= 1_000_000 else 0
        if not bybit_rate_limit:
            problems.append(f"TRADESIM_BYBIT_RATE_LIMIT must be a number from 1 to 1000000, not {rate_text!r}")
        jwt_secret = env.get("JWT_SECRET") or None
        redis_url = _with_password(env.get("TRADESIM_REDIS_URL") or "", env.get("REDIS_AUTH_TOKEN")) or None
        if environment == "production":
            missing = [name for name in process.secrets if not env.get(name)]
            if missing:
                problems.append(f"missing secret(s) {', '.join(missing)} (inject them from Secrets Manager)")
            if not database_url.startswith("postgresql"):
                kind = "SQLite" if database_url.startswith("sqlite") else database_url.split(":", 1)[0]
                problems.append(f"TRADESIM_DATABASE_URL must point at PostgreSQL in production, not {kind}")
            if debug:
                problems.append("DEBUG must be off in production")
            if process.needs_redis and not redis_url:
                problems.append("TRADESIM_REDIS_URL must be set in production (the in-process bus serves one process)")
        elif process.signs_tokens and not jwt_secret:
            jwt_secret = _local_jwt_secret(data_dir)
        if problems:
            raise ConfigurationError("refusing to start: " + "; ".join(problems))
        return cls(
            environment=environment,
            debug=debug,
            data_dir=data_dir,
            database_url=database_url,
            redis_url=redis_url,
            object_store_url=object_store_url,
            s3_endpoint_url=env.get("TRADESIM_S3_ENDPOINT_URL") or None,
            symbols=symbols,
            bybit_ws_url=env.get("TRADESIM_BYBIT_WS_URL", BYBIT_WS_URL),
            bybit_rest_url=env.get("TRADESIM_BYBIT_REST_URL", BYBIT_REST_URL),
            bitget_ws_url=env.get("TRADESIM_BITGET_WS_URL", BITGET_WS_URL),
            bitget_rest_url=env.get("TRADESIM_BITGET_REST_URL", BITGET_REST_URL),
            feeds=feeds,
            feed_stale_seconds=feed_stale_seconds or 10.0,
            redis_namespace=env.get("TRADESIM_REDIS_NAMESPACE", ""),
            http_host=env.get("TRADESIM_HTTP_HOST", "127.0.0.1"),
            http_port=port,
            order_partitions=partitions,
            **worker_ms,
            worker_linger_ms=worker_linger_ms,
            **policies,
            metrics_port=metrics_port,
            metrics_token=env.get("TRADESIM_METRICS_TOKEN") or None,
            bybit_rate_limit=bybit_rate_limit or defaults.bybit_rate_limit,
            strategies_dirs=tuple(
                Path(part.strip()) for part in env.get("TRADESIM_STRATEGIES_DIR", "").split(",") if part.strip()
            ),
            strategy_runs=_flag(env.get("TRADESIM_STRATEGY_RUNS", "1")),
            strategy_deployments=_flag(env.get("TRADESIM_STRATEGY_DEPLOYMENTS", "1")),
            jwt_secret=jwt_secret,
            db_password=db_password,
            bybit_api_key=env.get("BYBIT_API_KEY") or None,
        )


def sqlite_url(data_dir: Path) -> str:
    """The embedded database: a SQLite file in the data dir."""
    return f"sqlite+aiosqlite:///{data_dir / 'tradesim.sqlite3'}"


def objects_url(data_dir: Path) -> str:
    """The embedded object store: a folder in the data dir."""
    return (data_dir / "objects").resolve().as_uri()


def _feeds(text: str, problems: list[str]) -> tuple[str, ...]:
    feeds = tuple(dict.fromkeys(name.strip().lower() for name in text.split(",") if name.strip()))
    unknown = [name for name in feeds if name not in FEEDS]
    if unknown or not feeds:
        problems.append(f"TRADESIM_FEEDS must name some of {', '.join(FEEDS)}, not {text!r}")
        return DEFAULT_FEEDS
    for category in ("linear", "spot"):
        venues = [name for name in feeds if name.endswith(f"-{category}")]
        if len(venues) > 1:
            problems.append(f"TRADESIM_FEEDS names {' and '.join(venues)}: choose one venue per category")
    return feeds


def _milliseconds(
    env: Mapping[str, str], name: str, default: int, problems: list[str], *, low: int = 100, high: int = 3_600_000
) -> int:
    text = env.get(name, str(default))
    if not text.isdigit() or not low <= int(text) <= high:
        problems.append(f"{name} must be a number of milliseconds from {low} to {high}, not {text!r}")
        return default
    return int(text)


def _whole_number(env: Mapping[str, str], name: str, default: int, low: int, high: int, problems: list[str]) -> int:
    text = env.get(name, str(default)).strip()
    if not text.isdigit() or not low <= int(text) <= high:
        problems.append(f"{name} must be a whole number from {low} to {high}, not {text!r}")
        return default
    return int(text)


def _positive_number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0 < value < float("inf") else None


def _with_password(url: str, password: str | None) -> str:
    """Put an injected secret into a URL that has none (DB_PASSWORD, REDIS_AUTH_TOKEN under ECS).

    PostgreSQL URLs carry a user; Redis AUTH tokens go in as the password of the default user.
    """
    if not password or not url.startswith(("postgresql", "redis")):
        return url
    parts = urlsplit(url)
    if parts.password or (url.startswith("postgresql") and not parts.username):
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:{quote(password, safe='')}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _local_jwt_secret(data_dir: Path) -> str:
    """Development only: a random secret generated on first run and kept under the data dir."""
    path = data_dir / "jwt_secret"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret)
    return secret
