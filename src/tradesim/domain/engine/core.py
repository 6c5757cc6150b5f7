"""The matching engine: one deterministic state machine for orders, positions and balances.

It does no I/O and reads time only from the injected clock, so the same inputs always give
the same events. Feed it commands (`handle`) and market data (`on_ticker`, `on_trade`,
`on_feed_status`); it returns the events that describe every change, in order.

Rules it applies (Bybit v5 USDT linear perpetuals and spot):
- A market order takes the opposite best price of the latest ticker (ask for buys, bid for
  sells), moved by the slippage model; a marketable limit order fills at the better of its
  price and the book; a resting limit order fills at its own price, as maker, when the last
  price reaches it (touch). A GTC limit order that has not met the book (placed or amended
  while there is no fresh price, or the remainder that still crosses the book after taking the
  displayed size) waits outside the resting index: the next fresh ticker matches it as if it
  had just arrived, so it never pays more than the market it meets.
- A conditional order triggers when its chosen price (last or mark) reaches the trigger in
  its direction; it then behaves as a new order.
- No taker fill uses a price older than `EngineConfig.max_price_age_ms` or from a feed marked stale.
- Within one tick, due orders are handled in this order: conditional orders by last price
  (rising triggers, then falling), by mark price, resting limits (buys, then sells), then
  liquidations by mark price; each group nearest-to-price first, ties first-in first-out.
- Liquidation: when the mark price reaches a position's liquidation price, the symbol's open
  orders are cancelled and the position closes at its bankruptcy price (no fee), so an
  isolated position never loses more than its margin. A cross position's prices assume it may
  use the whole free balance (wallet less the initial margin of positions and open orders),
  recomputed at the end of any command or price update that changed the balance or the margin
  the account's orders hold; a price the new level puts past it liquidates on the next update.
- Funding: when a ticker's time passes the announced next funding time, every open position
  pays (long, positive rate) or receives size x mark x rate, once per funding time, even if
  that ticker is too old to trade on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

from tradesim.domain.commands import (
    AmendOrder,
    CancelOrder,
    Command,
    PlaceOrder,
    SetLeverage,
    SettleFunding,
    SetTradingStop,
    Transfer,
)
from tradesim.domain.engine.account_commands import AccountCommandsMixin
from tradesim.domain.engine.base import Events
from tradesim.domain.engine.book import Book
from tradesim.domain.engine.config import EngineConfig, SequentialIds
from tradesim.domain.engine.state import AccountState
from tradesim.domain.enums import Category, OrderStatus
from tradesim.domain.errors import DuplicateAccount, InvalidInput
from tradesim.domain.instruments import InstrumentCatalog
from tradesim.domain.market import FeedStatus, MarketEvent, Ticker, Trade
from tradesim.domain.numbers import ZERO
from tradesim.domain.orders import Order
from tradesim.domain.positions import Position

_MAX_ROUNDS = 10_000


class MatchingEngine(AccountCommandsMixin):
    """See the module docstring for the rules. Not thread-safe: one engine, one caller."""

    def __init__(
        self,
        catalog: InstrumentCatalog,
        clock: Callable[[], int],
        config: EngineConfig | None = None,
        ids: Callable[[], str] | None = None,
    ) -> None:
        super().__init__(catalog, clock, config or EngineConfig(), ids or SequentialIds())

    # -- accounts -------------------------------------------------------------------------------

    def open_account(
        self, account_id: str, balance: Decimal = ZERO, *, coin: str = "", transfer_id: str = ""
    ) -> Events:
        """Create an empty account and fund it with `balance` (one Transfer ledger entry)."""
        if account_id in self._accounts:
            raise DuplicateAccount(f"account {account_id!r} already exists")
        self._accounts[account_id] = AccountState(account_id)
        if not balance:
            return []
        return self.transfer(
            Transfer(account_id, balance, transfer_id or f"open-{account_id}", coin or self.config.settle_coin)
        )

    def restore_account(
        self,
        account_id: str,
        balances: Mapping[str, Decimal],
        positions: Iterable[Position] = (),
        open_orders: Iterable[Order] = (),
    ) -> None:
        """Rebuild an account from stored state (after a restart); emits nothing.

        Only orders the engine had accepted (`accepted_time` set) are restored; the rest are still
        in the queue and will arrive as `PlaceOrder` again.
        """
        state = AccountState(account_id)
        self._accounts[account_id] = state
        state.balances.update(balances)
        for position in positions:
            state.positions[position.symbol] = position
            book = self._books.get((Category.LINEAR, position.symbol))
            if book is not None and position.side is not None:
                book.position_accounts.add(account_id)
        for order in sorted(open_orders, key=lambda o: (o.created_time, o.order_id)):
            book = self._books.get((order.category, order.symbol))
            if book is None or not order.status.is_open or not order.accepted_time:
                continue
            self._rest(order, state, book)
            if order.is_position_tpsl:
                state.tpsl[(order.symbol, order.stop_order_type)] = order.order_id
        self._refresh_liquidation(state)

    def sync_balances(self, account_id: str, balances: Mapping[str, Decimal]) -> None:
        """Take the stored balances of an account (another worker may have moved them).

        Positions and orders stay as they are: each engine owns those of its own symbols.
        """
        state = self._accounts.get(account_id)
        if state is not None:
            state.balances.clear()
            state.balances.update(balances)

    def forget_account(self, account_id: str) -> None:
        """Drop an account and its orders (its stored state is the truth; `restore_account` reloads it)."""
        state = self._accounts.pop(account_id, None)
        if state is None:
            return
        for order_id in state.open_orders:
            order = self._orders.pop(order_id, None)
            if order is not None:
                self._books[(order.category, order.symbol)].unindex(order)
        for symbol in state.positions:
            book = self._books.get((Category.LINEAR, symbol))
            if book is not None:
                book.index_liquidation(account_id, None, None, 0)
                book.position_accounts.discard(account_id)

    # -- commands -------------------------------------------------------------------------------

    def place(self, cmd: PlaceOrder) -> Events:
        events = super().place(cmd)
        events.extend(self._reprice_liquidations())
        return events

    def cancel(self, cmd: CancelOrder) -> Events:
        events = super().cancel(cmd)
        events.extend(self._reprice_liquidations())
        return events

    def amend(self, cmd: AmendOrder) -> Events:
        events = super().amend(cmd)
        events.extend(self._reprice_liquidations())
        return events

    def handle(self, command: Command) -> Events:
        """Apply any command; refusals come back as `OrderRejected` / `CommandRejected` events."""
        if isinstance(command, PlaceOrder):
            return self.place(command)
        if isinstance(command, CancelOrder):
            return self.cancel(command)
        if isinstance(command, AmendOrder):
            return self.amend(command)
        if isinstance(command, SetTradingStop):
            return self.set_trading_stop(command)
        if isinstance(command, SetLeverage):
            return self.set_leverage(command)
        if isinstance(command, Transfer):
            return self.transfer(command)
        if isinstance(command, SettleFunding):
            return self.settle_funding(command)
        raise InvalidInput(f"unknown command {type(command).__name__}")

    # -- market data ----------------------------------------------------------------------------

    def on_market(self, event: MarketEvent) -> Events:
        if isinstance(event, Ticker):
            return self.on_ticker(event)
        if isinstance(event, Trade):
            return self.on_trade(event)
        if isinstance(event, FeedStatus):
            return self.on_feed_status(event)
        return []

    def on_ticker(self, ticker: Ticker) -> Events:
        """Update the book; fill, trigger, liquidate and settle funding as the new prices demand.

        A tick that makes nothing due costs a handful of comparisons with the tops of the
        trigger heaps, whatever the number of resting orders.
        """
        book = self._books.get((ticker.category, ticker.symbol))
        if book is None:
            return []
        last = ticker.last_price
        mark = ticker.mark_price
        book.last = last
        book.bid = ticker.bid_price
        book.ask = ticker.ask_price
        book.mark = mark
        book.bid_size = ticker.bid_size
        book.ask_size = ticker.ask_size
        book.ts = ticker.ts
        book.stale = False
        due_at = book.next_funding_time
        if due_at is not None and ticker.ts >= due_at and due_at > book.funding_settled_at:
            # Funding is settled at the ticker's mark even when the ticker arrives too late to trade on.
            events = self._settle_due_funding(book, mark, ticker)
        else:
            self._remember_funding(book, ticker)
            events = []
        if (book.unseen or self._due(book, last, mark)) and self._clock() - ticker.ts <= self.config.max_price_age_ms:
            if book.unseen:
                events.extend(self._match_unseen(book))
            events.extend(self._match(book, last, mark))
        if self._liq_dirty:
            events.extend(self._reprice_liquidations())
        return events

    def on_trade(self, trade: Trade) -> Events:
        """A public trade moves the last price (only); resting orders and last-price triggers react.

        It does not refresh the book's age: the bid and ask still date from the last ticker, so
        taker fills wait for a fresh ticker once that one is older than the staleness limit.
        """
        book = self._books.get((trade.category, trade.symbol))
        if book is None or book.mark is None:
            return []
        book.last = trade.price
        if self._clock() - trade.ts > self.config.max_price_age_ms or not self._due(book, trade.price, book.mark):
            return []
        events = self._match(book, trade.price, book.mark)
        events.extend(self._reprice_liquidations())
        return events

    def on_feed_status(self, status: FeedStatus) -> Events:
        """A stale feed stops taker fills on its prices until a fresh ticker arrives."""
        book = self._books.get((status.category, status.symbol))
        if book is not None:
            book.stale = status.stale
        return []

    @staticmethod
    def _due(book: Book, last: Decimal, mark: Decimal) -> bool:
        neg_last = -last
        neg_mark = -mark
        entries = book.buy_limits.entries
        if entries and entries[0][0] <= neg_last:
            return True
        entries = book.sell_limits.entries
        if entries and entries[0][0] <= last:
            return True
        entries = book.last_rise.entries
        if entries and entries[0][0] <= last:
            return True
        entries = book.last_fall.entries
        if entries and entries[0][0] <= neg_last:
            return True
        entries = book.mark_rise.entries
        if entries and entries[0][0] <= mark:
            return True
        entries = book.mark_fall.entries
        if entries and entries[0][0] <= neg_mark:
            return True
        entries = book.liq_long.entries
        if entries and entries[0][0] <= neg_mark:
            return True
        entries = book.liq_short.entries
        return bool(entries and entries[0][0] <= mark)

    def _match(self, book: Book, last: Decimal, mark: Decimal) -> Events:
        events: Events = []
        for _ in range(_MAX_ROUNDS):
            before = len(events)
            for heap, price in (
                (book.last_rise, last),
                (book.last_fall, last),
                (book.mark_rise, mark),
                (book.mark_fall, mark),
            ):
                while (order_id := heap.pop_due(price)) is not None:
                    events.extend(self._trigger(order_id, book))
            for heap in (book.buy_limits, book.sell_limits):
                while (order_id := heap.pop_due(last)) is not None:
                    events.extend(self._fill_resting(order_id, book))
            for heap in (book.liq_long, book.liq_short):
                while (account_id := heap.pop_due(mark)) is not None:
                    events.extend(self._liquidate(account_id, book))
            if len(events) == before:
                break
        return events

    def _settle_due_funding(self, book: Book, mark: Decimal, ticker: Ticker) -> Events:
        funding_time = book.next_funding_time
        rate = book.funding_rate
        assert funding_time is not None
        book.funding_settled_at = funding_time
        self._remember_funding(book, ticker)
        if rate is None:
            return []
        return self._settle_funding(book, rate, mark, funding_time)

    @staticmethod
    def _remember_funding(book: Book, ticker: Ticker) -> None:
        """Keep the announced rate and next funding time; a time already settled is never taken again."""
        if ticker.funding_rate is not None:
            book.funding_rate = ticker.funding_rate
        upcoming = ticker.next_funding_time
        if upcoming is not None and upcoming > book.funding_settled_at:
            book.next_funding_time = upcoming
        elif book.next_funding_time is not None and book.next_funding_time <= book.funding_settled_at:
            book.next_funding_time = None

    # -- queries --------------------------------------------------------------------------------

    def order(self, order_id: str) -> Order | None:
        """An open (or untriggered) order; closed orders are reported by events, not kept."""
        return self._orders.get(order_id)

    def open_orders(self, account_id: str | None = None) -> list[Order]:
        orders = self._orders.values()
        if account_id is not None:
            orders = [o for o in orders if o.account_id == account_id]  # type: ignore[assignment]
        return sorted(orders, key=lambda o: (o.created_time, o.order_id))

    def position(self, account_id: str, symbol: str) -> Position | None:
        return self._account(account_id).positions.get(symbol)

    def positions(self, account_id: str) -> list[Position]:
        return [p for _, p in sorted(self._account(account_id).positions.items())]

    def balances(self, account_id: str) -> dict[str, Decimal]:
        return dict(self._account(account_id).balances)

    def has_account(self, account_id: str) -> bool:
        return account_id in self._accounts

    def account_ids(self) -> list[str]:
        return sorted(self._accounts)

    def last_price(self, symbol: str, category: Category = Category.LINEAR) -> Decimal | None:
        book = self._books.get((category, symbol))
        return book.last if book is not None else None

    def resting_count(self) -> int:
        return sum(1 for o in self._orders.values() if o.status is not OrderStatus.TRIGGERED)
