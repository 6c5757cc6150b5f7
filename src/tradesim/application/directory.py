"""Who owns an account, what kind it is and what it belongs to: one answer for every layer.

Live, replay and strategy accounts are one concept (`AccountKind`); what differs is what they
trade on, which the entry names (`replay_id`, `deployment_id`). The order entry path, the
worker's router and the price source all ask this directory, so a process keeps one memory of
accounts rather than one per question.

An account never changes hands or kind and is never deleted, so what is remembered never goes
stale; only what was found is remembered, so an account opened later is still seen. An entry
whose link is not written yet (a replay account in the instant before its session is stored) is
not remembered either, so the next question reads it again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

import attrs

from tradesim.application.remembered import Remembered
from tradesim.domain.accounts import AccountKind
from tradesim.domain.errors import NotFound
from tradesim.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

#: Reads the id of what an account of one kind belongs to (None: not written yet).
LinkReader = Callable[[UnitOfWork, str], Awaitable[str | None]]


@attrs.frozen(slots=True)
class AccountEntry:
    """One account as the directory knows it. `replay_id` is set for a replay account whose
    session is stored, `deployment_id` for a strategy account whose run is stored."""

    account_id: str
    user_id: str
    kind: AccountKind
    replay_id: str | None = None
    deployment_id: str | None = None


async def replay_of(uow: UnitOfWork, account_id: str) -> str | None:
    session = await uow.replays.get_by_account(account_id)
    return None if session is None else session.replay_id


class AccountDirectory:
    """Bounded (least recently used goes first), shared by every use case of a process.

    `links`: how to read what an account of a kind belongs to. Replay accounts read their
    session by default; the strategy runner adds ``{AccountKind.STRATEGY: reader}`` once its
    runs are stored (without it a strategy account's `deployment_id` stays None).
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        *,
        links: Mapping[AccountKind, LinkReader] | None = None,
        remember: int = 100_000,
    ) -> None:
        """`uow_factory`: a single-statement factory will do; no read here needs a snapshot."""
        self._uow = uow_factory
        self._links: dict[AccountKind, LinkReader] = {AccountKind.REPLAY: replay_of, **(links or {})}
        self._entries: Remembered[str, AccountEntry] = Remembered(remember)

    def remembered(self, user_id: str, account_id: str) -> AccountEntry | None:
        """The entry if remembered, with no read; raises `NotFound` when it is someone else's."""
        entry = self._entries.get(account_id)
        if entry is not None and entry.user_id != user_id:
            raise NotFound(f"account {account_id} not found")
        return entry

    async def owned(self, user_id: str, account_id: str, uow: UnitOfWork | None = None) -> AccountEntry:
        """The user's account; `NotFound` for a missing account and another user's alike.

        `uow`: the caller's open unit of work, to read in (else the directory opens its own).
        """
        entry = self.remembered(user_id, account_id) or await self.find(account_id, uow)
        if entry is None or entry.user_id != user_id:
            raise NotFound(f"account {account_id} not found")
        return entry

    async def find(self, account_id: str, uow: UnitOfWork | None = None) -> AccountEntry | None:
        """Any account, unchecked (the worker's routing, the engine's loading); None when missing."""
        entry = self._entries.get(account_id)
        if entry is not None:
            return entry
        if uow is None:
            async with self._uow() as own:
                return await self._read(own, account_id)
        return await self._read(uow, account_id)

    async def _read(self, uow: UnitOfWork, account_id: str) -> AccountEntry | None:
        account = await uow.accounts.get(account_id)
        if account is None:
            return None
        link = self._links.get(account.kind)
        linked = None if link is None else await link(uow, account_id)
        entry = AccountEntry(
            account_id,
            account.user_id,
            account.kind,
            replay_id=linked if account.kind is AccountKind.REPLAY else None,
            deployment_id=linked if account.kind is AccountKind.STRATEGY else None,
        )
        if link is None or linked is not None:
            self._entries.remember(account_id, entry)
        return entry
