"""Bars of replay sessions from the `ReplayBarBus` to the sockets subscribed to `replay.{replayId}`.

Only the session's owner may subscribe (`OwnedTopicFeed`); each bar is pushed in Bybit's kline
push shape (`ReplayBar.message()`).
"""

from __future__ import annotations

from tradesim.domain.replay_session import ReplayBar
from tradesim.entrypoints.http.ws.hub import Hub
from tradesim.entrypoints.http.ws.owned_feed import OwnedTopicFeed, id_in
from tradesim.ports.replay import ReplayBarBus
from tradesim.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

PREFIX = "replay."


async def _owner(uow: UnitOfWork, replay_id: str) -> str | None:
    session = await uow.replays.get(replay_id)
    return None if session is None else session.user_id


class ReplayFeed(OwnedTopicFeed[ReplayBar]):
    def __init__(self, bus: ReplayBarBus, hub: Hub, uow_factory: UnitOfWorkFactory) -> None:
        super().__init__(
            PREFIX,
            hub,
            uow_factory,
            subscribe=bus.subscribe,
            owner_of=_owner,
            message=lambda replay_id, bar: bar.message() if bar.replay_id == replay_id else None,
        )


def replay_id_of(topic: object) -> str | None:
    """The replay id of a `replay.{replayId}` topic, else None."""
    return id_in(PREFIX, topic)
