"""Contract of `ApiKeyRepository`, for every adapter in `UOW_BACKENDS`."""

from __future__ import annotations

from collections.abc import Callable

import attrs
import pytest

from tests.contract import records
from tradesim.domain.api_keys import ApiKey
from tradesim.domain.errors import Conflict
from tradesim.ports.unit_of_work import UnitOfWork

UowFactory = Callable[[], UnitOfWork]
T0 = records.T0


def key(n: int, *, user: str = "u-1", account: str = "acc-1", read_only: bool = False) -> ApiKey:
    return ApiKey(
        api_key_id=f"key-{n}",
        api_key=f"PUBLIC{n:012d}",
        user_id=user,
        account_id=account,
        sealed_secret=f"v1.sealed-{n}",
        created_time=T0 + n,
        label=f"bot {n}",
        read_only=read_only,
    )


async def test_a_key_comes_back_as_it_was_added_by_id_and_by_public_key(uow_factory: UowFactory) -> None:
    added = key(1, read_only=True)
    async with uow_factory() as uow:
        await uow.api_keys.add(added)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.api_keys.get("key-1") == added
        assert await uow.api_keys.get_by_key(added.api_key) == added
        assert await uow.api_keys.get("key-2") is None
        assert await uow.api_keys.get_by_key("PUBLIC-nobody") is None


async def test_a_taken_id_or_public_key_is_a_conflict(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.api_keys.add(key(1))
        await uow.commit()
    for clash in (attrs.evolve(key(2), api_key_id="key-1"), attrs.evolve(key(2), api_key=key(1).api_key)):
        async with uow_factory() as uow:
            with pytest.raises(Conflict):
                await uow.api_keys.add(clash)
    async with uow_factory() as uow:
        assert await uow.api_keys.list_by_user("u-1") == [key(1)]


async def test_a_users_keys_are_listed_oldest_first_and_no_one_elses(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        for n in (3, 1, 2):
            await uow.api_keys.add(key(n))
        await uow.api_keys.add(key(4, user="u-2", account="acc-2"))
        await uow.commit()
    async with uow_factory() as uow:
        assert [k.api_key_id for k in await uow.api_keys.list_by_user("u-1")] == ["key-1", "key-2", "key-3"]
        assert await uow.api_keys.list_by_user("u-2") == [key(4, user="u-2", account="acc-2")]
        assert await uow.api_keys.list_by_user("u-3") == []


async def test_revoking_marks_the_key_once_and_a_second_revocation_changes_nothing(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.api_keys.add(key(1))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.api_keys.revoke("key-1", T0 + 100)
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.api_keys.revoke("key-1", T0 + 200)
        assert not await uow.api_keys.revoke("key-9", T0 + 200)
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.api_keys.get_by_key(key(1).api_key)
        assert stored is not None
        assert stored.revoked
        assert stored.revoked_time == T0 + 100


async def test_a_revocation_rolled_back_leaves_the_key_live(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.api_keys.add(key(1))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.api_keys.revoke("key-1", T0 + 100)
    async with uow_factory() as uow:
        stored = await uow.api_keys.get("key-1")
        assert stored is not None
        assert not stored.revoked
