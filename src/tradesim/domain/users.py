"""Users of the service (traders and strategy developers) and their sessions."""

from __future__ import annotations

import attrs

from tradesim.domain.errors import InvalidInput


def _lower(value: str) -> str:
    return value.lower()


def _email(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    local, _, host = value.partition("@")
    if not local or "." not in host or len(value) > 254 or value != value.strip():
        raise InvalidInput(f"{value!r} is not an email address")


@attrs.frozen(slots=True)
class User:
    """`email` is stored lower-cased; `password_hash` is an argon2 hash, never the password."""

    user_id: str
    email: str = attrs.field(converter=_lower, validator=_email)
    password_hash: str = attrs.field(repr=False)
    created_time: int = 0


@attrs.frozen(slots=True)
class RefreshToken:
    """One refresh token (by its id, never its value). Tokens of one login form a `family`:
    using one replaces it with the next; using a replaced one again revokes the family."""

    token_id: str
    user_id: str
    family_id: str
    expires_at: int
    created_time: int
    revoked: bool = False
    replaced_by: str = ""
