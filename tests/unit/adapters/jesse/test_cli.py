"""`tradesim strategies list|backtest`, run as a user runs them: a separate process, outside pytest.

Jesse behaves differently when it detects pytest (`PYTEST_CURRENT_TEST`), so these processes get an
environment without it; they also show that the runner works the way a worker runs it.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.support.candles import walk
from tradesim.adapters.localfs.stores import local_candle_store
from tradesim.domain.bars import day_start_ms
from tradesim.entrypoints.cli.main import main

pytestmark = pytest.mark.slow


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "TRADESIM_"))}
    env.update(TRADESIM_DATA_DIR=str(tmp_path / "var"), JESSE_CACHE_DIR=str(tmp_path / "jesse-cache"), **extra)
    return env


def _cli(tmp_path: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tradesim.entrypoints.cli.main", "strategies", *argv],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(tmp_path, **env),
        timeout=240,
    )


def test_help_does_not_need_jesse(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["strategies", "backtest", "--help"])
    assert exit_info.value.code == 0
    assert "--hp NAME=VALUE" in capsys.readouterr().out


def test_list_shows_builtins_and_broken_operator_strategies(tmp_path: Path) -> None:
    (tmp_path / "mine" / "Broken").mkdir(parents=True)
    (tmp_path / "mine" / "Broken" / "__init__.py").write_text("import nothing_here\n")
    result = _cli(tmp_path, "list", "--json", TRADESIM_STRATEGIES_DIR=str(tmp_path / "mine"))
    assert result.returncode == 0, result.stderr
    listed = {i["name"]: i for i in json.loads(result.stdout)["list"]}
    assert listed["SmaCross"]["source"] == "builtin"
    assert "ModuleNotFoundError" in listed["Broken"]["error"]
    assert "Broken" in result.stderr  # and in the log


def test_backtest_prints_the_run_with_a_progress_bar(tmp_path: Path) -> None:
    store = local_candle_store(tmp_path / "var" / "objects")
    day0 = date(2024, 2, 1)
    candles = walk("BTCUSDT", day_start_ms(day0), 3 * 1440, seed=4)
    for day in range(3):
        asyncio.run(store.write_day("BTCUSDT", day0 + timedelta(days=day), candles[day * 1440 : (day + 1) * 1440]))
    argv = ["backtest", "--strategy", "SmaCross", "--symbol", "btcusdt", "--timeframe", "5m"]
    result = _cli(tmp_path, *argv, "--start", "2024-02-02", "--end", "2024-02-03", "--hp", "fast=4", "--json")
    assert result.returncode == 0, result.stderr
    run = json.loads(result.stdout)
    assert run["status"] == "finished"
    assert run["start"] == day_start_ms(date(2024, 2, 2))
    assert run["end"] == day_start_ms(date(2024, 2, 4))
    assert int(run["metrics"]["total"]) == len(run["trades"]) > 0
    assert "100%" in result.stderr
    bad = _cli(tmp_path, *argv, "--start", "2024-02-03", "--end", "2024-02-02")
    assert bad.returncode == 2
    assert "--end is before --start" in bad.stderr
