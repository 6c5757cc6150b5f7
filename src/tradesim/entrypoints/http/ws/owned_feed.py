"""Socket topics of one thing its owner alone may follow (`replay.{replayId}`, `strategy-run.{runId}`).

Each topic is `prefix` + the thing's id. Only the owner may subscribe: anyone else is refused as
for an unknown topic. One bus subscription per id per app process, opened by its first subscriber
and closed when its last one leaves; each message is encoded once and published to the topic's
subscribers.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import structlog

from tradesim.entrypoints.http.ws.hub import Connection, Hub, encode
from tradesim.ports.messaging import Subscription
from tradesim.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger("tradesim.api")

T = TypeVar("T")
#: The ids in topics, as in paths.
_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def id_in(prefix: str, topic: object) -> str | None:
    """The id of a `{prefix}{id}` topic, else None."""
    if not isinstance(topic, str) or not topic.startswith(prefix):
        return None
    rest = topic[len(prefix) :]
    return rest if _ID.fullmatch(rest) else None


class OwnedTopicFeed(Generic[T]):
    def __init__(
        self,
        prefix: str,
        hub: Hub,
        uow_factory: UnitOfWorkFactory,
        *,
        subscribe: Callable[[str], Subscription[T]],
        owner_of: Callable[[UnitOfWork, str], Awaitable[str | None]],
        message: Callable[[str, T], Any | None],
    ) -> None:
        """`owner_of(uow, id)`: the owning user's id, None for an unknown id; `message(id, item)`: the
        push for an item from the bus (None to skip it)."""
        self.prefix = prefix
        self._hub = hub
        self._uow = uow_factory
        self._subscribe = subscribe
        self._owner_of = owner_of
        self._message = message
        self._pumps: dict[str, asyncio.Task[None]] = {}

    def id_of(self, topic: object) -> str | None:
        """The id of one of this feed's topics, else None."""
        return id_in(self.prefix, topic)

    def topic(self, item_id: str) -> str:
        return self.prefix + item_id

    async def allowed(self, user_id: str, item_id: str) -> bool:
        """Whether `user_id` may follow it (it is theirs; another's is as unknown as a missing one)."""
        async with self._uow() as uow:
            owner = await self._owner_of(uow, item_id)
        return owner is not None and owner == user_id

    def subscribe(self, connection: Connection, item_id: str) -> None:
        """Add the connection to the topic, opening the bus subscription if it is the first."""
        self._hub.subscribe(connection, self.topic(item_id))
        if item_id not in self._pumps:
            # Subscribed here, not in the task, so that nothing published from now on is missed.
            subscription = self._subscribe(item_id)
            self._pumps[item_id] = asyncio.get_running_loop().create_task(self._pump(item_id, subscription))

    def unsubscribe(self, connection: Connection, item_id: str) -> None:
        self._hub.unsubscribe(connection, self.topic(item_id))
        self.release_unwatched()

    def release_unwatched(self) -> None:
        """Close the bus subscriptions nobody listens to any more (after an unsubscribe or a disconnect)."""
        for item_id, task in list(self._pumps.items()):
            if not self._hub.audience(self.topic(item_id)):
                del self._pumps[item_id]
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

    async def _pump(self, item_id: str, subscription: Subscription[T]) -> None:
        topic = self.topic(item_id)
        try:
            async for item in subscription:
                message = self._message(item_id, item)
                if message is not None:
                    self._hub.publish(topic, encode(message))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("topic_feed_failed", topic=topic)
        finally:
            if self._pumps.get(item_id) is asyncio.current_task():
                del self._pumps[item_id]
            await subscription.aclose()
