"""Bars of replay sessions from the `ReplayBarBus` to the sockets subscribed to `replay.{replayId}`.

Only the session's owner may subscribe. One bus subscription per session per app process, opened
by its first subscriber and closed when its last one leaves; each bar is encoded once, in Bybit's
kline push shape (`ReplayBar.message()`), and published to the topic's subscribers.
"""

from __future__ import annotations

import asyncio
import contextlib
import re

import structlog

from tradesim.domain.replay_session import ReplayBar, replay_topic
from tradesim.entrypoints.http.ws.hub import Connection, Hub, encode
from tradesim.ports.messaging import Subscription
from tradesim.ports.replay import ReplayBarBus
from tradesim.ports.unit_of_work import UnitOfWorkFactory

log = structlog.get_logger("tradesim.api")

#: `replay.{replayId}`, the id as in paths.
REPLAY_TOPIC = re.compile(r"replay\.([A-Za-z0-9_.:-]{1,64})")


def replay_id_of(topic: object) -> str | None:
    """The replay id of a `replay.{replayId}` topic, else None."""
    if not isinstance(topic, str):
        return None
    match = REPLAY_TOPIC.fullmatch(topic)
    return match.group(1) if match else None


class ReplayFeed:
    def __init__(self, bus: ReplayBarBus, hub: Hub, uow_factory: UnitOfWorkFactory) -> None:
        self._bus = bus
        self._hub = hub
        self._uow = uow_factory
        self._pumps: dict[str, asyncio.Task[None]] = {}

    async def allowed(self, user_id: str, replay_id: str) -> bool:
        """Whether `user_id` may follow the session (it is theirs; another's is as unknown as a missing one)."""
        async with self._uow() as uow:
            session = await uow.replays.get(replay_id)
        return session is not None and session.user_id == user_id

    def subscribe(self, connection: Connection, replay_id: str) -> None:
        """Add the connection to the topic, opening the session's bus subscription if it is the first."""
        self._hub.subscribe(connection, replay_topic(replay_id))
        if replay_id not in self._pumps:
            # Subscribed here, not in the task, so that no bar played from now on is missed.
            subscription = self._bus.subscribe(replay_id)
            self._pumps[replay_id] = asyncio.get_running_loop().create_task(self._pump(replay_id, subscription))

    def unsubscribe(self, connection: Connection, replay_id: str) -> None:
        self._hub.unsubscribe(connection, replay_topic(replay_id))
        self.release_unwatched()

    def release_unwatched(self) -> None:
        """Close the bus subscriptions nobody listens to any more (after an unsubscribe or a disconnect)."""
        for replay_id, task in list(self._pumps.items()):
            if not self._hub.audience(replay_topic(replay_id)):
                del self._pumps[replay_id]
                task.cancel()

    @property
    def following(self) -> set[str]:
        return set(self._pumps)

    async def close(self) -> None:
        pumps, self._pumps = list(self._pumps.values()), {}
        for task in pumps:
            task.cancel()
        for task in pumps:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _pump(self, replay_id: str, subscription: Subscription[ReplayBar]) -> None:
        topic = replay_topic(replay_id)
        try:
            async for bar in subscription:
                if bar.replay_id == replay_id:
                    self._hub.publish(topic, encode(bar.message()))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("replay_feed_failed", replay_id=replay_id)
        finally:
            if self._pumps.get(replay_id) is asyncio.current_task():
                del self._pumps[replay_id]
            await subscription.aclose()
