"""Contract of the revocation bus: every subscriber hears each revoked family."""

from __future__ import annotations

import asyncio

from tradesim.ports.security import RevocationBus


async def test_every_subscriber_hears_a_revoked_family(revocation_bus: RevocationBus) -> None:
    first, second = revocation_bus.subscribe(), revocation_bus.subscribe()
    heard = [asyncio.create_task(anext(aiter(s))) for s in (first, second)]
    for _ in range(100):  # until the subscriptions are live (pub/sub keeps nothing for late subscribers)
        await revocation_bus.publish("family-1")
        await asyncio.sleep(0.02)
        if all(task.done() for task in heard):
            break
    assert [await task for task in heard] == ["family-1", "family-1"]
    await first.aclose()
    await second.aclose()
