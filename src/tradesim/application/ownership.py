"""Tenant isolation: a user sees only their own accounts, and anything else does not exist."""

from __future__ import annotations

from tradesim.domain.accounts import Account
from tradesim.domain.errors import NotFound
from tradesim.ports.unit_of_work import UnitOfWork


async def owned_account(uow: UnitOfWork, user_id: str, account_id: str) -> Account:
    """Raises `NotFound` for a missing account and for another user's account alike."""
    account = await uow.accounts.get(account_id)
    if account is None or account.user_id != user_id:
        raise NotFound(f"account {account_id} not found")
    return account
