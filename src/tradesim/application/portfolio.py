"""What a trader reads about their accounts: wallet figures, positions, fills and the ledger.

Every query checks ownership first: another user's account is `NotFound`, as is a missing one.
Mark prices come from the caller (the api keeps the latest ones from the price feed), except for
a replay account, which is valued at its session's price (`ReplayPrices`), whatever the caller gives.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from tradesim.application.ownership import owned_account
from tradesim.application.replay.prices import ReplayPrices
from tradesim.domain.accounts import Account, AccountKind, AccountView
from tradesim.domain.errors import InvalidTpSl
from tradesim.domain.executions import Execution, LedgerEntry
from tradesim.domain.instruments import InstrumentCatalog
from tradesim.domain.positions import Position
from tradesim.domain.wallet import wallet_view
from tradesim.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

Marks = Mapping[str, Decimal]


class PortfolioQueries:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        catalog: InstrumentCatalog,
        replays: ReplayPrices | None = None,
        single_statement_uow_factory: UnitOfWorkFactory | None = None,
    ) -> None:
        """`single_statement_uow_factory` (`ports.unit_of_work`) serves the reads of one kind of
        record (positions, fills, ledger entries), whose statements need no shared snapshot (an
        account's owner never changes); defaults to `uow_factory`. A wallet or account view reads
        a balance and positions together, always in one transaction, so that equity is never
        computed from a balance after a fill and positions from before it."""
        self._uow = uow_factory
        self._reads = single_statement_uow_factory or uow_factory
        self._catalog = catalog
        self._replays = replays

    async def account(self, user_id: str, account_id: str, marks: Marks) -> tuple[Account, AccountView]:
        async with self._uow() as uow:
            account = await owned_account(uow, user_id, account_id)
            return account, await self._view(uow, account, marks)

    async def accounts(self, user_id: str, marks: Marks) -> list[tuple[Account, AccountView]]:
        async with self._uow() as uow:
            return [(a, await self._view(uow, a, marks)) for a in await uow.accounts.list_by_user(user_id)]

    async def wallet(self, account_id: str, marks: Marks) -> AccountView | None:
        """Unchecked: for pushing to a socket already known to belong to the owner."""
        async with self._uow() as uow:
            account = await uow.accounts.get(account_id)
            return None if account is None else await self._view(uow, account, marks)

    async def positions(self, user_id: str, account_id: str, *, open_only: bool = True) -> list[Position]:
        async with self._reads() as uow:
            await owned_account(uow, user_id, account_id)
            positions = await uow.positions.list_by_account(account_id)
        return [p for p in positions if p.size or not open_only]

    async def open_position(self, user_id: str, account_id: str, symbol: str) -> Position:
        """Raises `NotFound` (account) or `InvalidTpSl` when there is no open position on `symbol`."""
        async with self._reads() as uow:
            await owned_account(uow, user_id, account_id)
            position = await uow.positions.get(account_id, symbol)
        if position is None or not position.size:
            raise InvalidTpSl(f"there is no open {symbol} position to set take-profit / stop-loss on")
        return position

    async def executions(self, user_id: str, account_id: str, *, limit: int = 100) -> list[Execution]:
        async with self._reads() as uow:
            await owned_account(uow, user_id, account_id)
            return await uow.executions.list_by_account(account_id, limit=limit)

    async def ledger(self, user_id: str, account_id: str, *, limit: int = 100) -> list[LedgerEntry]:
        async with self._reads() as uow:
            await owned_account(uow, user_id, account_id)
            return await uow.ledger.list_by_account(account_id, limit=limit)

    async def _view(self, uow: UnitOfWork, account: Account, marks: Marks) -> AccountView:
        account_id = account.account_id
        if account.kind is AccountKind.REPLAY and self._replays is not None:
            marks = await self._replays.marks(uow, account_id) or {}
        return wallet_view(
            account_id,
            await uow.balances.get(account_id),
            await uow.positions.list_by_account(account_id),
            await uow.orders.list_open([account_id]),
            marks,
            self._catalog,
            settle_coin=account.currency,
        )
