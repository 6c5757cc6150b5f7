"""The trade journal: tables `journal_entries`, `journal_entry_tags`, `journal_attachments`.

Tags live in their own table (in the entry's order) so that filtering by tag is an indexed
lookup on both dialects rather than a search through a serialised list.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Select,
    Table,
    Text,
    bindparam,
    delete,
    exists,
    select,
)

from tradesim.adapters.sqlalchemy.mapping import RecordMap
from tradesim.adapters.sqlalchemy.metadata import metadata
from tradesim.adapters.sqlalchemy.transaction import Transaction
from tradesim.domain.journal import Attachment, JournalEntry

journal_entries = Table(
    "journal_entries",
    metadata,
    Column("entry_id", Text, primary_key=True),
    Column("user_id", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("notes", Text, nullable=False),
    Column("account_id", Text, nullable=False),
    Column("order_id", Text, nullable=False),
    Column("session_start", BigInteger, nullable=True),
    Column("session_end", BigInteger, nullable=True),
    Column("created_time", BigInteger, nullable=False),
    Column("updated_time", BigInteger, nullable=False),
    Index(None, "user_id", "created_time"),
)

journal_entry_tags = Table(
    "journal_entry_tags",
    metadata,
    Column("entry_id", Text, nullable=False),
    Column("position", Integer, nullable=False),
    Column("tag", Text, nullable=False),
    PrimaryKeyConstraint("entry_id", "position"),
    Index(None, "tag", "entry_id"),
)

journal_attachments = Table(
    "journal_attachments",
    metadata,
    Column("attachment_id", Text, primary_key=True),
    Column("entry_id", Text, nullable=False),
    Column("key", Text, nullable=False),
    Column("content_type", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("created_time", BigInteger, nullable=False),
    Column("filename", Text, nullable=False),
    Index(None, "entry_id"),
)

ENTRY = RecordMap(JournalEntry, exclude=("tags", "attachments"))
ATTACHMENT = RecordMap(Attachment)

_e, _t, _a = journal_entries.c, journal_entry_tags.c, journal_attachments.c
_ENTRY = select(journal_entries).where(_e.entry_id == bindparam("entry_id"))
_INSERT_TAG = journal_entry_tags.insert()
_DELETE_TAGS = delete(journal_entry_tags).where(_t.entry_id == bindparam("entry_id"))
_DELETE_ATTACHMENTS = delete(journal_attachments).where(_a.entry_id == bindparam("entry_id"))
_DELETE_ENTRY = delete(journal_entries).where(_e.entry_id == bindparam("entry_id"))
_DELETE_ATTACHMENT = delete(journal_attachments).where(_a.attachment_id == bindparam("attachment_id"))


class SqlJournalRepository:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, entry: JournalEntry) -> None:
        await self._tx.insert_once(journal_entries, ENTRY.to_row(entry), journal_entries.c.entry_id, "journal entry")
        await self._write_tags(entry)

    async def get(self, entry_id: str) -> JournalEntry | None:
        found = await self._load(_ENTRY, {"entry_id": entry_id})
        return found[0] if found else None

    async def save(self, entry: JournalEntry) -> None:
        await self._tx.upsert(journal_entries, ENTRY.to_row(entry))
        await self._tx.execute(_DELETE_TAGS, {"entry_id": entry.entry_id})
        await self._write_tags(entry)

    async def delete(self, entry_id: str) -> None:
        for statement in (_DELETE_ATTACHMENTS, _DELETE_TAGS, _DELETE_ENTRY):
            await self._tx.execute(statement, {"entry_id": entry_id})

    async def list_by_user(
        self, user_id: str, *, account_id: str | None = None, tag: str | None = None, limit: int = 100
    ) -> list[JournalEntry]:
        e = journal_entries.c
        query = select(journal_entries).where(e.user_id == user_id)
        if account_id is not None:
            query = query.where(e.account_id == account_id)
        if tag is not None:
            t = journal_entry_tags.c
            query = query.where(exists().where(t.entry_id == e.entry_id, t.tag == tag.lower()))
        query = query.order_by(e.created_time.desc(), e.entry_id.desc()).limit(limit)
        return await self._load(query)

    async def add_attachment(self, attachment: Attachment) -> None:
        row = ATTACHMENT.to_row(attachment)
        await self._tx.insert_once(journal_attachments, row, journal_attachments.c.attachment_id, "attachment")

    async def delete_attachment(self, attachment_id: str) -> None:
        await self._tx.execute(_DELETE_ATTACHMENT, {"attachment_id": attachment_id})

    async def _write_tags(self, entry: JournalEntry) -> None:
        if entry.tags:
            rows = [{"entry_id": entry.entry_id, "position": n, "tag": tag} for n, tag in enumerate(entry.tags)]
            await self._tx.execute(_INSERT_TAG, rows)

    async def _load(self, query: Select[Any], parameters: dict[str, Any] | None = None) -> list[JournalEntry]:
        """The entries `query` selects, each with its tags and attachments (three queries in all)."""
        rows = list((await self._tx.execute(query, parameters)).mappings())
        if not rows:
            return []
        ids = [row["entry_id"] for row in rows]
        tags: dict[str, list[str]] = defaultdict(list)
        t = journal_entry_tags.c
        query_tags = select(t.entry_id, t.tag).where(t.entry_id.in_(ids)).order_by(t.entry_id, t.position)
        for tag_row in await self._tx.execute(query_tags):
            tags[tag_row.entry_id].append(tag_row.tag)
        attached: dict[str, list[Attachment]] = defaultdict(list)
        a = journal_attachments.c
        query_attachments = (
            select(journal_attachments).where(a.entry_id.in_(ids)).order_by(a.created_time, a.attachment_id)
        )
        for attachment_row in (await self._tx.execute(query_attachments)).mappings():
            attached[attachment_row["entry_id"]].append(ATTACHMENT.from_row(attachment_row))
        return [
            ENTRY.from_row(row, tags=tags[row["entry_id"]], attachments=tuple(attached[row["entry_id"]]))
            for row in rows
        ]
