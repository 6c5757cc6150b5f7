"""The baseline of the tick benchmark: the matching engine with its trigger index replaced by a linear scan.

`NaiveScanEngine` is `MatchingEngine` in every respect (validation, margin, fills, positions,
ledger, events) except how it finds the orders a tick makes due: instead of looking at the tops
of price-ordered heaps, every tick walks through every resting and untriggered order of the
symbol and tests each one with the same rule the heaps encode:

- a resting Limit Buy is due when last <= price, a Limit Sell when last >= price;
- a conditional order is due when its trigger price (last or mark, as it asks) has risen to the
  trigger (triggerDirection 1) or fallen to it (triggerDirection 2).

Due orders are handled in the engine's order (rising then falling last-price triggers, then
mark-price triggers, then buy and sell limits; nearest the price first, ties first-in first-out)
by the engine's own `triggers.trigger` and `triggers.fill_resting`, so both engines emit identical events for
the same input; the benchmark checks that. Liquidations, which are per position rather than per
order, keep the engine's own heaps.

It replaces the engine's two hooks for finding due orders (`_due`, `_match`) and the class that
keeps each instrument's state; it is a benchmark fixture, not an alternative implementation.
"""

from __future__ import annotations

from decimal import Decimal

from tradesim.domain import MatchingEngine, Order, OrderStatus, OrderType, Side
from tradesim.domain.engine import liquidation, triggers
from tradesim.domain.engine.state import Events, InstrumentState
from tradesim.domain.enums import TriggerBy, TriggerDirection
from tradesim.domain.instruments import Instrument

#: Groups in the engine's handling order: rise last, fall last, rise mark, fall mark, buy limits, sell limits.
_GROUPS = 6
_MAX_ROUNDS = 10_000

# An entry: (group, uses mark price, due when the price rises to it, level, sequence number).
Entry = tuple[int, bool, bool, Decimal, int]


def _entry(order: Order, seq: int) -> Entry | None:
    """Where `order` waits and how it becomes due, as `InstrumentState.index` files it; None if it does not rest."""
    if order.trigger_price is not None and order.status is OrderStatus.UNTRIGGERED:
        by_mark = order.trigger_by is TriggerBy.MARK_PRICE
        rises = order.trigger_direction is TriggerDirection.RISES_TO
        group = (2 if by_mark else 0) + (0 if rises else 1)
        return group, by_mark, rises, order.trigger_price, seq
    if order.order_type is OrderType.LIMIT and order.price is not None:
        is_buy = order.side is Side.BUY
        return (4 if is_buy else 5), False, not is_buy, order.price, seq
    return None


class ScanInstrumentState(InstrumentState):
    """An instrument's state that keeps its resting orders in one plain dict instead of price heaps."""

    __slots__ = ("indexed", "resting")

    def __init__(self, instrument: Instrument) -> None:
        super().__init__(instrument)
        self.resting: dict[str, Entry] = {}
        self.indexed = 0  # counts insertions, so a scan knows when it has gone out of date

    def index(self, order: Order, seq: int) -> None:
        entry = _entry(order, seq)
        if entry is not None:
            self.resting[order.order_id] = entry
            self.indexed += 1

    def unindex(self, order: Order) -> None:
        self.resting.pop(order.order_id, None)


class NaiveScanEngine(MatchingEngine):
    """`MatchingEngine` whose per-tick search for due orders is a scan of the symbol's resting orders."""

    instrument_state = ScanInstrumentState

    @staticmethod
    def _due(book: InstrumentState, last: Decimal, mark: Decimal) -> bool:
        assert isinstance(book, ScanInstrumentState)
        for _, by_mark, rises, level, _ in book.resting.values():
            price = mark if by_mark else last
            if (price >= level) if rises else (price <= level):
                return True
        liq_long = book.liq_long.entries
        liq_short = book.liq_short.entries
        return bool((liq_long and liq_long[0][0] <= -mark) or (liq_short and liq_short[0][0] <= mark))

    @staticmethod
    def _scan(book: ScanInstrumentState, last: Decimal, mark: Decimal) -> list[list[tuple[Decimal, int, str]]]:
        """Every due order, per group, nearest the price first (ties by sequence)."""
        due: list[list[tuple[Decimal, int, str]]] = [[] for _ in range(_GROUPS)]
        for order_id, (group, by_mark, rises, level, seq) in book.resting.items():
            price = mark if by_mark else last
            if (price >= level) if rises else (price <= level):
                due[group].append((level if rises else -level, seq, order_id))
        for entries in due:
            entries.sort()
        return due

    def _match(self, book: InstrumentState, last: Decimal, mark: Decimal) -> Events:
        assert isinstance(book, ScanInstrumentState)
        state = self._state
        events: Events = []
        for _ in range(_MAX_ROUNDS):
            before = len(events)
            due = self._scan(book, last, mark)
            indexed = book.indexed
            for group in range(_GROUPS):
                if book.indexed != indexed:  # handling an order filed a new one: look again
                    due = self._scan(book, last, mark)
                    indexed = book.indexed
                handle = triggers.trigger if group < 4 else triggers.fill_resting
                for _, seq, order_id in due[group]:
                    entry = book.resting.get(order_id)
                    if entry is None or entry[4] != seq:  # cancelled or re-filed since the scan
                        continue
                    del book.resting[order_id]
                    events.extend(handle(state, order_id, book))
            for heap in (book.liq_long, book.liq_short):
                while (account_id := heap.pop_due(mark)) is not None:
                    events.extend(liquidation.liquidate(state, account_id, book))
            if len(events) == before:
                break
        return events
