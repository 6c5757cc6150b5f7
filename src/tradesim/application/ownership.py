"""Tenant isolation: a user sees only their own accounts, and anything else does not exist."""

from __future__ import annotations

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
