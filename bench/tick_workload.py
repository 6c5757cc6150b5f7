"""The resting-order workload of the tick benchmark, planned up front and the same for every engine.

`build_plan` lays out, for one book size, everything an engine will be given: the opening
tickers, then segments of (orders to place, tickers to replay). Orders are spread over ten
symbols and six kinds, one per way an order becomes due:

===========  =======================================  ===========================
kind         order                                    due when
===========  =======================================  ===========================
buy limit    Limit Buy below the market               last <= price
sell limit   Limit Sell above the market              last >= price
rise last    conditional Market, triggerDirection 1   last >= trigger
fall last    conditional Market, triggerDirection 2   last <= trigger
rise mark    conditional Market, triggerDirection 1   mark >= trigger
fall mark    conditional Market, triggerDirection 2   mark <= trigger
===========  =======================================  ===========================

Every order sits 2% to 20% away from its symbol's centre price; the tickers wander within 1% of
it, so a plain tick makes nothing due. About one tick in a hundred (`SPIKE_RATE`) is a spike to
the nearest order of one kind on one symbol, which fills or triggers it and whatever else that
price reaches. The plan keeps its own model of which orders are left (a heap per symbol and
kind, nearest first), so it knows where the next spike must go and how many orders each segment
consumed; the next segment opens by placing that many new orders, so every segment starts with
exactly `size` resting orders. A segment ends with one plain tick per symbol, so those placements
meet prices inside the band (a conditional order is checked against the last price). Everything
comes from one seeded `random.Random`.
"""

from __future__ import annotations

import heapq
import random
from decimal import Decimal

import attrs

from synthetic import SYNTHETIC_SPECS, synthetic_catalog
from tradesim.domain import (
    InstrumentCatalog,
    OrderType,
    PlaceOrder,
    Side,
    Ticker,
    TriggerBy,
    TriggerDirection,
)

CENTRE_TICKS = 1_000_000
BAND_TICKS = CENTRE_TICKS // 100  # plain ticks stay within 1% of the centre
NEAR_TICKS = CENTRE_TICKS * 2 // 100  # orders rest 2%...
FAR_TICKS = CENTRE_TICKS * 20 // 100  # ...to 20% away
STEP_TICKS = 100  # the largest move of a plain tick
MARK_SPREAD_TICKS = 20  # |mark - last| at most
SPIKE_RATE = 0.01
SEGMENT_TICKS = 2_000
TICK_SPACING_MS = 10  # a segment spans 20 s, inside the engine's 30 s price-age limit
ACCOUNTS = 100
ACCOUNT_BALANCE = Decimal(1_000_000_000)  # large enough that no position ever nears liquidation
START_MS = 1_700_000_000_000

# kind: (uses mark price, due when the price rises to it)
KINDS: tuple[tuple[bool, bool], ...] = (
    (False, False),  # buy limit
    (False, True),  # sell limit
    (False, True),  # rise last
    (False, False),  # fall last
    (True, True),  # rise mark
    (True, False),  # fall mark
)


def account_id(number: int) -> str:
    return f"acc-{number:03d}"


@attrs.frozen
class Segment:
    """Place `placements` with the clock at `place_ms`, then replay `tickers` with the clock at `replay_ms`."""

    place_ms: int
    placements: list[PlaceOrder]
    replay_ms: int
    tickers: list[Ticker]


@attrs.frozen
class Plan:
    size: int
    catalog: InstrumentCatalog
    opening_ms: int
    opening: list[Ticker]
    segments: list[Segment]
    spikes: int
    consumed: int

    @property
    def tick_count(self) -> int:
        return sum(len(segment.tickers) for segment in self.segments)


class _Symbol:
    """The plan's model of one symbol: its walk, its tick grid and the levels still resting, per kind."""

    def __init__(self, symbol: str, tick: str, qty: str) -> None:
        self.symbol = symbol
        self.tick = Decimal(tick)
        self.qty = Decimal(qty)
        self.offset = 0  # the walk, in ticks from the centre
        # Per kind a heap of (distance key, level); the key is the level for rising kinds, minus it otherwise.
        self.levels: list[list[tuple[int, int]]] = [[] for _ in KINDS]

    def price(self, ticks: int) -> Decimal:
        return ticks * self.tick

    def add(self, kind: int, level: int) -> None:
        rises = KINDS[kind][1]
        heapq.heappush(self.levels[kind], (level if rises else -level, level))

    def consume(self, last: int, mark: int) -> int:
        """Drop every level that `last` / `mark` makes due; return how many."""
        count = 0
        for kind, (by_mark, rises) in enumerate(KINDS):
            heap = self.levels[kind]
            price = mark if by_mark else last
            bound = price if rises else -price
            while heap and heap[0][0] <= bound:
                heapq.heappop(heap)
                count += 1
        return count


class _Planner:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.symbols = [_Symbol(symbol, tick, qty) for symbol, tick, _, qty in SYNTHETIC_SPECS]
        self.placed = 0

    def new_order(self) -> PlaceOrder:
        """One more resting order, on a symbol, kind and level drawn at random."""
        rng = self.rng
        number = self.placed
        self.placed += 1
        book = self.symbols[number % len(self.symbols)]
        kind = rng.randrange(len(KINDS))
        by_mark, rises = KINDS[kind]
        distance = rng.randrange(NEAR_TICKS, FAR_TICKS)
        level = CENTRE_TICKS + distance if rises else CENTRE_TICKS - distance
        book.add(kind, level)
        owner = account_id(number % ACCOUNTS)
        price = book.price(level)
        if kind < 2:
            side = Side.BUY if kind == 0 else Side.SELL
            return PlaceOrder(owner, book.symbol, side, OrderType.LIMIT, book.qty, price=price)
        return PlaceOrder(
            owner,
            book.symbol,
            Side.BUY if rng.random() < 0.5 else Side.SELL,
            OrderType.MARKET,
            book.qty,
            trigger_price=price,
            trigger_direction=TriggerDirection.RISES_TO if rises else TriggerDirection.FALLS_TO,
            trigger_by=TriggerBy.MARK_PRICE if by_mark else TriggerBy.LAST_PRICE,
        )

    def ticker(self, book: _Symbol, last: int, mark: int, ts: int) -> Ticker:
        return Ticker(
            symbol=book.symbol,
            last_price=book.price(last),
            bid_price=book.price(last - 1),
            ask_price=book.price(last + 1),
            mark_price=book.price(mark),
            ts=ts,
        )

    def next_ticker(self, ts: int) -> tuple[Ticker, int]:
        """A plain tick, or (at `SPIKE_RATE`) a spike; returns it and how many orders it consumes."""
        rng = self.rng
        book = self.symbols[rng.randrange(len(self.symbols))]
        skew = rng.randint(-MARK_SPREAD_TICKS, MARK_SPREAD_TICKS)
        kinds = [kind for kind, heap in enumerate(book.levels) if heap]
        if kinds and rng.random() < SPIKE_RATE:
            kind = rng.choice(kinds)
            level = book.levels[kind][0][1]
            by_mark = KINDS[kind][0]
            last, mark = (level - skew, level) if by_mark else (level, level + skew)
            return self.ticker(book, last, mark, ts), book.consume(last, mark)
        return self.plain_ticker(book, skew, ts), 0

    def plain_ticker(self, book: _Symbol, skew: int, ts: int) -> Ticker:
        """The symbol's walk moves one step (reflected at the band's edges)."""
        offset = book.offset + self.rng.randint(-STEP_TICKS, STEP_TICKS)
        if abs(offset) > BAND_TICKS:
            offset = (2 * BAND_TICKS - abs(offset)) * (1 if offset > 0 else -1)
        book.offset = offset
        last = CENTRE_TICKS + offset
        return self.ticker(book, last, last + skew, ts)


def build_plan(size: int, ticks: int, *, seed: int) -> Plan:
    """`size` resting orders over ten symbols and `ticks` tickers in segments of `SEGMENT_TICKS`."""
    planner = _Planner(seed)
    now = START_MS
    opening = [planner.ticker(book, CENTRE_TICKS, CENTRE_TICKS, now) for book in planner.symbols]
    opening_ms = now
    segments: list[Segment] = []
    to_place = size
    spikes = consumed = 0
    while sum(len(s.tickers) for s in segments) < ticks:
        now += TICK_SPACING_MS
        place_ms = now
        placements = [planner.new_order() for _ in range(to_place)]
        count = min(SEGMENT_TICKS, ticks - sum(len(s.tickers) for s in segments))
        tickers: list[Ticker] = []
        to_place = 0
        settle = min(len(planner.symbols), count)
        for _ in range(count - settle):
            now += TICK_SPACING_MS
            ticker, used = planner.next_ticker(now)
            tickers.append(ticker)
            if used:
                spikes += 1
                to_place += used
        # The segment closes with a plain tick on every symbol, so the next placements meet band prices.
        for book in planner.symbols[:settle]:
            now += TICK_SPACING_MS
            tickers.append(planner.plain_ticker(book, 0, now))
        consumed += to_place
        segments.append(Segment(place_ms, placements, now, tickers))
    return Plan(size, synthetic_catalog(), opening_ms, opening, segments, spikes, consumed)
