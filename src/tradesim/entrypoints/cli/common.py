"""Types and helpers shared by the command modules."""

from __future__ import annotations

import argparse
import asyncio
import gc
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

Handler = Callable[[argparse.Namespace], int]
T = TypeVar("T")


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """Run a long-lived command's `main` on uvloop where it is installed, else on asyncio's loop.

    uvloop roughly halves the loop's own cost per socket read and write, which is most of what
    the api and the workers do between statements.
    """
    # What the process imported and built so far lives as long as it does: keep it out of every
    # future collection, and collect the young generation less often (a server allocates many
    # short-lived objects per request, almost none of them in cycles).
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
    try:
        import uvloop
    except ImportError:  # Windows, or the bare library install
        return asyncio.run(main)
    return uvloop.run(main)
