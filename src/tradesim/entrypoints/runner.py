"""The one way every `tradesim` command runs a process.

`run_role(command, role, main)` reads the settings for the role (exit 2 naming every problem),
sets up logging, and on the event loop (uvloop where installed): migrates the embedded SQLite
file when the role does, builds the container with the role's `ContainerOptions` (or the
command's), starts every container resource, installs SIGTERM/SIGINT (long-running commands),
keeps the role's heartbeat, runs `main(process)`, and whatever happens shuts every resource down.
`main` returns the exit code (None for 0); an error that escapes it is logged and exits 1, a
`ConfigurationError` exits 2.

`Process.supervise` runs a command's long-lived tasks: until a signal or until one of them ends,
then it stops the others (they watch `process.stop`, or are cancelled) and raises the error of
one that failed.

A new command: a module under `cli/` with `register(commands)` (listed in `cli/main.py`) whose
handler returns `run_role("name", ROLE, main)`; `main` gets the container from `process` and
returns an exit code.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Collection, Coroutine, Mapping
from typing import Any

import attrs

from tradesim.entrypoints.container import Container
from tradesim.entrypoints.containers.core import Started
from tradesim.entrypoints.heap import tune_heap
from tradesim.entrypoints.heartbeat import beat, heartbeat_path
from tradesim.entrypoints.roles import ContainerOptions, Role, role_named
from tradesim.entrypoints.settings import ConfigurationError, Settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
#: Seconds the tasks of a stopping process get to finish before they are cancelled.
STOP_GRACE = 15.0

log = logging.getLogger("tradesim.process")


@attrs.define
class Process:
    """What a command's `main` runs with."""

    command: str
    role: Role
    settings: Settings
    container: Container
    #: Set by SIGTERM/SIGINT, or when a supervised task ends: everything long-lived watches it.
    stop: asyncio.Event

    async def supervise(
        self,
        jobs: Mapping[str, Coroutine[Any, Any, object]],
        *,
        cancel_on_stop: Collection[str] = (),
        grace: float = STOP_GRACE,
    ) -> None:
        """Run `jobs` until `stop` is set or one of them ends; then set `stop`, cancel those named in
        `cancel_on_stop` (they do not watch it), give the rest `grace` seconds, cancel what is left,
        and raise the error of the first that failed."""
        tasks = [asyncio.create_task(job, name=name) for name, job in jobs.items()]
        stopping = asyncio.create_task(self.stop.wait(), name="stop")
        try:
            done, _ = await asyncio.wait([stopping, *tasks], return_when=asyncio.FIRST_COMPLETED)
            for task in done - {stopping}:
                if not task.cancelled() and task.exception() is None:
                    log.warning("%s: %s ended on its own; stopping the process", self.command, task.get_name())
        finally:
            self.stop.set()
            stopping.cancel()
            for task in tasks:
                if task.get_name() in cancel_on_stop:
                    task.cancel()
            if tasks:
                _, late = await asyncio.wait(tasks, timeout=grace)
                for task in late:
                    log.warning("%s: %s did not stop within %g s; cancelled", self.command, task.get_name(), grace)
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
        for task in tasks:
            if not task.cancelled() and (error := task.exception()) is not None:
                raise error


Main = Callable[[Process], Awaitable[int | None]]


def run_role(
    command: str,
    role: str,
    main: Main,
    *,
    options: ContainerOptions | None = None,
    long_running: bool = True,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Run `main` as a process of `role`; returns the exit code. `options` replaces the role's
    container options (a command's own flags); `long_running` installs the signal handlers and the
    heartbeat (one-shot commands keep Python's default: Ctrl-C interrupts them)."""
    the_role = role_named(role)
    try:
        settings = Settings.from_env(environ, role=the_role.name)
    except ConfigurationError as error:
        print(f"tradesim {command}: {error}", file=sys.stderr)
        return EXIT_USAGE
    if long_running:
        # One-shot commands print their own report; they leave logging as they find it (a test
        # that runs them in-process keeps its own).
        configure_process_logging()
    lifetime = _lifetime(command, the_role, settings, options or the_role.container, main, long_running)
    try:
        if long_running:
            return run_async(lifetime, gc_threshold=the_role.gc_threshold)
        return asyncio.run(lifetime)
    except ConfigurationError as error:
        print(f"tradesim {command}: {error}", file=sys.stderr)
        return EXIT_USAGE


async def _lifetime(
    command: str, role: Role, settings: Settings, options: ContainerOptions, main: Main, long_running: bool
) -> int:
    from tradesim.entrypoints.bootstrap import prepare_database
    from tradesim.entrypoints.container import build_container

    if role.migrates_sqlite:
        await prepare_database(settings)
    container = build_container(settings, options)
    process = Process(command, role, settings, container, asyncio.Event())
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT) if long_running else ()
    for signum in signals:
        loop.add_signal_handler(signum, process.stop.set)
    heartbeat = (
        asyncio.create_task(beat(heartbeat_path(settings.data_dir, role.name)), name="heartbeat")
        if long_running and role.heartbeat
        else None
    )
    try:
        await _settle(container.init_resources(Started))
        code = await main(process)
        return EXIT_OK if code is None else code
    except ConfigurationError:
        raise
    except Exception:
        log.exception("tradesim %s failed", command)
        return EXIT_FAILED
    finally:
        process.stop.set()
        if heartbeat is not None:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
        for signum in signals:
            loop.remove_signal_handler(signum)
        await _settle(container.shutdown_resources())


def run_async(main: Coroutine[Any, Any, int], *, gc_threshold: tuple[int, int, int]) -> int:
    """Run a long-lived process's `main` on uvloop where it is installed, else on asyncio's loop.

    uvloop roughly halves the loop's own cost per socket read and write, which is most of what
    the api and the workers do between statements.
    """
    # What the process imported and built so far lives as long as it does.
    tune_heap(gc_threshold)
    try:
        import uvloop
    except ImportError:  # Windows, or the bare library install
        return asyncio.run(main)
    return uvloop.run(main)


def configure_process_logging() -> None:
    """structlog's JSON lines on stdout (the api's access log), the standard library's records on stderr."""
    from tradesim.entrypoints.http.observability import configure_logging

    configure_logging()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


async def _settle(result: object) -> None:
    # dependency-injector returns an awaitable only when some resource is asynchronous.
    if inspect.isawaitable(result):
        await result
