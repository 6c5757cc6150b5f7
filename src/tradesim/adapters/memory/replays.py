"""Bar Replay in memory: the session repository, the bar bus and the runner inbox."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Collection

import attrs

from tradesim.adapters.memory.messaging import _QueueSubscription
from tradesim.adapters.memory.repositories import _Repo
from tradesim.adapters.memory.tables import Tables
from tradesim.domain.errors import Conflict
from tradesim.domain.replay_session import ReplayBar, ReplaySession, ReplayState
from tradesim.ports.replay import ReplayMessage


class MemoryReplayRepository(_Repo):
    async def add(self, session: ReplaySession) -> None:
        def op(t: Tables) -> None:
            if session.replay_id in t.replays:
                raise Conflict(f"replay {session.replay_id} exists already")
            t.replays[session.replay_id] = session

        self._write(op)

    async def get(self, replay_id: str) -> ReplaySession | None:
        return self._work.replays.get(replay_id)

    async def get_by_account(self, account_id: str) -> ReplaySession | None:
        return next((s for s in self._work.replays.values() if s.account_id == account_id), None)

    async def save(self, session: ReplaySession) -> None:
        def op(t: Tables) -> None:
            stored = t.replays.get(session.replay_id)
            if stored is not None:
                t.replays[session.replay_id] = attrs.evolve(session, owner=stored.owner, lease_until=stored.lease_until)
            else:
                t.replays[session.replay_id] = session

        self._write(op)

    async def list_by_user(self, user_id: str, *, limit: int = 100) -> list[ReplaySession]:
        found = [s for s in self._work.replays.values() if s.user_id == user_id]
        found.sort(key=lambda s: (s.created_time, s.replay_id), reverse=True)
        return found[:limit]

    async def list_unowned(self, now_ms: int, *, limit: int = 100) -> list[ReplaySession]:
        found = [
            s for s in self._work.replays.values() if s.state is not ReplayState.FINISHED and s.lease_until <= now_ms
        ]
        found.sort(key=lambda s: (s.updated_time, s.replay_id))
        return found[:limit]

    async def claim(self, replay_id: str, owner: str, now_ms: int, until_ms: int) -> bool:
        def claimable(t: Tables) -> bool:
            stored = t.replays.get(replay_id)
            return stored is not None and (stored.owner == owner or stored.lease_until <= now_ms)

        if not claimable(self._work):
            return False

        def op(t: Tables) -> None:
            # Checked again at commit, as a conditional UPDATE would be: a lease another
            # transaction took in the meantime fails this commit instead of being overwritten.
            if not claimable(t):
                raise Conflict(f"replay {replay_id} was claimed by another runner")
            t.replays[replay_id] = attrs.evolve(t.replays[replay_id], owner=owner, lease_until=until_ms)

        self._write(op)
        return True

    async def release(self, replay_id: str, owner: str) -> None:
        def op(t: Tables) -> None:
            stored = t.replays.get(replay_id)
            if stored is not None and stored.owner == owner:
                t.replays[replay_id] = attrs.evolve(stored, owner="", lease_until=0)

        self._write(op)


class MemoryReplayBarSubscription(_QueueSubscription):
    def __init__(self, owner: set[_QueueSubscription], replay_id: str, capacity: int) -> None:
        super().__init__(owner, capacity)
        self.replay_id = replay_id

    async def __aiter__(self) -> AsyncIterator[ReplayBar]:
        async for message in self._messages():
            yield message  # type: ignore[misc]


class MemoryReplayBarBus:
    def __init__(self, capacity: int = 10_000) -> None:
        self._subscriptions: set[_QueueSubscription] = set()
        self._capacity = capacity

    async def publish(self, bar: ReplayBar) -> None:
        for subscription in list(self._subscriptions):
            assert isinstance(subscription, MemoryReplayBarSubscription)
            if subscription.replay_id == bar.replay_id:
                subscription.offer(bar)

    def subscribe(self, replay_id: str) -> MemoryReplayBarSubscription:
        return MemoryReplayBarSubscription(self._subscriptions, replay_id, self._capacity)


class MemoryReplayInbox:
    """One FIFO per session; `wait` wakes on any put (one process only: the embedded default)."""

    def __init__(self) -> None:
        self._queues: defaultdict[str, deque[ReplayMessage]] = defaultdict(deque)
        self._arrived = asyncio.Event()

    async def put(self, replay_id: str, message: ReplayMessage) -> None:
        self._queues[replay_id].append(message)
        self._arrived.set()

    async def take(self, replay_id: str, *, max_count: int = 100) -> list[ReplayMessage]:
        queue = self._queues.get(replay_id)
        if not queue:
            return []
        taken = [queue.popleft() for _ in range(min(max_count, len(queue)))]
        if not queue:
            del self._queues[replay_id]
        return taken

    async def waiting(self, *, limit: int = 1000) -> list[str]:
        return [replay_id for replay_id, queue in self._queues.items() if queue][:limit]

    async def wait(self, replay_ids: Collection[str], timeout_s: float) -> bool:
        if any(self._queues.get(r) for r in replay_ids):
            return True
        self._arrived.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._arrived.wait(), timeout=timeout_s)
        return any(self._queues.get(r) for r in replay_ids)

    def pending(self, replay_id: str) -> int:
        return len(self._queues.get(replay_id, ()))
