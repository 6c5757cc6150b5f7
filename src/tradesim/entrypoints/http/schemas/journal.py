"""Journal entries, attachments and statistics."""

from __future__ import annotations

import builtins
from typing import Annotated

import attrs
import msgspec

from tradesim.entrypoints.http.schemas.common import END, EpochMs, Id, Limit, SignedDecimal

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Notes = Annotated[str, msgspec.Meta(max_length=20_000)]
Tag = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
Tags = Annotated[builtins.list[Tag], msgspec.Meta(max_length=20)]
OptionalId = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.:-]{0,64}" + END, description="an id, or empty to unset")
]


@attrs.frozen
class JournalCreate:
    """A note about a trade (`orderId`), a session (`accountId`, `sessionStart`..`sessionEnd`), or both."""

    title: Title
    notes: Notes = ""
    tags: Tags = attrs.field(factory=list)
    accountId: OptionalId = ""
    orderId: OptionalId = ""
    sessionStart: EpochMs | None = None
    sessionEnd: EpochMs | None = None


@attrs.frozen
class JournalUpdate:
    """Fields to change; absent fields stay."""

    title: Title | None = None
    notes: Notes | None = None
    tags: Tags | None = None
    accountId: OptionalId | None = None
    orderId: OptionalId | None = None
    sessionStart: EpochMs | None = None
    sessionEnd: EpochMs | None = None


@attrs.frozen
class JournalQuery:
    accountId: Id | None = None
    tag: Tag | None = None
    limit: Limit = 100


@attrs.frozen
class AttachmentOut:
    """`url` serves the image to its owner (with the same bearer token), or redirects to a presigned URL."""

    attachmentId: str
    contentType: str
    size: int
    filename: str
    createdTime: int
    url: str


@attrs.frozen
class JournalOut:
    entryId: str
    title: str
    notes: str
    tags: builtins.list[str]
    accountId: str
    orderId: str
    sessionStart: int | None
    sessionEnd: int | None
    createdTime: int
    updatedTime: int
    attachments: builtins.list[AttachmentOut]


@attrs.frozen
class JournalList:
    list: builtins.list[JournalOut]


@attrs.frozen
class StatsQuery:
    accountId: Id


@attrs.frozen
class EquityPoint:
    ts: int
    equity: SignedDecimal


@attrs.frozen
class StatsOut:
    """Round-trip trades of the account; `winRate`, `avgRMultiple`, `sharpe` are empty when undefined.
    `maxDrawdown` is a fraction of the peak (0.25 = 25 %)."""

    accountId: str
    trades: int
    wins: int
    losses: int
    winRate: SignedDecimal
    avgRMultiple: SignedDecimal
    totalPnl: SignedDecimal
    maxDrawdown: SignedDecimal
    sharpe: SignedDecimal
    equityCurve: builtins.list[EquityPoint]
