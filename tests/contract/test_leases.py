"""Contract of partition leases: exclusive, renewable, expiring, released only by the holder."""

from __future__ import annotations

from tests.waiting import until
from tradesim.ports.coordination import PartitionLeases, fair_share


async def test_a_partition_has_one_holder_at_a_time(leases: PartitionLeases) -> None:
    assert await leases.acquire("w1", 3, ttl_ms=5_000)
    assert await leases.acquire("w1", 3, ttl_ms=5_000)  # re-taking your own lease extends it
    assert not await leases.acquire("w2", 3, ttl_ms=5_000)
    assert await leases.renew("w2", [3], ttl_ms=5_000) == set()
    assert await leases.renew("w1", [3, 4], ttl_ms=5_000) == {3}


async def test_only_the_holder_releases(leases: PartitionLeases) -> None:
    await leases.acquire("w1", 1, ttl_ms=5_000)
    await leases.release("w2", [1])
    assert not await leases.acquire("w2", 1, ttl_ms=5_000)
    await leases.release("w1", [1])
    assert await leases.acquire("w2", 1, ttl_ms=5_000)


async def test_an_unrenewed_lease_expires_and_moves(leases: PartitionLeases) -> None:
    await leases.acquire("dead", 2, ttl_ms=100)
    await until(lambda: leases.acquire("alive", 2, ttl_ms=5_000))  # once the dead one's has expired
    assert await leases.renew("dead", [2], ttl_ms=5_000) == set()


async def test_live_workers_and_their_fair_shares(leases: PartitionLeases) -> None:
    await leases.heartbeat("w-b", ttl_ms=5_000)
    await leases.heartbeat("w-gone", ttl_ms=100)
    live = await leases.heartbeat("w-a", ttl_ms=5_000)
    assert live == ["w-a", "w-b", "w-gone"]
    # The silent one drops out once its heartbeat expires; the others stay.
    live = await until(lambda: _without(leases, "w-gone"))
    assert live == ["w-a", "w-b"]
    assert fair_share("w-a", live, 5) == {0, 2, 4}
    assert fair_share("w-b", live, 5) == {1, 3}
    await leases.leave("w-b")
    assert await leases.heartbeat("w-a", ttl_ms=5_000) == ["w-a"]


async def _without(leases: PartitionLeases, gone: str) -> list[str] | None:
    live = await leases.heartbeat("w-a", ttl_ms=5_000)
    return None if gone in live else live
