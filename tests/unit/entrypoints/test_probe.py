"""The heartbeat the worker and the streamer keep, and the probe their health checks run."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.waiting import until
from tradesim.entrypoints import heartbeat
from tradesim.entrypoints.probe import main, probe_heartbeat


async def test_a_beating_process_is_healthy_and_a_stopped_one_is_not(tmp_path: Path) -> None:
    env = {"TRADESIM_DATA_DIR": str(tmp_path)}
    path = heartbeat.heartbeat_path(tmp_path, "worker")
    assert probe_heartbeat("worker", env) == f"no heartbeat at {path}"
    beating = asyncio.create_task(heartbeat.beat(path))
    await until(path.exists)
    assert probe_heartbeat("worker", env) is None
    beating.cancel()
    with pytest.raises(asyncio.CancelledError):
        await beating
    assert not path.exists(), "a stopped process leaves no heartbeat behind"


def test_an_old_heartbeat_is_unhealthy_and_says_how_old(tmp_path: Path) -> None:
    path = heartbeat.heartbeat_path(tmp_path, "streamer")
    path.parent.mkdir(parents=True)
    path.write_text(f"{time.time() - heartbeat.MAX_AGE - 30:.3f} 1\n")
    problem = probe_heartbeat("streamer", {"TRADESIM_DATA_DIR": str(tmp_path)})
    assert problem is not None
    assert "s old (more than 30)" in problem


def test_the_probe_exits_1_when_unhealthy_and_2_on_bad_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRADESIM_DATA_DIR", str(tmp_path))
    assert main(["heartbeat", "worker"]) == 1
    assert "unhealthy: no heartbeat" in capsys.readouterr().err
    heartbeat.write(heartbeat.heartbeat_path(tmp_path, "worker"))
    assert main(["heartbeat", "worker"]) == 0
    assert main(["sideways"]) == 2
    assert "usage:" in capsys.readouterr().err


async def test_a_heartbeat_that_cannot_be_written_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the heartbeat folder should be")
    beating = asyncio.create_task(heartbeat.beat(blocked / "worker"))
    await until(lambda: "cannot write the heartbeat" in caplog.text)
    beating.cancel()
    with pytest.raises(asyncio.CancelledError):
        await beating
