"""`tradesim streamer`: exchange prices into the bus, closed candles into the database.

Which venues: TRADESIM_FEEDS (bybit-linear, bybit-spot, bitget-linear, bitget-spot; default
bybit-linear); which symbols: TRADESIM_SYMBOLS. Prices go to Redis when TRADESIM_REDIS_URL
is set (channels prefixed with TRADESIM_REDIS_NAMESPACE), else to the in-process bus.
SIGTERM or SIGINT stops it cleanly: feeds closed, pending candles written, the bus flushed.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tradesim.entrypoints.runner import Process

#: Seconds between two log lines of counters.
REPORT_EVERY = 60.0
#: Seconds a shutdown may spend writing pending candles (the bus is flushed by the container's shutdown).
SHUTDOWN_GRACE = 5.0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    streamer = commands.add_parser(
        "streamer",
        help="stream exchange prices into the bus",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    streamer.set_defaults(handler=run)


def tune_gc() -> None:
    """Make the cyclic garbage collector run rarely in this process, as `tradesim streamer` does."""
    from tradesim.entrypoints.heap import tune_heap
    from tradesim.entrypoints.roles import STREAMER_GC

    tune_heap(STREAMER_GC)


def run(_: argparse.Namespace) -> int:
    from tradesim.entrypoints.runner import run_role

    return run_role("streamer", "streamer", serve)


async def serve(process: Process) -> None:
    """Run until SIGTERM/SIGINT; an error of the streamer's escapes (the process exits 1)."""
    import asyncio
    import contextlib
    import logging

    log = logging.getLogger("tradesim.streamer")
    streamer = process.container.streamer()
    feeds = process.container.market_data.feeds()

    def report() -> None:
        for feed in feeds:
            log.info("%s: %s", feed.name, feed.stats.snapshot())
        log.info("streamer: %s, candles pending %d", streamer.stats, streamer.candles.pending)

    async def report_periodically() -> None:
        while True:
            await asyncio.sleep(REPORT_EVERY)
            report()

    log.info("streaming %s for %s", ", ".join(process.settings.feeds), ", ".join(process.settings.symbols))
    try:
        await process.supervise(
            {"streamer": streamer.run(), "report": report_periodically()}, cancel_on_stop={"streamer", "report"}
        )
    finally:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SHUTDOWN_GRACE):
                await streamer.candles.drain()
        report()
        log.info("stopped")
