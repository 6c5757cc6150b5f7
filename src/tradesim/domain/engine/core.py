"""The matching engine: one deterministic state machine for orders, positions and balances.

It does no I/O and reads time only from the injected clock, so the same inputs always give the
same events. Feed it commands (`handle`) and market data (`on_ticker`, `on_trade`,
`on_feed_status`); it returns the events that describe every change, in order.

This class only dispatches: the state is one `EngineState`, and each rule of the venue (Bybit v5
USDT linear perpetuals and spot) lives in the module named for it:

- `placing`: how an order goes live (validated, refused, matched, rested, awaiting the book);
- `pricing`: the touch, crossing, and the taker's price and quantity; `reduce_only`: its rule;
- `fees`, `fills` (an execution and what follows it), `ledger` (every balance change);
- `reservations`: what an order must find free and what a resting order holds (the arithmetic is
  `tradesim.domain.account_arithmetic`, shared with the api's wallet view);
- `triggers`: what a price makes due, in which order; `liquidation`; `tpsl`; `funding`;
- `amending` (cancel and amend), `accounts` (accounts, leverage, transfers);
- `made_orders`: the one constructor of the orders the engine makes itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

from tradesim.domain.accounts import AccountView
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
from tradesim.domain.engine import (
    accounts,
    amending,
    funding,
    liquidation,
    placing,
    reservations,
    tpsl,
    triggers,
)
from tradesim.domain.engine.config import EngineConfig, SequentialIds
from tradesim.domain.engine.state import EngineState, Events, InstrumentState
from tradesim.domain.enums import Category, OrderStatus
from tradesim.domain.errors import InvalidInput
from tradesim.domain.instruments import Instrument, InstrumentCatalog
from tradesim.domain.market import FeedStatus, MarketEvent, Ticker, Trade
from tradesim.domain.numbers import ZERO
from tradesim.domain.orders import Order
from tradesim.domain.positions import Position


class MatchingEngine:
    """See the module docstring. Not thread-safe: one engine, one caller."""

    #: How the engine keeps each instrument's state (a benchmark swaps in a slower index).
    instrument_state: Callable[[Instrument], InstrumentState] = InstrumentState

    def __init__(
        self,
        catalog: InstrumentCatalog,
        clock: Callable[[], int],
        config: EngineConfig | None = None,
        ids: Callable[[], str] | None = None,
    ) -> None:
        self._state = EngineState(
            catalog, clock, config or EngineConfig(), ids or SequentialIds(), type(self).instrument_state
        )

    @property
    def catalog(self) -> InstrumentCatalog:
        return self._state.catalog

    @property
    def config(self) -> EngineConfig:
        return self._state.config

    @property
    def ids(self) -> Callable[[], str]:
        """What names the orders the engine makes and those placed without an id."""
        return self._state.ids

    # -- accounts -------------------------------------------------------------------------------

    def open_account(
        self, account_id: str, balance: Decimal = ZERO, *, coin: str = "", transfer_id: str = ""
    ) -> Events:
        """Create an empty account and fund it with `balance` (one Transfer ledger entry)."""
        return accounts.open_account(self._state, account_id, balance, coin, transfer_id)

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
        accounts.restore_account(self._state, account_id, balances, positions, open_orders)

    def sync_balances(self, account_id: str, balances: Mapping[str, Decimal]) -> None:
        """Take the stored balances of an account (another worker may have moved them).

        Positions and orders stay as they are: each engine owns those of its own symbols.
        """
        account = self._state.accounts.get(account_id)
        if account is not None:
            account.balances.clear()
            account.balances.update(balances)

    def forget_account(self, account_id: str) -> None:
        """Drop an account and its orders (its stored state is the truth; `restore_account` reloads it)."""
        accounts.forget_account(self._state, account_id)

    # -- commands -------------------------------------------------------------------------------

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

    def place(self, cmd: PlaceOrder) -> Events:
        return self._repriced(placing.place(self._state, cmd))

    def cancel(self, cmd: CancelOrder) -> Events:
        return self._repriced(amending.cancel(self._state, cmd))

    def amend(self, cmd: AmendOrder) -> Events:
        return self._repriced(amending.amend(self._state, cmd))

    def set_trading_stop(self, cmd: SetTradingStop) -> Events:
        return tpsl.set_trading_stop(self._state, cmd)

    def set_leverage(self, cmd: SetLeverage) -> Events:
        return accounts.set_leverage(self._state, cmd)

    def transfer(self, cmd: Transfer) -> Events:
        return accounts.transfer(self._state, cmd)

    def settle_funding(self, cmd: SettleFunding) -> Events:
        return funding.settle_command(self._state, cmd)

    def _repriced(self, events: Events) -> Events:
        events.extend(liquidation.reprice_accounts(self._state))
        return events

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
        """Update the instrument's prices; fill, trigger, liquidate and settle funding as they demand."""
        state = self._state
        market = state.instruments.get((ticker.category, ticker.symbol))
        if market is None:
            return []
        last = ticker.last_price
        mark = ticker.mark_price
        market.last = last
        market.bid = ticker.bid_price
        market.ask = ticker.ask_price
        market.mark = mark
        market.bid_size = ticker.bid_size
        market.ask_size = ticker.ask_size
        market.ts = ticker.ts
        market.stale = False
        events = funding.on_ticker(state, market, ticker)
        awaiting = market.awaiting_book
        if (awaiting or self._due(market, last, mark)) and state.clock() - ticker.ts <= state.config.max_price_age_ms:
            if awaiting:
                events.extend(placing.match_awaiting_book(state, market))
            events.extend(self._match(market, last, mark))
        if state.accounts_to_reprice:
            events.extend(liquidation.reprice_accounts(state))
        return events

    def on_trade(self, trade: Trade) -> Events:
        """A public trade moves the last price (only); resting orders and last-price triggers react.

        It does not refresh the prices' age: the bid and ask still date from the last ticker, so
        taker fills wait for a fresh ticker once that one is older than the staleness limit.
        """
        state = self._state
        market = state.instruments.get((trade.category, trade.symbol))
        if market is None or market.mark is None:
            return []
        market.last = trade.price
        if state.clock() - trade.ts > state.config.max_price_age_ms or not self._due(market, trade.price, market.mark):
            return []
        return self._repriced(self._match(market, trade.price, market.mark))

    def on_feed_status(self, status: FeedStatus) -> Events:
        """A stale feed stops taker fills on its prices until a fresh ticker arrives."""
        market = self._state.instruments.get((status.category, status.symbol))
        if market is not None:
            market.stale = status.stale
        return []

    # How due orders are found: the benchmark's naive engine replaces these two with a scan.
    _due = staticmethod(triggers.due)

    def _match(self, market: InstrumentState, last: Decimal, mark: Decimal) -> Events:
        return triggers.match(self._state, market, last, mark)

    # -- queries --------------------------------------------------------------------------------

    def account_view(self, account_id: str) -> AccountView:
        """Bybit-style wallet figures for the account's settle coin (raises `NotFound`)."""
        return reservations.account_view(self._state, account_id)

    def order(self, order_id: str) -> Order | None:
        """An open (or untriggered) order; closed orders are reported by events, not kept."""
        return self._state.orders.get(order_id)

    def open_orders(self, account_id: str | None = None) -> list[Order]:
        orders: Iterable[Order] = self._state.orders.values()
        if account_id is not None:
            orders = [o for o in orders if o.account_id == account_id]
        return sorted(orders, key=lambda o: (o.created_time, o.order_id))

    def position(self, account_id: str, symbol: str) -> Position | None:
        return self._state.account(account_id).positions.get(symbol)

    def positions(self, account_id: str) -> list[Position]:
        return [p for _, p in sorted(self._state.account(account_id).positions.items())]

    def balances(self, account_id: str) -> dict[str, Decimal]:
        return dict(self._state.account(account_id).balances)

    def has_account(self, account_id: str) -> bool:
        return account_id in self._state.accounts

    def account_ids(self) -> list[str]:
        return sorted(self._state.accounts)

    def last_price(self, symbol: str, category: Category = Category.LINEAR) -> Decimal | None:
        market = self._state.instruments.get((category, symbol))
        return market.last if market is not None else None

    def resting_count(self) -> int:
        return sum(1 for o in self._state.orders.values() if o.status is not OrderStatus.TRIGGERED)
