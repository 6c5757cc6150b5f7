"""The trade journal: a user's notes with screenshots, and per-account statistics.

Entries belong to a user; an entry that names an account or an order must name one of theirs.
Screenshots go to the blob store under ``journal/{user}/{entry}/{attachment}.{ext}``; their
records are written after the bytes, and the bytes are deleted again if the record fails.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from tradesim.application.ownership import existing_user, owned_account
from tradesim.domain.errors import InvalidInput, NotFound
from tradesim.domain.images import EXTENSIONS, MAX_ATTACHMENTS_PER_ENTRY, TooManyAttachments, check_image
from tradesim.domain.journal import Attachment, JournalEntry, clean_filename
from tradesim.domain.metrics import AccountStats, account_stats
from tradesim.ports.clock import Clock
from tradesim.ports.storage import BlobStore
from tradesim.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

#: How much history the statistics read (the newest fills and ledger entries of the account).
STATS_HISTORY = 10_000


@attrs.frozen
class EntryFields:
    """What a user writes. `None` leaves a field unchanged on update."""

    title: str | None = None
    notes: str | None = None
    tags: tuple[str, ...] | None = None
    account_id: str | None = None
    order_id: str | None = None
    session_start: int | None = None
    session_end: int | None = None


@attrs.frozen
class StoredImage:
    """An attachment's bytes, or the presigned `url` to fetch them from when the store has one."""

    attachment: Attachment
    data: bytes | None
    url: str | None


class JournalService:
    def __init__(self, uow_factory: UnitOfWorkFactory, blobs: BlobStore, clock: Clock, ids: Callable[[], str]) -> None:
        self._uow = uow_factory
        self._blobs = blobs
        self._clock = clock
        self._ids = ids

    async def create(self, user_id: str, fields: EntryFields) -> JournalEntry:
        now = self._clock.now_ms()
        if not fields.title or not fields.title.strip():
            raise InvalidInput("title must not be empty")
        entry = JournalEntry(
            entry_id=self._ids(), user_id=user_id, title=fields.title, created_time=now, updated_time=now
        )
        entry = _apply(entry, fields)
        async with self._uow() as uow:
            await existing_user(uow, user_id)
            await self._check_refs(uow, user_id, entry)
            await uow.journal.add(entry)
            await uow.commit()
        return entry

    async def get(self, user_id: str, entry_id: str) -> JournalEntry:
        async with self._uow() as uow:
            return await self._owned(uow, user_id, entry_id)

    async def list(
        self, user_id: str, *, account_id: str | None = None, tag: str | None = None, limit: int = 100
    ) -> list[JournalEntry]:
        async with self._uow() as uow:
            return await uow.journal.list_by_user(user_id, account_id=account_id, tag=tag, limit=limit)

    async def update(self, user_id: str, entry_id: str, fields: EntryFields) -> JournalEntry:
        if fields.title is not None and not fields.title.strip():
            raise InvalidInput("title must not be empty")
        async with self._uow() as uow:
            entry = await self._owned(uow, user_id, entry_id)
            updated = attrs.evolve(_apply(entry, fields), updated_time=self._clock.now_ms())
            await self._check_refs(uow, user_id, updated)
            await uow.journal.save(updated)
            await uow.commit()
        return updated

    async def delete(self, user_id: str, entry_id: str) -> None:
        async with self._uow() as uow:
            entry = await self._owned(uow, user_id, entry_id)
            await uow.journal.delete(entry_id)
            await uow.commit()
        for attachment in entry.attachments:
            await self._blobs.delete(attachment.key)

    async def attach(self, user_id: str, entry_id: str, data: bytes, filename: str = "") -> Attachment:
        """Raises: NotFound, ImageTooLarge, UnsupportedImageType, TooManyAttachments."""
        content_type = check_image(data)
        filename = clean_filename(filename)
        async with self._uow() as uow:
            entry = await self._owned(uow, user_id, entry_id)
        if len(entry.attachments) >= MAX_ATTACHMENTS_PER_ENTRY:
            raise TooManyAttachments(f"an entry holds at most {MAX_ATTACHMENTS_PER_ENTRY} attachments")
        attachment_id = self._ids()
        key = f"journal/{user_id}/{entry_id}/{attachment_id}.{EXTENSIONS[content_type]}"
        attachment = Attachment(
            attachment_id=attachment_id,
            entry_id=entry_id,
            key=key,
            content_type=content_type,
            size=len(data),
            created_time=self._clock.now_ms(),
            filename=filename,
        )
        await self._blobs.put(key, data, content_type)
        try:
            async with self._uow() as uow:
                await self._owned(uow, user_id, entry_id)
                await uow.journal.add_attachment(attachment)
                await uow.commit()
        except BaseException:
            await self._blobs.delete(key)
            raise
        return attachment

    async def image(self, user_id: str, entry_id: str, attachment_id: str) -> StoredImage:
        attachment = await self._attachment(user_id, entry_id, attachment_id)
        url = await self._blobs.url(attachment.key)
        if url is not None:
            return StoredImage(attachment, None, url)
        return StoredImage(attachment, await self._blobs.get(attachment.key), None)

    async def detach(self, user_id: str, entry_id: str, attachment_id: str) -> None:
        attachment = await self._attachment(user_id, entry_id, attachment_id)
        async with self._uow() as uow:
            await uow.journal.delete_attachment(attachment_id)
            await uow.commit()
        await self._blobs.delete(attachment.key)

    async def stats(self, user_id: str, account_id: str) -> AccountStats:
        async with self._uow() as uow:
            account = await owned_account(uow, user_id, account_id)
            executions = await uow.executions.list_by_account(account_id, limit=STATS_HISTORY)
            ledger = await uow.ledger.list_by_account(account_id, limit=STATS_HISTORY)
            orders = {}
            for order_id in {e.order_id for e in executions}:
                order = await uow.orders.get(order_id)
                if order is not None:
                    orders[order_id] = order
        # The repositories list newest first; the statistics read history forwards.
        return account_stats(executions[::-1], orders, ledger[::-1], coin=account.currency)

    async def _attachment(self, user_id: str, entry_id: str, attachment_id: str) -> Attachment:
        async with self._uow() as uow:
            entry = await self._owned(uow, user_id, entry_id)
        found = next((a for a in entry.attachments if a.attachment_id == attachment_id), None)
        if found is None:
            raise NotFound(f"attachment {attachment_id} not found")
        return found

    @staticmethod
    async def _owned(uow: UnitOfWork, user_id: str, entry_id: str) -> JournalEntry:
        entry = await uow.journal.get(entry_id)
        if entry is None or entry.user_id != user_id:
            raise NotFound(f"journal entry {entry_id} not found")
        return entry

    @staticmethod
    async def _check_refs(uow: UnitOfWork, user_id: str, entry: JournalEntry) -> None:
        if entry.account_id:
            await owned_account(uow, user_id, entry.account_id)
        if entry.order_id:
            order = await uow.orders.get(entry.order_id)
            account = await uow.accounts.get(order.account_id) if order is not None else None
            if account is None or account.user_id != user_id:
                # Another user's order is missing as a whole: naming its account would tell its id.
                raise NotFound(f"order {entry.order_id} not found")
        if (
            entry.session_start is not None
            and entry.session_end is not None
            and entry.session_end < entry.session_start
        ):
            raise InvalidInput("sessionEnd must not be before sessionStart")


def _apply(entry: JournalEntry, fields: EntryFields) -> JournalEntry:
    changes = {k: v for k, v in attrs.asdict(fields, recurse=False).items() if v is not None}
    if "tags" in changes:
        changes["tags"] = list(changes["tags"])
    return attrs.evolve(entry, **changes)
