"""The worker's order consumer, replay-aware: commands for a replay account go to its session.

Replay trading goes through the api exactly as live trading does (`OrderService` validates,
records the order as New, queues the command); only the consumer differs. A command whose account
belongs to a replay session is dispatched to that session (in-process runner, or the inbox of
whichever worker holds it); everything else goes to the live engine. The `Worker` calls
``commands = await router.split(commands)`` on each batch before `handle_batch`; a single
command can go through `handle`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from tradesim.application.directory import AccountDirectory
from tradesim.application.replay.service import ReplayDispatch
from tradesim.domain.accounts import AccountKind
from tradesim.domain.commands import Command
from tradesim.domain.events import EngineEvent
from tradesim.ports.unit_of_work import UnitOfWorkFactory

LiveHandler = Callable[[Command], Awaitable[list[EngineEvent]]]


class ReplayCommandRouter:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        dispatch: ReplayDispatch,
        live: LiveHandler,
        *,
        directory: AccountDirectory | None = None,
    ) -> None:
        """`directory`: the process's account directory (default: one of its own on `uow_factory`)."""
        self._dispatch = dispatch
        self._live = live
        self._directory = directory or AccountDirectory(uow_factory)

    async def handle(self, command: Command) -> list[EngineEvent]:
        """The live engine's events, or [] when the command went to a replay session (it publishes its own)."""
        account_id = getattr(command, "account_id", None)
        replay_id = await self._lookup(account_id) if account_id else ""
        if not replay_id:
            return await self._live(command)
        await self._dispatch.submit(replay_id, command)
        return []

    async def split(self, commands: Sequence[Command]) -> list[Command]:
        """Send the replay accounts' commands to their sessions; return the others, in order."""
        live: list[Command] = []
        for command in commands:
            account_id = getattr(command, "account_id", None)
            replay_id = await self._lookup(account_id) if account_id else ""
            if replay_id:
                await self._dispatch.submit(replay_id, command)
            else:
                live.append(command)
        return live

    async def _lookup(self, account_id: str) -> str:
        """The account's replay id; '' for any other account (the live engine takes it)."""
        entry = await self._directory.find(account_id)
        if entry is None or entry.kind is not AccountKind.REPLAY:
            return ""
        return entry.replay_id or ""
