"""Bar Replay sessions on in-memory ports: creating, controlling, pacing, trading, and the same-bar TP/SL rule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs
import pytest

from tests.support.candles import walk
from tests.support.replay_world import World, bar, limit, market
from tradesim.application.portfolio import PortfolioQueries
from tradesim.application.replay.prices import ReplayPrices
from tradesim.domain.bars import day_start_ms
from tradesim.domain.enums import Category, OrderStatus, Side, StopOrderType
from tradesim.domain.errors import InvalidInput, NotFound, UnknownSymbol
from tradesim.domain.events import OrderFilled, PositionChanged
from tradesim.domain.numbers import money_str
from tradesim.domain.replay_session import NoHistory, NotReplaySymbol, ReplayConflict, ReplayState

D1, D2, D4 = date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 4)
T1 = day_start_ms(D1)
MIN = 60_000


@pytest.fixture
async def world() -> World:
    w = World()
    # Two days, then a missing day, then one more: 2024-01-01, 01-02, (01-03 missing), 01-04.
    await w.store_history(walk("BTCUSDT", T1, 2 * 1440, seed=3) + walk("BTCUSDT", day_start_ms(D4), 1440, seed=4))
    return w


async def test_create_opens_a_paused_session_on_a_replay_account(world: World) -> None:
    view = await world.replays.create("user-1", "btcusdt", T1 + 90 * MIN + 5, "10", starting_balance="5000")
    session = view.session
    assert (session.state, session.symbol, session.cursor, session.speed) == (
        ReplayState.PAUSED,
        "BTCUSDT",
        T1 + 90 * MIN,
        Decimal(10),
    )
    async with world.uow() as uow:
        account = await uow.accounts.get(session.account_id)
        assert account is not None
        assert (account.kind, account.user_id) == ("replay", "user-1")
        assert await uow.balances.get(session.account_id) == {"USDT": Decimal(5000)}
    body = view.to_json()
    assert body["replayId"] == session.replay_id
    assert (body["state"], body["speed"], body["lastCandle"]) == ("paused", "10", None)


async def test_create_refuses_what_it_cannot_replay(world: World) -> None:
    with pytest.raises(NoHistory, match=r"on or after 2024-01-05 \(stored: 2024-01-01 to 2024-01-04\).*backfill"):
        await world.replays.create("user-1", "BTCUSDT", day_start_ms(date(2024, 1, 5)))
    with pytest.raises(NoHistory):
        await world.replays.create("user-1", "ETHUSDT", T1)
    with pytest.raises(UnknownSymbol):
        await world.replays.create("user-1", "DOGEUSDT", T1)
    for bad in ({"start": "yesterday"}, {"start": -1}, {"start": True}, {"start": T1, "speed": "5000"}):
        with pytest.raises(InvalidInput):
            await world.replays.create("user-1", "BTCUSDT", **bad)  # type: ignore[arg-type]


async def test_a_replay_belongs_to_its_user_only(world: World) -> None:
    view = await world.replays.create("user-1", "BTCUSDT", T1)
    with pytest.raises(NotFound):
        await world.replays.get("user-2", view.session.replay_id)
    with pytest.raises(NotFound):
        await world.replays.control("user-2", view.session.replay_id, "play")
    assert [v.session.replay_id for v in await world.replays.list("user-1")] == [view.session.replay_id]


async def test_step_plays_one_bar_and_pushes_it_as_a_kline(world: World) -> None:
    view = await world.replays.create("user-1", "BTCUSDT", T1 + 10 * MIN)
    drain = world.watch(view.session.replay_id, view.session.account_id)
    stepped = await world.replays.control("user-1", view.session.replay_id, "step")
    drain()
    first = attrs.evolve((await world.store.read_day("BTCUSDT", D1) or [])[10], turnover=None)
    assert [b.candle for b in world.played] == [first]
    assert world.played[0].message()["data"] == [
        {
            "start": first.open_time,
            "end": first.open_time + MIN - 1,
            "interval": "1",
            "open": str(first.open),
            "high": str(first.high),
            "low": str(first.low),
            "close": str(first.close),
            "volume": str(first.volume),
            "confirm": True,
        }
    ]
    assert (stepped.session.cursor, stepped.session.clock, stepped.session.bars_played) == (
        T1 + 11 * MIN,
        T1 + 11 * MIN - 1,
        1,
    )
    assert stepped.last_candle == first
    again = await world.replays.get("user-1", view.session.replay_id)
    assert again.session == stepped.session
    assert again.to_json()["lastCandle"] == world.played[0].kline()


async def test_play_keeps_the_speed_pause_stops_and_speed_changes_the_pace(world: World) -> None:
    view = await world.replays.create("user-1", "BTCUSDT", T1, "10")
    replay_id = view.session.replay_id
    await world.replays.control("user-1", replay_id, "play")
    world.monotonic.advance(1.0)
    assert await world.runner.round() == 10
    world.monotonic.advance(0.25)
    assert await world.runner.round() == 2  # 12.5 bars owed: 12 played in all
    await world.replays.control("user-1", replay_id, "speed", speed="100")
    world.monotonic.advance(0.5)
    assert await world.runner.round() == 50
    paused = await world.replays.control("user-1", replay_id, "pause")
    world.monotonic.advance(10)
    assert await world.runner.round() == 0
    assert paused.session.bars_played == 62
    assert paused.session.cursor == T1 + 62 * MIN
    with pytest.raises(ReplayConflict):
        await world.replays.control(
            "user-1", (await world.replays.control("user-1", replay_id, "play")).session.replay_id, "step"
        )


async def test_seek_jumps_to_a_date_and_skips_a_missing_day(world: World) -> None:
    view = await world.replays.create("user-1", "BTCUSDT", T1)
    replay_id = view.session.replay_id
    drain = world.watch(replay_id, view.session.account_id)
    await world.replays.control("user-1", replay_id, "seek", to=day_start_ms(D2) + 30 * MIN + 7)
    await world.replays.control("user-1", replay_id, "step")
    await world.replays.control("user-1", replay_id, "seek", to=day_start_ms(date(2024, 1, 3)) + 5 * MIN)
    await world.replays.control("user-1", replay_id, "step")
    drain()
    assert [b.candle.open_time for b in world.played] == [day_start_ms(D2) + 30 * MIN, day_start_ms(D4)]
    with pytest.raises(NoHistory):
        await world.replays.control("user-1", replay_id, "seek", to=day_start_ms(date(2024, 2, 1)))


async def test_playing_past_the_day_boundary_and_into_the_end(world: World) -> None:
    view = await world.replays.create("user-1", "BTCUSDT", day_start_ms(date(2024, 1, 3)) - 2 * MIN)
    replay_id = view.session.replay_id
    drain = world.watch(replay_id, view.session.account_id)
    active = await world.runner.acquire(replay_id)
    assert await world.runner.play_now(replay_id, 5) == 5
    drain()
    # The last two minutes of 01-02, then 01-04 (01-03 is missing).
    assert [b.candle.open_time for b in world.played] == [
        day_start_ms(date(2024, 1, 3)) - 2 * MIN,
        day_start_ms(date(2024, 1, 3)) - MIN,
        day_start_ms(D4),
        day_start_ms(D4) + MIN,
        day_start_ms(D4) + 2 * MIN,
    ]
    await world.runner.control(
        active.session,
        __import__("tradesim.domain.replay_session", fromlist=["ReplayControl"]).ReplayControl.parse(
            "seek", to=day_start_ms(D4) + 1438 * MIN
        ),
    )
    assert await world.runner.play_now(replay_id, 5) == 2
    finished = await world.replays.get("user-1", replay_id)
    assert finished.session.state is ReplayState.FINISHED
    with pytest.raises(ReplayConflict, match="end of stored history"):
        await world.replays.control("user-1", replay_id, "play")
    assert (await world.replays.control("user-1", replay_id, "seek", to=T1)).session.state is ReplayState.PAUSED


async def test_orders_go_through_the_api_and_fill_on_the_replay_price(world: World) -> None:
    view = await world.replays.create("user-1", "BTCUSDT", T1 + 5 * MIN)
    session = view.session
    drain = world.watch(session.replay_id, session.account_id)
    # Paused before any bar of its own, the session shows the engine the close of the bar before.
    before = (await world.store.read_day("BTCUSDT", D1) or [])[4]
    order_id = await world.trade("user-1", market(session.account_id, Side.BUY, "0.010"))
    drain()
    fills = [e for e in world.account_events if isinstance(e, OrderFilled)]
    assert [(f.order.order_id, f.execution.exec_price, f.execution.exec_time) for f in fills] == [
        (order_id, before.close, T1 + 5 * MIN - 1)
    ]
    async with world.uow() as uow:
        stored = await uow.orders.get(order_id)
        position = await uow.positions.get(session.account_id, "BTCUSDT")
    assert stored is not None
    assert stored.status is OrderStatus.FILLED
    assert position is not None
    assert position.size == Decimal("0.010")
    assert not world.live.engine.has_account(session.account_id)  # the live engine never saw it


async def test_a_resting_limit_fills_at_its_price_when_a_bar_reaches_it() -> None:
    w = World()
    start = day_start_ms(date(2024, 6, 1))
    await w.store_history(
        [bar(start, "100.0", "100.5", "99.5", "100.0"), bar(start + MIN, "100.0", "100.2", "97.0", "98.0")]
    )
    view = await w.replays.create("user-1", "BTCUSDT", start)
    s = view.session
    await w.replays.control("user-1", s.replay_id, "step")
    order_id = await w.trade("user-1", limit(s.account_id, Side.BUY, "0.100", "98.5"))
    drain = w.watch(s.replay_id, s.account_id)
    await w.replays.control("user-1", s.replay_id, "step")
    drain()
    [fill] = [e for e in w.account_events if isinstance(e, OrderFilled)]
    assert (fill.order.order_id, fill.execution.exec_price, fill.execution.is_maker) == (
        order_id,
        Decimal("98.5"),
        True,
    )
    # A bearish bar goes open, high, low, close: the low is its third tick, half way through the minute.
    assert fill.execution.exec_time == start + MIN + 30_000


@pytest.mark.parametrize(
    ("bar_prices", "closed_by", "exec_price"),
    [
        # Bullish bar (close >= open): open -> low -> high -> close. The stop-loss below is touched first.
        (("30000.0", "30150.0", "29850.0", "30050.0"), StopOrderType.STOP_LOSS, Decimal("29850.0")),
        # Bearish bar: open -> high -> low -> close. The take-profit above is touched first.
        (("30000.0", "30150.0", "29850.0", "29950.0"), StopOrderType.TAKE_PROFIT, Decimal("30150.0")),
    ],
)
async def test_stop_loss_and_take_profit_in_the_same_bar_resolve_by_the_bars_colour(
    bar_prices: tuple[str, str, str, str], closed_by: StopOrderType, exec_price: Decimal
) -> None:
    w = World()
    start = day_start_ms(date(2024, 6, 1))
    o, h, low, c = bar_prices
    await w.store_history([bar(start, "30000.0", "30000.0", "30000.0", "30000.0"), bar(start + MIN, o, h, low, c)])
    for _ in range(3):  # the same every time
        view = await w.replays.create("user-1", "BTCUSDT", start)
        s = view.session
        await w.replays.control("user-1", s.replay_id, "step")
        await w.trade(
            "user-1",
            market(s.account_id, Side.BUY, "0.010", take_profit=Decimal("30100.0"), stop_loss=Decimal("29900.0")),
        )
        drain = w.watch(s.replay_id, s.account_id)
        w.account_events.clear()
        await w.replays.control("user-1", s.replay_id, "step")
        drain()
        closing = [e for e in w.account_events if isinstance(e, OrderFilled)]
        assert [(f.order.stop_order_type, f.execution.exec_price) for f in closing] == [(closed_by, exec_price)]
        [flat] = [e for e in w.account_events if isinstance(e, PositionChanged)][-1:]
        assert flat.position.size == 0


async def test_a_restarting_live_worker_leaves_replay_accounts_to_their_sessions(world: World) -> None:
    view = await world.replays.create("user-1", "BTCUSDT", T1 + 5 * MIN)
    s = view.session
    await world.replays.control("user-1", s.replay_id, "step")
    await world.trade("user-1", limit(s.account_id, Side.BUY, "0.010", "20000.0"))  # rests
    assert await world.live.restore_all() == 0
    assert not world.live.engine.has_account(s.account_id)


async def test_a_view_shows_the_price_the_session_trades_at_and_a_replay_account_is_valued_at_it(
    world: World,
) -> None:
    day1 = [attrs.evolve(c, turnover=None) for c in await world.store.read_day("BTCUSDT", D1) or []]
    day2 = await world.store.read_day("BTCUSDT", D2) or []
    view = await world.replays.create("user-1", "BTCUSDT", T1 + 5 * MIN)
    s = view.session
    # Nothing played yet: the close of the bar before the start, which the engine is shown on loading.
    assert (view.last_candle, view.last_price, view.to_json()["lastPrice"]) == (
        None,
        day1[4].close,
        money_str(day1[4].close),
    )
    await world.trade("user-1", market(s.account_id, Side.BUY, "0.010"))
    stepped = await world.replays.control("user-1", s.replay_id, "step")
    assert (stepped.last_candle, stepped.last_price) == (day1[5], day1[5].close)

    portfolio = PortfolioQueries(world.uow, world.catalog, ReplayPrices(world.cache))
    live_marks = {"BTCUSDT": Decimal(1)}  # whatever the live market does, a replay account never sees it
    _, wallet = await portfolio.account("user-1", s.account_id, live_marks)
    assert wallet.unrealised_pnl == (day1[5].close - day1[4].close) * Decimal("0.010")

    sought = await world.replays.control("user-1", s.replay_id, "seek", to=day_start_ms(D2) + 10 * MIN)
    assert (sought.last_candle, sought.last_price) == (None, day2[9].close)
    _, wallet = await portfolio.account("user-1", s.account_id, live_marks)
    assert wallet.unrealised_pnl == (day2[9].close - day1[4].close) * Decimal("0.010")
    first = await world.replays.control("user-1", s.replay_id, "seek", to=T1)
    assert (first.last_candle, first.last_price, first.to_json()["lastPrice"]) == (None, None, "")

    sought.session.check_tradable("BTCUSDT", Category.LINEAR)
    with pytest.raises(NotReplaySymbol, match="plays BTCUSDT"):
        sought.session.check_tradable("ETHUSDT", Category.LINEAR)
    with pytest.raises(NotReplaySymbol):
        sought.session.check_tradable("BTCUSDT", Category.SPOT)
