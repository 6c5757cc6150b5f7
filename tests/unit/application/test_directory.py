"""The account directory: one memory of who owns an account, its kind and what it belongs to."""

from __future__ import annotations

import pytest

from tradesim.adapters.memory.tables import MemoryDatabase
from tradesim.adapters.memory.unit_of_work import MemoryUnitOfWork
from tradesim.application.directory import AccountDirectory, AccountEntry
from tradesim.domain.accounts import Account, AccountKind
from tradesim.domain.errors import InvalidInput, NotFound
from tradesim.domain.replay_session import ReplaySession
from tradesim.ports.unit_of_work import UnitOfWork

T0 = 1_700_000_000_000


class CountingDatabase:
    """Units of work on one memory database, counted, so a test can see what was read again."""

    def __init__(self) -> None:
        self.database = MemoryDatabase()
        self.opened = 0

    def __call__(self) -> MemoryUnitOfWork:
        self.opened += 1
        return MemoryUnitOfWork(self.database)

    async def add(self, *accounts: Account, sessions: tuple[ReplaySession, ...] = ()) -> None:
        async with MemoryUnitOfWork(self.database) as uow:
            for account in accounts:
                await uow.accounts.add(account)
            for session in sessions:
                await uow.replays.add(session)
            await uow.commit()


def replay(account_id: str) -> ReplaySession:
    return ReplaySession.new("rep-1", "user-1", account_id, "BTCUSDT", T0, "1", T0)


async def test_an_account_is_read_once_and_answered_from_memory_after() -> None:
    store = CountingDatabase()
    await store.add(Account("acc-1", "user-1", "Main", T0))
    directory = AccountDirectory(store)
    assert directory.remembered("user-1", "acc-1") is None
    entry = await directory.owned("user-1", "acc-1")
    assert entry == AccountEntry("acc-1", "user-1", AccountKind.LIVE)
    assert await directory.owned("user-1", "acc-1") == entry
    assert await directory.find("acc-1") == entry
    assert directory.remembered("user-1", "acc-1") == entry
    assert store.opened == 1


async def test_someone_elses_and_missing_accounts_are_not_found_alike() -> None:
    store = CountingDatabase()
    await store.add(Account("acc-1", "user-1", "Main", T0))
    directory = AccountDirectory(store)
    for user, account in (("user-2", "acc-1"), ("user-1", "acc-9")):
        with pytest.raises(NotFound, match=f"account {account} not found"):
            await directory.owned(user, account)
    await directory.owned("user-1", "acc-1")
    with pytest.raises(NotFound):  # remembered as someone else's: still no read, still not found
        directory.remembered("user-2", "acc-1")
    assert await directory.find("acc-9") is None


async def test_an_account_opened_later_is_seen() -> None:
    store = CountingDatabase()
    directory = AccountDirectory(store)
    assert await directory.find("acc-1") is None
    await store.add(Account("acc-1", "user-1", "Main", T0))
    assert (await directory.owned("user-1", "acc-1")).kind is AccountKind.LIVE


async def test_a_replay_account_names_its_session_and_is_read_again_until_the_session_is_stored() -> None:
    store = CountingDatabase()
    await store.add(Account("acc-r", "user-1", "Replay", T0, kind="replay"))
    directory = AccountDirectory(store)
    assert await directory.find("acc-r") == AccountEntry("acc-r", "user-1", AccountKind.REPLAY)
    await store.add(sessions=(replay("acc-r"),))
    entry = await directory.find("acc-r")
    assert entry == AccountEntry("acc-r", "user-1", AccountKind.REPLAY, replay_id="rep-1")
    opened = store.opened
    assert await directory.find("acc-r") == entry
    assert store.opened == opened


async def test_a_strategy_account_names_its_deployment_through_the_reader_given() -> None:
    store = CountingDatabase()
    await store.add(Account("acc-s", "user-1", "Strategy", T0, kind=AccountKind.STRATEGY))

    async def deployment_of(uow: UnitOfWork, account_id: str) -> str | None:
        return f"dep-of-{account_id}"

    plain = AccountDirectory(store)
    assert await plain.find("acc-s") == AccountEntry("acc-s", "user-1", AccountKind.STRATEGY)
    linked = AccountDirectory(store, links={AccountKind.STRATEGY: deployment_of})
    entry = await linked.find("acc-s")
    assert entry == AccountEntry("acc-s", "user-1", AccountKind.STRATEGY, deployment_id="dep-of-acc-s")


async def test_a_read_goes_through_the_callers_unit_of_work_when_given() -> None:
    store = CountingDatabase()
    await store.add(Account("acc-1", "user-1", "Main", T0))
    directory = AccountDirectory(store)
    async with MemoryUnitOfWork(store.database) as uow:
        assert (await directory.owned("user-1", "acc-1", uow)).account_id == "acc-1"
    assert store.opened == 0


def test_an_unknown_account_kind_is_refused_by_name() -> None:
    with pytest.raises(InvalidInput, match="account kind must be one of live, replay, strategy, not 'paper'"):
        Account("acc-1", "user-1", "Main", T0, kind="paper")
    assert Account("acc-1", "user-1", "Main", T0, kind="replay").kind is AccountKind.REPLAY
