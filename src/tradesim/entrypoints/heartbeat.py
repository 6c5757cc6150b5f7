"""A heartbeat file for the processes that serve no HTTP (worker, streamer), and its probe.

While the process runs, `beat` rewrites `heartbeat_path(data_dir, role)` every `EVERY` seconds
from the event loop: a process whose loop is stuck, or that stopped, leaves it to age.
`python -m tradesim.entrypoints.probe heartbeat ROLE` (the health check of compose and of the ECS
task definitions) fails once it is older than `MAX_AGE`. Standard library only: the probe runs it
in a fresh interpreter every few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from pathlib import Path

EVERY = 5.0
log = logging.getLogger("tradesim.heartbeat")

#: Several missed beats, so that one slow moment of a busy machine is not a death.
MAX_AGE = 30.0


def heartbeat_path(data_dir: Path, role: str) -> Path:
    return data_dir / "heartbeat" / role


def write(path: Path) -> None:
    """Replace the file at once (a reader never sees it half written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(f"{time.time():.3f} {os.getpid()}\n", encoding="ascii")
    partial.replace(path)


async def beat(path: Path, every: float = EVERY) -> None:
    """Rewrite the heartbeat until cancelled; then remove it (a stopped process is not healthy).

    A heartbeat that cannot be written is logged (the health check will fail; the log says why).
    """
    failing = False
    try:
        while True:
            try:
                write(path)  # a few bytes on a local disk, every few seconds
                failing = False
            except OSError as error:
                if not failing:
                    log.error("cannot write the heartbeat %s: %s (the health check will fail)", path, error)
                failing = True
            await asyncio.sleep(every)
    finally:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)  # noqa: ASYNC240 (one small local file, at shutdown)


def age(path: Path, now: float | None = None) -> float | None:
    """Seconds since the last beat, None when there is no heartbeat."""
    try:
        written = float(path.read_text(encoding="ascii").split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return (time.time() if now is None else now) - written
