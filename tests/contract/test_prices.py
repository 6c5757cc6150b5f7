"""Contract of the price ports: `LiveQuotes` (every adapter in `QUOTES_BACKENDS`) and `PriceSource`
(the account-aware source over every unit-of-work backend, so over every store it reads)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from tests.contract import records
from tests.support.candles import walk
from tradesim.adapters.memory.prices import FixedQuotes
from tradesim.adapters.memory.storage import MemoryCandleStore
from tradesim.application.directory import AccountDirectory
from tradesim.application.prices import AccountPrices
from tradesim.application.replay.cache import BarCache
from tradesim.application.replay.prices import ReplayPrices
from tradesim.domain.accounts import Account, AccountKind
from tradesim.domain.bars import day_of
from tradesim.domain.enums import Category
from tradesim.domain.market import Ticker
from tradesim.domain.replay_session import NotReplaySymbol, ReplaySession
from tradesim.entrypoints.http.tickers import TickerCache
from tradesim.ports.prices import LiveQuotes
from tradesim.ports.unit_of_work import UnitOfWork

UowFactory = Callable[[], UnitOfWork]
Setter = Callable[[str, Decimal, Decimal], None]
T0 = records.T0
DAY_MS = 86_400_000
QUOTES_BACKENDS = ["memory", "tickers"]


@pytest.fixture(params=QUOTES_BACKENDS)
def quotes(request: pytest.FixtureRequest) -> tuple[LiveQuotes, Setter]:
    """(quotes, how to move a symbol's last and mark price on that adapter)."""
    if request.param == "memory":
        fixed = FixedQuotes()
        return fixed, fixed.set
    cache = TickerCache(["BTCUSDT", "ETHUSDT"])

    def update(symbol: str, last: Decimal, mark: Decimal) -> None:
        cache.update(Ticker(symbol, last, last, last, mark, T0))

    return cache, update


def test_quotes_are_unknown_until_a_price_arrives(quotes: tuple[LiveQuotes, Setter]) -> None:
    live, _ = quotes
    assert live.last_price("BTCUSDT") is None
    assert live.marks() == {}


def test_quotes_keep_the_latest_price_and_give_a_copy_of_the_marks(quotes: tuple[LiveQuotes, Setter]) -> None:
    live, move = quotes
    move("BTCUSDT", Decimal("30000.5"), Decimal("30001"))
    move("BTCUSDT", Decimal("30010.5"), Decimal("30011"))
    move("ETHUSDT", Decimal("2000"), Decimal("2000.1"))
    assert live.last_price("BTCUSDT") == Decimal("30010.5")
    marks = live.marks()
    assert marks == {"BTCUSDT": Decimal("30011"), "ETHUSDT": Decimal("2000.1")}
    marks["BTCUSDT"] = Decimal(0)
    assert live.marks()["BTCUSDT"] == Decimal("30011")


async def _source(uow_factory: UowFactory) -> tuple[AccountPrices, FixedQuotes, ReplaySession, list[Decimal]]:
    """A live account `acc-live`, a replay account `acc-r1` whose session has played two bars."""
    start = T0 - T0 % DAY_MS
    bars = walk("BTCUSDT", start, 5)
    store = MemoryCandleStore()
    session = ReplaySession.new("rep-1", "user-1", "acc-r1", "BTCUSDT", start, "1", T0)
    for bar in bars[:2]:
        session = session.played(bar, id_seq=0)
    async with uow_factory() as uow:
        await uow.accounts.add(Account("acc-live", "user-1", "Live", T0))
        await uow.accounts.add(Account("acc-r1", "user-1", "Replay", T0, kind=AccountKind.REPLAY))
        await uow.replays.add(session)
        await uow.candle_files.record(await store.write_day("BTCUSDT", day_of(start), bars))
        await uow.commit()
    live = FixedQuotes()
    source = AccountPrices(live, ReplayPrices(BarCache(store)), AccountDirectory(uow_factory), uow_factory)
    return source, live, session, [b.close for b in bars]


async def test_a_live_account_trades_and_is_valued_at_the_live_market(uow_factory: UowFactory) -> None:
    source, live, _, _ = await _source(uow_factory)
    assert await source.last_price("acc-live", "BTCUSDT") is None
    assert await source.marks("acc-live") == {}
    live.set("BTCUSDT", Decimal("30000"), Decimal("30002"))
    assert await source.last_price("acc-live", "BTCUSDT") == Decimal("30000")
    assert await source.last_price("acc-missing", "BTCUSDT") == Decimal("30000")
    assert await source.marks("acc-live") == {"BTCUSDT": Decimal("30002")}


async def test_a_replay_account_trades_and_is_valued_at_its_session_only(uow_factory: UowFactory) -> None:
    source, live, session, closes = await _source(uow_factory)
    live.set("BTCUSDT", Decimal("1"), Decimal("1"))  # whatever the live market does, a replay never sees it
    assert await source.last_price("acc-r1", "BTCUSDT") == closes[1]
    assert await source.marks("acc-r1") == {"BTCUSDT": closes[1]}
    with pytest.raises(NotReplaySymbol, match="plays BTCUSDT"):
        await source.last_price("acc-r1", "ETHUSDT")
    with pytest.raises(NotReplaySymbol):
        await source.last_price("acc-r1", "BTCUSDT", Category.SPOT)
    assert session.replay_id == "rep-1"
