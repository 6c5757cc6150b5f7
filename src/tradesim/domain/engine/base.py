"""State shared by the engine's parts, and the small helpers they all use."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from tradesim.domain.engine.book import Book
from tradesim.domain.engine.config import EngineConfig
from tradesim.domain.engine.state import AccountState
from tradesim.domain.enums import Category, LedgerKind, MarginMode
from tradesim.domain.errors import NotFound, UnknownSymbol
from tradesim.domain.events import BalanceChanged, EngineEvent
from tradesim.domain.executions import LedgerEntry
from tradesim.domain.instruments import InstrumentCatalog, InstrumentKey
from tradesim.domain.orders import Order
from tradesim.domain.positions import Position

Events = list[EngineEvent]


class EngineBase:
    """Holds the engine's state; the mixins in this package implement behaviour on top of it."""

    def __init__(
        self,
        catalog: InstrumentCatalog,
        clock: Callable[[], int],
        config: EngineConfig,
        ids: Callable[[], str],
    ) -> None:
        self.catalog = catalog
        self.config = config
        self._clock = clock
        self._ids = ids
        self._seq = 0
        self._orders: dict[str, Order] = {}
        self._accounts: dict[str, AccountState] = {}
        self._books: dict[InstrumentKey, Book] = {i.key: Book(i) for i in catalog}
        #: Accounts whose balance or reserved margin changed since their cross liquidation prices
        #: were last computed (see `RiskMixin._reprice_liquidations`).
        self._liq_dirty: set[str] = set()

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _book(self, symbol: str, category: Category) -> Book:
        book = self._books.get((category, symbol))
        if book is None:
            raise UnknownSymbol(f"unknown {category.value} symbol {symbol!r}")
        return book

    def _account(self, account_id: str) -> AccountState:
        state = self._accounts.get(account_id)
        if state is None:
            raise NotFound(f"account {account_id!r} is not known to this engine")
        return state

    def _position(self, state: AccountState, symbol: str) -> Position:
        position = state.positions.get(symbol)
        if position is None:
            position = Position(
                account_id=state.account_id,
                symbol=symbol,
                leverage=self._default_leverage(symbol),
                margin_mode=self.config.default_margin_mode,
            )
            state.positions[symbol] = position
        return position

    def _default_leverage(self, symbol: str) -> Decimal:
        instrument = self.catalog.find(symbol, Category.LINEAR)
        cap = instrument.max_leverage if instrument is not None else self.config.default_leverage
        return min(self.config.default_leverage, cap)

    def _is_cross(self, position: Position) -> bool:
        return position.margin_mode is MarginMode.CROSS

    def _post(
        self, state: AccountState, coin: str, amount: Decimal, kind: LedgerKind, entry_id: str, ref: str, symbol: str
    ) -> BalanceChanged:
        """Apply one ledger entry to a balance; the only place balances change."""
        after = state.balance(coin) + amount
        state.balances[coin] = after
        self._liq_dirty.add(state.account_id)
        entry = LedgerEntry(
            entry_id=entry_id,
            account_id=state.account_id,
            coin=coin,
            amount=amount,
            kind=kind,
            ts=self._clock(),
            balance_after=after,
            ref_id=ref,
            symbol=symbol,
        )
        return BalanceChanged(entry)
