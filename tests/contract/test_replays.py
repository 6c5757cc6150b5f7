"""Contract of the replay-session repository (every adapter in `UOW_BACKENDS`), the bar bus and the inbox."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

import attrs

from tests.contract import records
from tradesim.domain.commands import CancelOrder
from tradesim.domain.errors import Conflict
from tradesim.domain.replay_session import ReplayAction, ReplayBar, ReplayControl, ReplaySession, ReplayState
from tradesim.ports.replay import ReplayBarBus, ReplayInbox
from tradesim.ports.unit_of_work import UnitOfWork

UowFactory = Callable[[], UnitOfWork]
T0 = records.T0


def session(n: int = 1, *, user: str = "user-1", created: int = T0) -> ReplaySession:
    return ReplaySession.new(f"rep-{n}", user, f"acc-r{n}", "BTCUSDT", T0 - 86_400_000, "10", created)


async def test_sessions_round_trip_and_are_found_by_account_and_user(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.replays.add(session(1))
        await uow.replays.add(session(2, created=T0 + 5))
        await uow.replays.add(session(3, user="user-2"))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.replays.get("rep-1") == session(1)
        assert await uow.replays.get("rep-9") is None
        assert await uow.replays.get_by_account("acc-r2") == session(2, created=T0 + 5)
        assert [s.replay_id for s in await uow.replays.list_by_user("user-1")] == ["rep-2", "rep-1"]
        assert [s.replay_id for s in await uow.replays.list_by_user("user-1", limit=1)] == ["rep-2"]


async def test_save_keeps_exact_fields_but_never_touches_the_lease(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.replays.add(session(1))
        assert await uow.replays.claim("rep-1", "runner-a", T0, T0 + 30_000)
        await uow.commit()
    played = attrs.evolve(
        session(1),
        state=ReplayState.PLAYING,
        cursor=T0 + 60_000,
        clock=T0 + 59_999,
        last_bar_time=T0,
        bars_played=7,
        id_seq=3,
        speed=Decimal("2.5"),
        updated_time=T0 + 9,
        owner="someone-else",
        lease_until=0,
    )
    async with uow_factory() as uow:
        await uow.replays.save(played)
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.replays.get("rep-1")
    assert stored == attrs.evolve(played, owner="runner-a", lease_until=T0 + 30_000)
    assert str(stored.speed) == "2.5"


async def test_claim_is_exclusive_until_the_lease_expires(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.replays.add(session(1))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.replays.claim("rep-1", "a", T0, T0 + 100)
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.replays.claim("rep-1", "b", T0 + 50, T0 + 150)
        assert await uow.replays.claim("rep-1", "a", T0 + 50, T0 + 150)  # renewal by the holder
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.replays.claim("rep-1", "b", T0 + 149, T0 + 300)
        assert await uow.replays.claim("rep-1", "b", T0 + 150, T0 + 300)  # expired: taken over
        assert not await uow.replays.claim("rep-9", "b", T0, T0 + 1)
        await uow.commit()
    async with uow_factory() as uow:
        await uow.replays.release("rep-1", "a")  # not the holder: nothing happens
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.replays.get("rep-1")
        assert stored is not None
        assert (stored.owner, stored.lease_until) == ("b", T0 + 300)
        await uow.replays.release("rep-1", "b")
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.replays.get("rep-1")
        assert stored is not None
        assert (stored.owner, stored.lease_until) == ("", 0)


async def test_two_runners_racing_for_one_session_cannot_both_win(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.replays.add(session(1))
        await uow.commit()

    async def race(owner: str) -> bool:
        # Each runner claims and commits on its own, as two processes would; a locking database
        # makes the second wait and then find the lease taken, the memory store fails its commit.
        try:
            async with uow_factory() as uow:
                won = await uow.replays.claim("rep-1", owner, T0, T0 + 100)
                await uow.commit()
                return won
        except Conflict:
            return False

    results = await asyncio.gather(race("a"), race("b"))
    assert sorted(results) == [False, True]
    async with uow_factory() as uow:
        stored = await uow.replays.get("rep-1")
    assert stored is not None
    assert stored.owner == ("a" if results[0] else "b")


async def test_unowned_lists_unfinished_sessions_with_expired_leases(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.replays.add(attrs.evolve(session(1), updated_time=T0 + 3))
        await uow.replays.add(attrs.evolve(session(2), updated_time=T0 + 1))
        await uow.replays.add(attrs.evolve(session(3), state=ReplayState.FINISHED))
        await uow.replays.add(attrs.evolve(session(4), updated_time=T0 + 5))
        assert await uow.replays.claim("rep-4", "a", T0, T0 + 100)
        await uow.commit()
    async with uow_factory() as uow:
        assert [s.replay_id for s in await uow.replays.list_unowned(T0 + 10)] == ["rep-2", "rep-1"]
        assert [s.replay_id for s in await uow.replays.list_unowned(T0 + 100)] == ["rep-2", "rep-1", "rep-4"]
        assert [s.replay_id for s in await uow.replays.list_unowned(T0 + 100, limit=1)] == ["rep-2"]


async def test_bar_bus_delivers_a_sessions_bars_to_its_subscribers_only(replay_bar_bus: ReplayBarBus) -> None:
    mine, other = replay_bar_bus.subscribe("rep-1"), replay_bar_bus.subscribe("rep-2")
    bar = ReplayBar("rep-1", attrs.evolve(records.candle(0, close="30001.50"), turnover=None))  # replays carry none
    got = asyncio.create_task(anext(aiter(mine)))
    stray = asyncio.create_task(anext(aiter(other)))
    for _ in range(100):  # until the subscription is live (pub/sub keeps nothing for late subscribers)
        await replay_bar_bus.publish(bar)
        await asyncio.sleep(0.02)
        if got.done():
            break
    assert await got == bar
    assert str((await got).candle.close) == "30001.50"
    # The other session's subscriber, live too, hears its own session's bars but none of rep-1's.
    theirs = ReplayBar("rep-2", bar.candle)
    async with asyncio.timeout(5.0):
        while not stray.done():
            await replay_bar_bus.publish(theirs)
            await asyncio.wait({stray}, timeout=0.02)
    assert stray.result() == theirs
    await other.aclose()
    await mine.aclose()
    assert bar.message()["topic"] == "replay.rep-1"


async def test_inbox_keeps_order_per_session_and_wakes_waiters(replay_inbox: ReplayInbox) -> None:
    inbox = replay_inbox
    assert not await inbox.wait(["rep-1"], 0.01)
    waiter = asyncio.create_task(inbox.wait(["rep-1"], 5))
    await asyncio.sleep(0)
    await inbox.put("rep-2", ReplayControl(ReplayAction.PLAY))
    await inbox.put("rep-1", ReplayControl(ReplayAction.SPEED, speed=Decimal("2.5")))
    await inbox.put("rep-1", CancelOrder("acc-r1", "ord-1", "BTCUSDT"))
    await inbox.put("rep-1", ReplayControl(ReplayAction.SEEK, to=T0))
    assert await waiter
    assert sorted(await inbox.waiting()) == ["rep-1", "rep-2"]
    assert await inbox.take("rep-1", max_count=1) == [ReplayControl(ReplayAction.SPEED, speed=Decimal("2.5"))]
    assert await inbox.take("rep-1") == [
        CancelOrder("acc-r1", "ord-1", "BTCUSDT"),
        ReplayControl(ReplayAction.SEEK, to=T0),
    ]
    assert await inbox.take("rep-1") == []
    assert await inbox.waiting() == ["rep-2"]
    assert await inbox.take("rep-2") == [ReplayControl(ReplayAction.PLAY)]
    assert await inbox.waiting() == []
