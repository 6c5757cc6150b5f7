"""Opening and reading simulated accounts."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from tradesim.application.ownership import existing_user, owned_account
from tradesim.domain.accounts import DEFAULT_CURRENCY, Account, AccountKind
from tradesim.domain.enums import LedgerKind
from tradesim.domain.errors import InvalidInput
from tradesim.domain.executions import LedgerEntry, derived_id
from tradesim.domain.numbers import money_str, to_decimal
from tradesim.ports.clock import Clock
from tradesim.ports.unit_of_work import UnitOfWorkFactory

DEFAULT_STARTING_BALANCE = Decimal("10000")
MAX_STARTING_BALANCE = Decimal("100000000")


class AccountService:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock, ids: Callable[[], str]) -> None:
        self._uow = uow_factory
        self._clock = clock
        self._ids = ids

    async def open(
        self,
        user_id: str,
        name: str,
        starting_balance: object = None,
        *,
        kind: AccountKind = AccountKind.LIVE,
        require_user: bool = False,
    ) -> Account:
        """Create an account funded by one Transfer ledger entry, in one transaction.

        `require_user`: the user must exist (the api's callers: their token is checked by signature only).

        Raises:
            InvalidInput: a name or starting balance out of bounds.
            Unauthenticated: `require_user` and no such user.
        """
        balance = (
            DEFAULT_STARTING_BALANCE if starting_balance is None else to_decimal(starting_balance, "startingBalance")
        )
        if not 0 <= balance <= MAX_STARTING_BALANCE:
            raise InvalidInput(f"startingBalance must be between 0 and {money_str(MAX_STARTING_BALANCE)}")
        now = self._clock.now_ms()
        account = Account(account_id=self._ids(), user_id=user_id, name=name, created_time=now, kind=kind)
        async with self._uow() as uow:
            if require_user:
                await existing_user(uow, user_id)
            await uow.accounts.add(account)
            if balance:
                transfer_id = f"open-{account.account_id}"
                await uow.ledger.add(
                    LedgerEntry(
                        entry_id=derived_id("transfer", transfer_id),
                        account_id=account.account_id,
                        coin=DEFAULT_CURRENCY,
                        amount=balance,
                        kind=LedgerKind.TRANSFER,
                        ts=now,
                        balance_after=balance,
                        ref_id=transfer_id,
                    )
                )
                await uow.balances.apply(account.account_id, DEFAULT_CURRENCY, balance)
            await uow.commit()
        return account

    async def get(self, user_id: str, account_id: str) -> Account:
        async with self._uow() as uow:
            return await owned_account(uow, user_id, account_id)

    async def list(self, user_id: str) -> list[Account]:
        async with self._uow() as uow:
            return await uow.accounts.list_by_user(user_id)
