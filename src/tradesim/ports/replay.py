"""Messages of Bar Replay: the bars a session plays, and the inbox of the runner that owns it.

Bars get a bus of their own rather than riding the `EventBus`: they are market data of one
session (topic ``replay.{replayId}``), not account events. They are never persisted, have no
account, and a socket subscribes to them by replay id; putting them into `EngineEvent` would
drag them into every consumer of account events (persistence, account channels).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from tradesim.domain.commands import Command
from tradesim.domain.replay_session import ReplayBar, ReplayControl
from tradesim.ports.messaging import Subscription

ReplayMessage = Command | ReplayControl


class ReplayBarBus(Protocol):
    """Fan-out of played bars on ``replay.{replayId}``: best effort, nothing stored."""

    async def publish(self, bar: ReplayBar) -> None: ...

    def subscribe(self, replay_id: str) -> Subscription[ReplayBar]: ...


class ReplayInbox(Protocol):
    """Controls and trading commands for a session, waiting for whichever runner owns it.

    Per session, messages come out in the order they went in. `take` removes them: a runner
    that dies holding taken messages loses them (orders stay recorded as New and are
    re-queued by the sweeper; a lost control is simply sent again by the trader).
    """

    async def put(self, replay_id: str, message: ReplayMessage) -> None: ...

    async def take(self, replay_id: str, *, max_count: int = 100) -> list[ReplayMessage]: ...

    async def waiting(self, *, limit: int = 1000) -> list[str]:
        """Replay ids with messages waiting: sessions a runner should pick up even when paused."""
        ...

    async def wait(self, replay_ids: Collection[str], timeout_s: float) -> bool:
        """Until a message for one of `replay_ids` is waiting (True) or `timeout_s` passes (False)."""
        ...
