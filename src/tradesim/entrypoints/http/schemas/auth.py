"""Auth bodies."""

from __future__ import annotations

from typing import Annotated

import attrs
import msgspec

Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254, examples=["trader@example.com"])]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=128)]
Token = Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]


@attrs.frozen
class Credentials:
    email: Email
    password: Password


@attrs.frozen
class UserOut:
    userId: str
    email: str
    createdTime: int


@attrs.frozen
class RefreshIn:
    refreshToken: Token


@attrs.frozen
class TokensOut:
    """`expiresIn`: seconds the access token lives; `refreshExpiresIn`: seconds the refresh token lives."""

    accessToken: str
    refreshToken: str
    expiresIn: int
    refreshExpiresIn: int
    tokenType: str = "Bearer"
