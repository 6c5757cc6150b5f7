"""Tenant isolation: a user sees only their own accounts, and anything else does not exist."""

from __future__ import annotations

from tradesim.application.remembered import Remembered
from tradesim.domain.accounts import Account
from tradesim.domain.errors import NotFound
from tradesim.ports.security import Unauthenticated
from tradesim.ports.unit_of_work import UnitOfWork


async def existing_user(uow: UnitOfWork, user_id: str) -> None:
    """Raises `Unauthenticated` when no user has `user_id`.

    Access tokens are checked by signature alone (no read per request); what a user creates that hangs
    on nothing else of theirs (an account, a journal entry) is checked against the users table, so that
    a token signed for someone who does not exist creates nothing."""
    if await uow.users.get(user_id) is None:
        raise Unauthenticated("the token names no user; log in again")


async def owned_account(uow: UnitOfWork, user_id: str, account_id: str) -> Account:
    """Raises `NotFound` for a missing account and for another user's account alike."""
    account = await uow.accounts.get(account_id)
    if account is None or account.user_id != user_id:
        raise NotFound(f"account {account_id} not found")
    return account


class KnownOwners:
    """Who owns an account and which kind it is, remembered once read (bounded, least recently
    used goes first).

    An account never changes hands or kind and is never deleted, so what is remembered never
    goes stale; only what was found is remembered, so an account opened later is still seen. It
    saves the order entry path a read per order.
    """

    def __init__(self, remember: int = 100_000) -> None:
        self._owners: Remembered[str, tuple[str, str]] = Remembered(remember)

    def remembered(self, user_id: str, account_id: str) -> bool:
        """Whether the owner is remembered, so that `check` needs no read. Raises `NotFound`
        when it is remembered and is someone else."""
        return self._known(user_id, account_id) is not None

    async def check(self, uow: UnitOfWork, user_id: str, account_id: str) -> str:
        """The account's kind (`Account.kind`). Raises `NotFound` as `owned_account` does."""
        known = self._known(user_id, account_id)
        if known is None:
            account = await owned_account(uow, user_id, account_id)
            known = (account.user_id, account.kind)
            self._owners.remember(account_id, known)
        return known[1]

    def _known(self, user_id: str, account_id: str) -> tuple[str, str] | None:
        """(owner, kind) when remembered; `NotFound` when remembered as someone else's."""
        known = self._owners.get(account_id)
        if known is not None and known[0] != user_id:
            raise NotFound(f"account {account_id} not found")
        return known
