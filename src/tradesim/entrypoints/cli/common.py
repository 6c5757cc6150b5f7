"""Types and helpers shared by the command modules."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from tradesim.entrypoints.heap import SERVER_THRESHOLD, tune_heap

Handler = Callable[[argparse.Namespace], int]
T = TypeVar("T")


def run_async(main: Coroutine[Any, Any, T], *, gc_threshold: tuple[int, int, int] = SERVER_THRESHOLD) -> T:
    """Run a long-lived command's `main` on uvloop where it is installed, else on asyncio's loop.

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
