"""The outbox of recorded commands in memory (`PendingCommandRepository`)."""

from __future__ import annotations

from collections.abc import Collection

from tradesim.adapters.memory.repositories import _Repo
from tradesim.adapters.memory.tables import Tables
from tradesim.domain.commands import RecordedCommand
from tradesim.domain.errors import Conflict, InvalidInput


class MemoryPendingCommandRepository(_Repo):
    async def add(self, command: RecordedCommand, created_time: int) -> None:
        if not command.command_id:
            raise InvalidInput("a command is recorded under its command_id, which is empty")

        def op(t: Tables) -> None:
            if command.command_id in t.pending_commands:
                raise Conflict(f"command {command.command_id} is recorded already")
            t.pending_commands[command.command_id] = (command, created_time)

        self._write(op)

    async def remove_many(self, command_ids: Collection[str]) -> set[str]:
        removed = {i for i in command_ids if i in self._work.pending_commands}

        def op(t: Tables) -> None:
            for command_id in removed:
                t.pending_commands.pop(command_id, None)

        self._write(op)
        return removed

    async def list_waiting(self, created_before: int, *, limit: int = 1000) -> list[RecordedCommand]:
        waiting = sorted(
            (created, command_id, command)
            for command_id, (command, created) in self._work.pending_commands.items()
            if created < created_before
        )
        return [command for _, _, command in waiting[:limit]]
