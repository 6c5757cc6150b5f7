"""The cache of live API keys: kept briefly, dropped by a revocation told on the bus (from any
process), and never refilled by a read that a revocation overtook."""

from __future__ import annotations

import asyncio
import contextlib

from tradesim.adapters.memory.clock import FixedClock
from tradesim.adapters.memory.revocations import MemoryRevocationBus
from tradesim.application.api_keys import KeyCredentials
from tradesim.application.key_cache import KeyCache, revoked_key_name
from tradesim.domain.api_keys import ApiKey

T0 = 1_700_000_000_000


def credentials(name: str) -> KeyCredentials:
    key = ApiKey(
        api_key_id=f"id-{name}",
        api_key=name,
        user_id="user-1",
        account_id="account-1",
        sealed_secret="sealed",
        created_time=T0,
    )
    return KeyCredentials(key, "secret")


def test_a_kept_key_is_served_until_its_time_is_up() -> None:
    clock = FixedClock(T0)
    cache = KeyCache(clock, ttl_ms=5_000)
    cache.keep(credentials("k1"), read_after=cache.revocations)
    assert cache.get("k1") == credentials("k1")
    clock.advance(4_999)
    assert cache.get("k1") is not None
    clock.advance(1)
    assert cache.get("k1") is None, "read from the store again"


def test_a_read_overtaken_by_a_revocation_is_not_kept() -> None:
    cache = KeyCache(FixedClock(T0))
    began = cache.revocations
    cache.drop("k1")  # revoked while the read was under way
    cache.keep(credentials("k1"), read_after=began)
    assert cache.get("k1") is None


def test_the_oldest_keys_leave_past_the_bound() -> None:
    cache = KeyCache(FixedClock(T0), max_keys=2)
    for name in ("a", "b", "c"):
        cache.keep(credentials(name), read_after=cache.revocations)
    assert [cache.get(n) is not None for n in ("a", "b", "c")] == [False, True, True]


async def test_a_revocation_told_on_the_bus_drops_the_key_and_nothing_else() -> None:
    bus = MemoryRevocationBus()
    cache = KeyCache(FixedClock(T0))
    for name in ("revoked", "kept"):
        cache.keep(credentials(name), read_after=cache.revocations)
    follower = asyncio.create_task(cache.follow(bus))
    try:
        async with asyncio.timeout(5):
            while cache.get("revoked") is not None:  # until the follower's subscription is live
                await bus.publish("a-token-family")  # a login's revocation: not a key
                await bus.publish(revoked_key_name("revoked"))
                await asyncio.sleep(0.01)
        assert cache.get("kept") is not None
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower


async def test_requests_of_a_key_arriving_while_it_is_read_share_one_read() -> None:
    cache = KeyCache(FixedClock(T0))
    reads: list[str] = []
    reading, release = asyncio.Event(), asyncio.Event()

    async def read(api_key: str) -> KeyCredentials:
        reads.append(api_key)
        reading.set()
        await release.wait()
        return credentials(api_key)

    burst = [asyncio.create_task(cache.read_once("k1", read)) for _ in range(5)]
    await reading.wait()
    await asyncio.sleep(0)  # the other four reach the shared read
    release.set()
    assert await asyncio.gather(*burst) == [credentials("k1")] * 5
    assert reads == ["k1"]
    assert cache.get("k1") == credentials("k1")


async def test_a_failed_read_fails_every_request_waiting_for_it_and_keeps_nothing() -> None:
    cache = KeyCache(FixedClock(T0))
    release = asyncio.Event()

    async def unknown(api_key: str) -> KeyCredentials:
        await release.wait()
        raise LookupError(api_key)

    burst = [asyncio.create_task(cache.read_once("gone", unknown)) for _ in range(3)]
    await asyncio.sleep(0)
    release.set()
    outcomes = await asyncio.gather(*burst, return_exceptions=True)
    assert all(isinstance(o, LookupError) for o in outcomes)
    assert cache.get("gone") is None
