"""API keys for the Bybit-compatible api (`/v5`)."""

from __future__ import annotations

import builtins
from typing import Annotated

import attrs
import msgspec

Label = Annotated[str, msgspec.Meta(max_length=64, examples=["my bot"])]


@attrs.frozen
class ApiKeyCreate:
    """A key for one of the caller's accounts; `readOnly` keys may read but never trade."""

    accountId: str
    label: Label | None = None
    readOnly: bool = False


@attrs.frozen
class ApiKeyOut:
    """A key as listed: never its secret."""

    apiKeyId: str
    apiKey: str
    accountId: str
    label: str
    readOnly: bool
    createdTime: int


@attrs.frozen
class ApiKeyCreated:
    """The new key with its secret: shown this once, never again."""

    apiKeyId: str
    apiKey: str
    apiSecret: str
    accountId: str
    label: str
    readOnly: bool
    createdTime: int


@attrs.frozen
class ApiKeyList:
    list: builtins.list[ApiKeyOut]
