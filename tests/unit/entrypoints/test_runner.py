"""The process runner: settings per role, the container's lifetime, supervised tasks, exit codes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tradesim.entrypoints.container import build_container
from tradesim.entrypoints.roles import ROLES, ContainerOptions
from tradesim.entrypoints.runner import Process, run_role
from tradesim.entrypoints.settings import ConfigurationError, Settings

PRODUCTION_STREAMER = {
    "ENVIRONMENT": "production",
    "TRADESIM_DATABASE_URL": "postgresql+asyncpg://tradesim@db.internal:5432/tradesim",
    "TRADESIM_REDIS_URL": "rediss://cache.internal:6379/0",
    "DB_PASSWORD": "pw",
}


def _environ(tmp_path: Path) -> dict[str, str]:
    return {"TRADESIM_DATA_DIR": str(tmp_path), "TRADESIM_DATABASE_URL": "memory://"}


def test_a_role_missing_its_secret_exits_2_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    async def main(_: Process) -> int:
        raise AssertionError("must not run")

    env = {**PRODUCTION_STREAMER, "DB_PASSWORD": ""}
    assert run_role("streamer", "streamer", main, environ=env, long_running=False) == 2
    assert "tradesim streamer: refusing to start: missing secret(s) DB_PASSWORD" in capsys.readouterr().err


def test_main_gets_the_roles_container_with_its_resources_started_then_closed(tmp_path: Path) -> None:
    seen: dict[str, object] = {}

    async def main(process: Process) -> int:
        seen["role"] = process.role.name
        seen["owner"] = process.container.replay.owner()
        seen["engine"] = process.container.persistence.engine.initialized
        seen["process"] = process
        return 7

    assert run_role("serve", "serve", main, environ=_environ(tmp_path), long_running=False) == 7
    assert seen["role"] == "serve"
    assert seen["owner"] == "serve", "the role's container options reached the container"
    assert seen["engine"] is True
    process = seen["process"]
    assert isinstance(process, Process)
    assert not process.container.persistence.engine.initialized, "shut down with the process"
    assert process.stop.is_set()


def test_a_commands_options_replace_the_roles(tmp_path: Path) -> None:
    seen: list[str] = []

    async def main(process: Process) -> None:
        seen.append(process.container.core.options().history_source)

    options = ContainerOptions(history_source="bitget")
    assert run_role("history", "sync", main, options=options, environ=_environ(tmp_path), long_running=False) == 0
    assert seen == ["bitget"]


def test_an_error_escaping_main_exits_1_and_a_configuration_error_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def broken(_: Process) -> None:
        raise RuntimeError("a bug")

    async def misconfigured(_: Process) -> None:
        raise ConfigurationError("TRADESIM_SOMETHING is wrong")

    assert run_role("worker", "worker", broken, environ=_environ(tmp_path), long_running=False) == 1
    assert run_role("worker", "worker", misconfigured, environ=_environ(tmp_path), long_running=False) == 2
    assert "tradesim worker: TRADESIM_SOMETHING is wrong" in capsys.readouterr().err


def _process(tmp_path: Path) -> Process:
    settings = Settings(data_dir=tmp_path, database_url="memory://")
    return Process("test", ROLES["worker"], settings, build_container(settings), asyncio.Event())


async def test_supervise_stops_every_task_when_one_fails_and_raises_its_error(tmp_path: Path) -> None:
    process = _process(tmp_path)
    stopped: list[str] = []

    async def watcher() -> None:
        await process.stop.wait()
        stopped.append("watcher")

    async def failing() -> None:
        await asyncio.sleep(0)
        raise RuntimeError("engine broke")

    async def forever() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            stopped.append("forever")

    with pytest.raises(RuntimeError, match="engine broke"):
        await process.supervise(
            {"watcher": watcher(), "engine": failing(), "forever": forever()}, cancel_on_stop={"forever"}
        )
    assert sorted(stopped) == ["forever", "watcher"]
    assert process.stop.is_set()


async def test_supervise_returns_once_stopped_and_cancels_what_outlives_the_grace(tmp_path: Path) -> None:
    process = _process(tmp_path)
    ended: list[str] = []

    async def watcher() -> None:
        await process.stop.wait()
        ended.append("watcher")

    async def deaf() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            ended.append("deaf cancelled")
            raise

    supervising = asyncio.create_task(process.supervise({"watcher": watcher(), "deaf": deaf()}, grace=0))
    await asyncio.sleep(0)
    process.stop.set()  # as SIGTERM does
    await supervising
    assert sorted(ended) == ["deaf cancelled", "watcher"]
