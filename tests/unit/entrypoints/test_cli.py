import subprocess
import sys

import pytest

from tradesim.entrypoints.cli.main import main

COMMANDS = ["serve", "api", "worker", "streamer", "history", "db"]


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert command in out


@pytest.mark.parametrize(
    "argv",
    [["history", "sync", "--help"], ["history", "backfill", "--help"], ["db", "upgrade", "--help"]],
)
def test_every_subcommand_has_help(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 0


def test_console_script_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tradesim.entrypoints.cli.main", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert "history" in result.stdout


@pytest.mark.parametrize("argv", [["serve"]])
def test_a_command_not_built_yet_says_so_and_fails(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "not built yet" in capsys.readouterr().err


def test_api_refuses_a_production_environment_without_secrets(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    for name in ("JWT_SECRET", "DB_PASSWORD", "BYBIT_API_KEY", "TRADESIM_DATABASE_URL", "TRADESIM_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    assert main(["api"]) == 2
    assert "refusing to start" in capsys.readouterr().err
