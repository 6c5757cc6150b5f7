"""Everything the engine remembers between events: one `EngineState`, its accounts and its instruments.

The rule modules of this package are functions over an `EngineState` that return events; the
state holds no rule of its own beyond keeping its indexes consistent.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from tradesim.domain.engine.config import EngineConfig
from tradesim.domain.engine.holds import Reservations
from tradesim.domain.enums import Category, OrderStatus, OrderType, Side, StopOrderType, TriggerBy, TriggerDirection
from tradesim.domain.errors import NotFound, UnknownSymbol
from tradesim.domain.events import EngineEvent
from tradesim.domain.instruments import Instrument, InstrumentCatalog, InstrumentKey
from tradesim.domain.numbers import ZERO
from tradesim.domain.orders import Order
from tradesim.domain.positions import Position
from tradesim.domain.trigger_index import PriceHeap

Events = list[EngineEvent]


class AccountState:
    """Balances per coin, linear positions per symbol (flat ones keep leverage), open orders and what they hold."""

    __slots__ = (
        "account_id",
        "balances",
        "open_orders",
        "orders_by_instrument",
        "positions",
        "reduce_only_orders",
        "reservations",
        "tpsl",
    )

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id
        self.balances: dict[str, Decimal] = {}
        self.positions: dict[str, Position] = {}
        self.open_orders: set[str] = set()
        #: The same ids by (category, symbol): liquidating a position looks only at that
        #: instrument's orders, not at every order of the account.
        self.orders_by_instrument: dict[tuple[Category, str], set[str]] = {}
        #: symbol -> the open reduce-only linear orders: what closing or flipping the position cancels.
        self.reduce_only_orders: dict[str, set[str]] = {}
        #: What each open order holds back (see `reservations`).
        self.reservations = Reservations()
        #: (symbol, StopOrderType) -> order id of the position's full-size take-profit / stop-loss.
        self.tpsl: dict[tuple[str, StopOrderType], str] = {}

    def balance(self, coin: str) -> Decimal:
        return self.balances.get(coin, ZERO)

    def orders_on(self, category: Category, symbol: str) -> list[str]:
        """Open order ids on one instrument, in id order (a copy: safe to cancel while iterating)."""
        return sorted(self.orders_by_instrument.get((category, symbol), ()))

    def reserved_in(self, coin: str) -> Decimal:
        return self.reservations.total(coin)


class InstrumentState:
    """One instrument's latest prices and funding, and eight heaps, one per way an order can become due."""

    __slots__ = (
        "accounts_with_position",
        "ask",
        "ask_size",
        "awaiting_book",
        "bid",
        "bid_size",
        "buy_limits",
        "funding_rate",
        "funding_settled_at",
        "instrument",
        "last",
        "last_fall",
        "last_rise",
        "liq_long",
        "liq_short",
        "mark",
        "mark_fall",
        "mark_rise",
        "next_funding_time",
        "sell_limits",
        "stale",
        "ts",
    )

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.last: Decimal | None = None
        self.bid: Decimal | None = None
        self.ask: Decimal | None = None
        self.mark: Decimal | None = None
        self.bid_size: Decimal | None = None
        self.ask_size: Decimal | None = None
        self.ts = 0
        self.stale = False
        self.funding_rate: Decimal | None = None
        self.next_funding_time: int | None = None
        self.funding_settled_at = 0
        self.buy_limits = PriceHeap(highest_first=True)
        self.sell_limits = PriceHeap(highest_first=False)
        self.last_rise = PriceHeap(highest_first=False)
        self.last_fall = PriceHeap(highest_first=True)
        self.mark_rise = PriceHeap(highest_first=False)
        self.mark_fall = PriceHeap(highest_first=True)
        self.liq_long = PriceHeap(highest_first=True)
        self.liq_short = PriceHeap(highest_first=False)
        self.accounts_with_position: set[str] = set()
        #: Limit orders that have not met the book (in arrival order), kept out of the limit heaps: placed
        #: or amended while there was no fresh price, or a remainder still crossing the book after taking
        #: its displayed size. The next fresh ticker matches them as if they had just arrived.
        self.awaiting_book: dict[str, None] = {}

    def is_fresh(self, now: int, max_age_ms: int) -> bool:
        return self.last is not None and not self.stale and now - self.ts <= max_age_ms

    def trigger_heap(self, order: Order) -> PriceHeap:
        by_mark = order.trigger_by is TriggerBy.MARK_PRICE
        if order.trigger_direction is TriggerDirection.RISES_TO:
            return self.mark_rise if by_mark else self.last_rise
        return self.mark_fall if by_mark else self.last_fall

    def index(self, order: Order, seq: int) -> None:
        """Put an open order where the price that makes it due will find it."""
        if order.trigger_price is not None and order.status is OrderStatus.UNTRIGGERED:
            self.trigger_heap(order).push(order.order_id, order.trigger_price, seq)
        elif order.order_type is OrderType.LIMIT and order.price is not None:
            heap = self.buy_limits if order.side is Side.BUY else self.sell_limits
            heap.push(order.order_id, order.price, seq)

    def unindex(self, order: Order) -> None:
        key = order.order_id
        self.awaiting_book.pop(key, None)
        for heap in (self.buy_limits, self.sell_limits, self.last_rise, self.last_fall, self.mark_rise, self.mark_fall):
            heap.remove(key)

    def index_liquidation(self, account_id: str, side: Side | None, liq_price: Decimal | None, seq: int) -> None:
        self.liq_long.remove(account_id)
        self.liq_short.remove(account_id)
        if side is None or liq_price is None:
            return
        (self.liq_long if side is Side.BUY else self.liq_short).push(account_id, liq_price, seq)


class EngineState:
    """The engine's memory: accounts, open orders, per-instrument state, the sequence, the accounts to re-price."""

    __slots__ = (
        "accounts",
        "accounts_to_reprice",
        "catalog",
        "clock",
        "config",
        "ids",
        "instruments",
        "orders",
        "seq",
    )

    def __init__(
        self,
        catalog: InstrumentCatalog,
        clock: Callable[[], int],
        config: EngineConfig,
        ids: Callable[[], str],
        instrument_state: Callable[[Instrument], InstrumentState] = InstrumentState,
    ) -> None:
        self.catalog = catalog
        self.config = config
        self.clock = clock
        self.ids = ids
        self.seq = 0
        self.orders: dict[str, Order] = {}
        self.accounts: dict[str, AccountState] = {}
        self.instruments: dict[InstrumentKey, InstrumentState] = {i.key: instrument_state(i) for i in catalog}
        #: Accounts whose balance or held margin changed since their cross liquidation prices were
        #: last computed (`liquidation.reprice_accounts` recomputes them at the end of each event).
        self.accounts_to_reprice: set[str] = set()

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def instrument(self, symbol: str, category: Category) -> InstrumentState:
        found = self.instruments.get((category, symbol))
        if found is None:
            raise UnknownSymbol(f"unknown {category.value} symbol {symbol!r}")
        return found

    def account(self, account_id: str) -> AccountState:
        state = self.accounts.get(account_id)
        if state is None:
            raise NotFound(f"account {account_id!r} is not known to this engine")
        return state

    def position(self, account: AccountState, symbol: str) -> Position:
        """The account's position on `symbol`, a flat one at the default leverage if it has none yet."""
        position = account.positions.get(symbol)
        if position is None:
            position = Position(
                account_id=account.account_id,
                symbol=symbol,
                leverage=self.default_leverage(symbol),
                margin_mode=self.config.default_margin_mode,
            )
            account.positions[symbol] = position
        return position

    def default_leverage(self, symbol: str) -> Decimal:
        instrument = self.catalog.find(symbol, Category.LINEAR)
        cap = instrument.max_leverage if instrument is not None else self.config.default_leverage
        return min(self.config.default_leverage, cap)

    def mark(self, symbol: str) -> Decimal | None:
        found = self.instruments.get((Category.LINEAR, symbol))
        return found.mark if found is not None else None
