"""The replay runner: determinism, surviving a restart, leases, the inbox, and the shared day cache."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date

import attrs
import pytest

from tests.support.candles import walk
from tests.support.replay_world import World, limit, market
from tests.waiting import until
from tradesim.adapters.memory.replays import MemoryReplayBarBus
from tradesim.adapters.memory.storage import MemoryCandleStore
from tradesim.application.replay.cache import BarCache
from tradesim.application.replay.routing import ReplayCommandRouter
from tradesim.application.replay.runner import ReplayElsewhere
from tradesim.application.replay.service import InboxDispatch
from tradesim.domain.bars import DayBars, day_start_ms
from tradesim.domain.enums import Side
from tradesim.domain.events import OrderFilled
from tradesim.domain.replay_session import ReplayBar, ReplayState

T1 = day_start_ms(date(2024, 1, 1))
MIN = 60_000


async def history_world() -> World:
    w = World()
    await w.store_history(walk("BTCUSDT", T1, 2 * 1440, seed=21))
    return w


async def play_until(w: World, replay_id: str, cursor: int) -> None:
    """Play bars (however many it takes, whatever the speed) until the session's next bar opens at `cursor`."""
    active = await w.runner.acquire(replay_id)
    while active.session.cursor < cursor:
        await w.runner.play_now(replay_id, 1)


async def scripted_session(w: World, *, crash: bool = False) -> tuple[list[object], list[object], object]:
    """Step, trade, play, pause, trade, play on: what a trader does. With `crash`, the runner dies midway
    (in the middle of playing, with bars played since the last save) and another takes the session over."""
    view = await w.replays.create("user-1", "BTCUSDT", T1 + 30 * MIN, "20")
    s = view.session
    drain = w.watch(s.replay_id, s.account_id)
    for _ in range(3):
        await w.replays.control("user-1", s.replay_id, "step")
    drain()
    last = w.played[-1].candle
    entry = market(s.account_id, Side.BUY, "0.050", take_profit=last.close + 80, stop_loss=last.close - 50)
    await w.trade("user-1", entry)
    await w.trade("user-1", limit(s.account_id, Side.SELL, "0.020", str(last.close + 6)))
    await w.trade("user-1", limit(s.account_id, Side.BUY, "0.010", str(last.close - 30)))
    await w.replays.control("user-1", s.replay_id, "play")
    await play_until(w, s.replay_id, T1 + 150 * MIN)
    w.wall.advance(31_000)  # the runner's lease lapses (in both runs, so that every timestamp matches)
    if crash:
        w.crash_and_restart("runner-2")
        await w.runner.round()  # adopts the orphan from its stored state
        # The bars played since the last save are lost with the runner: they play again, to the same effect.
        assert w.runner.active[s.replay_id].session.cursor < T1 + 150 * MIN
    await play_until(w, s.replay_id, T1 + 400 * MIN)
    await w.replays.control("user-1", s.replay_id, "pause")
    await w.trade("user-1", market(s.account_id, Side.SELL, "0.010", reduce_only=True))
    await w.replays.control("user-1", s.replay_id, "speed", speed="1000")
    await w.replays.control("user-1", s.replay_id, "play")
    await play_until(w, s.replay_id, T1 + 1500 * MIN)
    final = await w.replays.get("user-1", s.replay_id)
    drain()
    bars = list({b.candle.open_time: b.kline() for b in w.played}.values())  # a restart may push a bar twice
    return bars, [repr(e) for e in w.account_events], attrs.evolve(final.session, owner="", lease_until=0)


async def test_the_same_session_twice_gives_the_same_bars_and_events() -> None:
    first = await scripted_session(await history_world())
    second = await scripted_session(await history_world())
    bars, events, _ = first
    assert len(bars) == 1500 - 30
    fills = [e for e in events if isinstance(e, str) and e.startswith("OrderFilled")]
    # The entry, both resting limits, the reduce-only exit and the take-profit.
    assert len(fills) == 5
    assert "stop_order_type=<StopOrderType.TAKE_PROFIT" in fills[-1]
    assert second == first


async def test_a_crashed_runner_is_replaced_and_the_session_goes_on_exactly_as_if_not() -> None:
    straight = await scripted_session(await history_world())
    w = await history_world()
    restarted = await scripted_session(w, crash=True)
    assert w.runner.owner == "runner-2"
    assert restarted == straight


async def test_a_session_held_by_a_live_runner_cannot_be_taken() -> None:
    w = await history_world()
    view = await w.replays.create("user-1", "BTCUSDT", T1)
    await w.replays.control("user-1", view.session.replay_id, "play")
    other = w.new_runner("runner-2")
    with pytest.raises(ReplayElsewhere):
        await other.acquire(view.session.replay_id)
    await w.runner.close()  # a clean shutdown saves and releases at once
    taken = await other.acquire(view.session.replay_id)
    assert taken.session.state is ReplayState.PLAYING


async def test_controls_and_orders_through_the_inbox_reach_the_runner_that_holds_the_session() -> None:
    w = await history_world()
    api = w.service(InboxDispatch(w.inbox))
    view = await api.create("user-1", "BTCUSDT", T1 + 10 * MIN, "10")
    s = view.session
    await w.runner.acquire(s.replay_id)  # a worker holds it
    drain = w.watch(s.replay_id, s.account_id)
    expected = await api.control("user-1", s.replay_id, "step")
    assert expected.session.state is ReplayState.PAUSED  # what the api can say before the worker acts
    await w.runner.round()
    w.router = ReplayCommandRouter(w.uow, InboxDispatch(w.inbox), w.live.handle)
    order_id = await w.trade("user-1", market(s.account_id, Side.BUY, "0.010"))
    await w.runner.round()
    drain()
    assert [b.candle.open_time for b in w.played] == [T1 + 10 * MIN]
    assert [e.order.order_id for e in w.account_events if isinstance(e, OrderFilled)] == [order_id]
    assert (await api.get("user-1", s.replay_id)).session.bars_played == 1


async def test_the_runner_loop_plays_and_stops_cleanly() -> None:
    w = await history_world()
    view = await w.replays.create("user-1", "BTCUSDT", T1, "1000")
    await w.replays.control("user-1", view.session.replay_id, "play")
    stop = asyncio.Event()
    task = asyncio.create_task(w.runner.run(stop))
    replay_id = view.session.replay_id

    def played(bars: int) -> bool:
        w.monotonic.advance(0.1)  # time moves on while the loop runs
        active = w.runner.active.get(replay_id)
        return active is not None and active.session.bars_played >= bars

    await until(lambda: played(100), step=0.03)
    stop.set()
    await asyncio.wait_for(task, 5)
    async with w.uow() as uow:
        stored = await uow.replays.get(view.session.replay_id)
    assert stored is not None
    assert stored.bars_played >= 100
    assert (stored.owner, stored.state) == ("", ReplayState.PLAYING)  # saved, lease released, still playing
    assert w.runner.active == {}


class SlowStore(MemoryCandleStore):
    """Reads take a moment, as a disk or S3 would: long enough for a second reader to arrive."""

    async def read_bars(self, symbol: str, days: Sequence[date]) -> list[DayBars | None]:
        await asyncio.sleep(0.01)
        return await super().read_bars(symbol, days)


async def test_the_cache_shares_loads_and_evicts_least_recently_used_days() -> None:
    store = SlowStore()
    for d in range(1, 5):
        day = date(2024, 1, d)
        await store.write_day("BTCUSDT", day, walk("BTCUSDT", day_start_ms(day), 100, seed=d))
    one_day = (await store.read_bars("BTCUSDT", [date(2024, 1, 1)]))[0]
    assert one_day is not None
    cache = BarCache(store, max_bytes=2 * one_day.nbytes)
    store.reads = 0
    a, b = await asyncio.gather(cache.day("BTCUSDT", date(2024, 1, 1)), cache.day("BTCUSDT", date(2024, 1, 1)))
    assert a is b
    assert store.reads == 1
    await cache.days("BTCUSDT", [date(2024, 1, 2), date(2024, 1, 9)])
    assert len(cache) == 2
    await cache.day("BTCUSDT", date(2024, 1, 1))  # touch: now the most recent
    await cache.day("BTCUSDT", date(2024, 1, 3))  # evicts 01-02, the least recently used
    assert cache.bytes <= cache.max_bytes
    reads = store.reads
    await cache.day("BTCUSDT", date(2024, 1, 1))
    assert store.reads == reads
    await cache.day("BTCUSDT", date(2024, 1, 2))
    assert store.reads == reads + 1
    assert (cache.hits, cache.misses) == (2, 5)


async def test_runners_adopt_sessions_that_need_one_and_let_idle_ones_go() -> None:
    w = await history_world()
    api = w.service(InboxDispatch(w.inbox))
    quiet = (await api.create("user-1", "BTCUSDT", T1)).session
    asked = (await api.create("user-1", "BTCUSDT", T1)).session
    await w.runner.round()
    assert w.runner.active == {}  # paused, nothing asked: no runner needed
    await api.control("user-1", asked.replay_id, "play")
    w.monotonic.advance(1)  # runners look for sessions to adopt every second
    await w.runner.round()
    assert list(w.runner.active) == [asked.replay_id]
    assert w.runner.active[asked.replay_id].session.state is ReplayState.PLAYING
    await api.control("user-1", asked.replay_id, "pause")
    w.monotonic.advance(1)
    await w.runner.round()
    assert not w.runner.active[asked.replay_id].playing
    w.monotonic.advance(601)  # paused and untouched for longer than `release_idle_s`
    await w.runner.round()
    assert w.runner.active == {}
    async with w.uow() as uow:
        stored = await uow.replays.get(asked.replay_id)
    assert stored is not None
    assert (stored.owner, stored.state) == ("", ReplayState.PAUSED)
    assert quiet.replay_id not in w.runner.active


async def test_split_takes_replay_commands_out_of_a_worker_batch() -> None:
    w = await history_world()
    s = (await w.replays.create("user-1", "BTCUSDT", T1 + 5 * MIN)).session
    live_account = await w.accounts.open("user-1", "Live")
    replay_order = market(s.account_id, Side.BUY, "0.010", order_id="r-1")
    live_order = market(live_account.account_id, Side.BUY, "0.010", order_id="l-1")
    drain = w.watch(s.replay_id, s.account_id)
    assert await w.router.split([live_order, replay_order, live_order]) == [live_order, live_order]
    drain()
    assert [e.order.order_id for e in w.account_events if isinstance(e, OrderFilled)] == ["r-1"]


class Refusing:
    """The database's `available` switch, off, counting how often the code under test asked it."""

    def __init__(self) -> None:
        self.asked = 0

    def __bool__(self) -> bool:
        self.asked += 1
        return False


class GatedBars(MemoryReplayBarBus):
    """A bar bus whose publishing waits for a gate: a round caught in the middle of playing."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.gate.set()
        self.waiting = 0

    async def publish(self, bar: ReplayBar) -> None:
        self.waiting += 1
        await self.gate.wait()
        self.waiting -= 1
        await super().publish(bar)


async def test_a_control_waits_for_the_bars_a_round_is_playing_and_none_play_after_it() -> None:
    """In-process controls (`serve`) and the runner's loop take turns on a session, as inbox messages do."""
    w = await history_world()
    w.bars = GatedBars()
    w.runner = w.new_runner("runner-1")
    w.replays = w.service(w.runner)
    replay_id = (await w.replays.create("user-1", "BTCUSDT", T1, "10")).session.replay_id
    await w.replays.control("user-1", replay_id, "play")
    w.monotonic.advance(1.0)
    w.bars.gate.clear()
    playing = asyncio.create_task(w.runner.round())  # 10 bars due; stuck publishing the first
    await until(lambda: w.bars.waiting)
    pausing = asyncio.create_task(w.replays.control("user-1", replay_id, "pause"))
    # The pause has had its chance: it is queued for the session's lock, or it is done (a failure).
    await until(lambda: w.runner.active[replay_id].lock._waiters or pausing.done())
    assert not pausing.done(), "the pause waits for the bars being played"
    w.bars.gate.set()
    assert await playing == 10
    paused = await pausing
    assert (paused.session.state, paused.session.bars_played) == (ReplayState.PAUSED, 10)
    w.monotonic.advance(5.0)
    assert await w.runner.round() == 0
    assert w.runner.active[replay_id].session.bars_played == 10


async def test_the_runner_loop_rides_out_a_database_outage_and_plays_on() -> None:
    w = await history_world()
    view = await w.replays.create("user-1", "BTCUSDT", T1, "1000")
    await w.replays.control("user-1", view.session.replay_id, "play")
    refusing = Refusing()
    w.database.available = refusing  # type: ignore[assignment]
    stop = asyncio.Event()
    task = asyncio.create_task(w.runner.run(stop))
    # Refused, and back for more after its idle wait: the refusal did not end the loop.
    await until(lambda: refusing.asked >= 2 or task.done(), within=10)
    assert not task.done()  # a worker must not die because the database is away
    w.database.available = True
    replay_id = view.session.replay_id
    async with asyncio.timeout(5):  # it tries again after its idle wait, and plays on
        while w.runner.active[replay_id].session.bars_played < 10:
            w.monotonic.advance(0.1)
            await asyncio.sleep(0.03)
    stop.set()
    await asyncio.wait_for(task, 5)
    async with w.uow() as uow:
        stored = await uow.replays.get(replay_id)
    assert stored is not None
    assert stored.bars_played >= 10  # saved on the way out
