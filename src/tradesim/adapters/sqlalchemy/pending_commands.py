"""Recorded commands waiting for an engine (the outbox): table `pending_commands`.

A row holds the whole command as the queue carries it (the codec's JSON, `payload`), so the
sweeper can queue it again as it was; `account_id`, `symbol` (the queue's routing key),
`category` and `kind` (the command's type) are beside it for people and for the scan.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import BigInteger, Column, Index, Table, Text, bindparam, delete, select

from tradesim.adapters.codec import Codec
from tradesim.adapters.sqlalchemy.metadata import metadata
from tradesim.adapters.sqlalchemy.transaction import Transaction
from tradesim.domain.commands import RecordedCommand
from tradesim.domain.enums import Category
from tradesim.domain.errors import InvalidInput

pending_commands = Table(
    "pending_commands",
    metadata,
    Column("command_id", Text, primary_key=True),
    Column("account_id", Text, nullable=False),
    Column("symbol", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_time", BigInteger, nullable=False),
    Index(None, "created_time"),
)

_c = pending_commands.c
_WAITING = (
    select(_c.payload)
    .where(_c.created_time < bindparam("before"))
    .order_by(_c.created_time, _c.command_id)
    .limit(bindparam("limit"))
)
_CODEC = Codec()


def _remove(tx: Transaction) -> Any:
    return delete(pending_commands).where(tx.one_of(_c.command_id)).returning(_c.command_id)


class SqlPendingCommandRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, command: RecordedCommand, created_time: int) -> None:
        if not command.command_id:
            raise InvalidInput("a command is recorded under its command_id, which is empty")
        row = {
            "command_id": command.command_id,
            "account_id": command.account_id,
            "symbol": command.symbol,
            # Trading-stop and leverage act on linear positions only and carry no category.
            "category": getattr(command, "category", Category.LINEAR).value,
            "kind": type(command).__name__,
            "payload": _CODEC.encode_command(command).decode(),
            "created_time": created_time,
        }
        await self._tx.insert_once(pending_commands, row, _c.command_id, "command")

    async def remove_many(self, command_ids: Collection[str]) -> set[str]:
        statement = self._tx.prepared("pending_commands_remove", _remove)
        return {r["command_id"] for r in await self._tx.execute_in(statement, command_ids)}

    async def list_waiting(self, created_before: int, *, limit: int = 1000) -> list[RecordedCommand]:
        rows = await self._tx.execute(_WAITING, {"before": created_before, "limit": limit})
        return [_decoded(payload) for payload in rows.scalars()]


def _decoded(payload: str) -> RecordedCommand:
    command = _CODEC.decode_command(payload)
    if not isinstance(command, RecordedCommand):
        raise TypeError(f"pending_commands holds a {type(command).__name__}, which is never recorded")
    return command
