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
