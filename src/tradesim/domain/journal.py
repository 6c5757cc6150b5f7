"""The trade journal: notes, tags and screenshots per trade or per session."""

from __future__ import annotations

import attrs

from tradesim.domain.errors import InvalidInput

MAX_TAGS = 20
MAX_NOTES = 20_000
#: What file systems allow for one name; a longer one is not a file name a person sent.
MAX_FILENAME = 255


def clean_filename(name: str) -> str:
    """The name an upload is kept under: its last path part, without control characters.

    Raises `InvalidInput` for a name longer than `MAX_FILENAME` characters."""
    if len(name) > MAX_FILENAME:
        raise InvalidInput(f"the file name must be at most {MAX_FILENAME} characters, not {len(name)}")
    # A browser sends a bare name; a path (or a traversal like ../..) is kept only as its last part.
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in base if c.isprintable()).strip()


def _tags(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise InvalidInput("tags must be a list of strings")
    cleaned: list[str] = []
    for tag in value:
        if not isinstance(tag, str) or not tag.strip() or len(tag) > 40:
            raise InvalidInput("each tag must be a non-empty string of at most 40 characters")
        text = tag.strip().lower()
        if text not in cleaned:
            cleaned.append(text)
    if len(cleaned) > MAX_TAGS:
        raise InvalidInput(f"at most {MAX_TAGS} tags per entry")
    return tuple(cleaned)


def _notes(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if len(value) > MAX_NOTES:
        raise InvalidInput(f"{attribute.name} must be at most {MAX_NOTES} characters")


@attrs.frozen(slots=True)
class Attachment:
    """An image stored in the blob store under `key`; only its owner may read it."""

    attachment_id: str
    entry_id: str
    key: str
    content_type: str
    size: int
    created_time: int
    filename: str = ""


@attrs.frozen(slots=True)
class JournalEntry:
    """A note about one trade (`order_id`) or one session (`account_id` and a time range), or both.

    `r_multiple` is the trader's own risk-reward reading (a decimal string), when they give one.
    """

    entry_id: str
    user_id: str
    title: str = attrs.field(validator=_notes)
    notes: str = attrs.field(default="", validator=_notes)
    tags: tuple[str, ...] = attrs.field(default=(), converter=_tags)
    account_id: str = ""
    order_id: str = ""
    session_start: int | None = None
    session_end: int | None = None
    created_time: int = 0
    updated_time: int = 0
    attachments: tuple[Attachment, ...] = ()
