"""`tradesim streamer`: exchange prices into the bus, closed candles into the database.

Which venues: TRADESIM_FEEDS (bybit-linear, bybit-spot, bitget-linear, bitget-spot; default
bybit-linear); which symbols: TRADESIM_SYMBOLS. Prices go to Redis when TRADESIM_REDIS_URL
is set (channels prefixed with TRADESIM_REDIS_NAMESPACE), else to the in-process bus.
SIGTERM or SIGINT stops it cleanly: feeds closed, pending candles written, the bus flushed.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from tradesim.entrypoints.cli.common import run_async

if TYPE_CHECKING:
    from tradesim.entrypoints.settings import Settings

#: Seconds between two log lines of counters.
REPORT_EVERY = 60.0
#: Seconds a shutdown may spend writing pending candles and flushing the bus.
SHUTDOWN_GRACE = 5.0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    streamer = commands.add_parser(
        "streamer",
        help="stream exchange prices into the bus",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    streamer.set_defaults(handler=run)


#: The streamer allocates short-lived, acyclic objects for every message (dicts, Decimals,
#: events) that reference counting frees at once; the collector's frequent young-generation
#: passes find nothing to collect and cost about 6% of throughput (bench/streamer.py).
GC_THRESHOLD = (100_000, 50, 100)


def tune_gc() -> None:
    """Make the cyclic garbage collector run rarely in this process, as `tradesim streamer` does."""
    from tradesim.entrypoints.heap import tune_heap

    tune_heap(GC_THRESHOLD)


def run(_: argparse.Namespace) -> int:
    import logging

    from tradesim.entrypoints.settings import ConfigurationError, Settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
    except ConfigurationError as exc:
        print(f"tradesim streamer: {exc}", file=sys.stderr)
        return 2
    return run_async(serve(settings), gc_threshold=GC_THRESHOLD)


async def serve(settings: Settings) -> int:
    """Run until SIGTERM/SIGINT (0) or until the streamer fails (1)."""
    import asyncio
    import contextlib
    import logging
    import signal

    from tradesim.entrypoints.bootstrap import prepare_database
    from tradesim.entrypoints.container import build_container

    log = logging.getLogger("tradesim.streamer")
    await prepare_database(settings)
    container = build_container(settings)
    streamer = container.streamer()
    feeds = container.market_data.feeds()
    bus = container.messaging.price_bus()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    def report() -> None:
        for feed in feeds:
            log.info("%s: %s", feed.name, feed.stats.snapshot())
        log.info("streamer: %s, candles pending %d", streamer.stats, streamer.candles.pending)

    async def report_periodically() -> None:
        while True:
            await asyncio.sleep(REPORT_EVERY)
            report()

    log.info("streaming %s for %s", ", ".join(settings.feeds), ", ".join(settings.symbols))
    running = asyncio.create_task(streamer.run(), name="streamer")
    stopping = asyncio.create_task(stop.wait())
    reporter = asyncio.create_task(report_periodically())
    await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
    failed = running.done() and not running.cancelled() and running.exception() is not None
    if failed:
        log.error("the streamer stopped", exc_info=running.exception())
    for task in (running, stopping, reporter):
        task.cancel()
    await asyncio.gather(running, stopping, reporter, return_exceptions=True)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(SHUTDOWN_GRACE):
            await streamer.candles.drain()
    close = getattr(bus, "aclose", None)
    if close is not None:
        await close()
    report()
    log.info("stopped")
    return 1 if failed else 0
