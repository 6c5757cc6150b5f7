"""Credentials: password hashing and signed tokens, and the error for a caller who is not authenticated."""

from __future__ import annotations

from typing import Literal, Protocol

import attrs

from tradesim.domain.errors import TradesimError
from tradesim.ports.messaging import Subscription

TokenKind = Literal["access", "refresh"]


class Unauthenticated(TradesimError):
    """The caller has no valid credentials (missing, malformed, tampered, expired or revoked). Log in again."""

    code = "UNAUTHENTICATED"


class InvalidToken(Unauthenticated):
    code = "INVALID_TOKEN"


@attrs.frozen(slots=True)
class TokenClaims:
    """What a signed token says. Times are epoch ms; `family_id` is set on refresh tokens only."""

    subject: str
    kind: TokenKind
    token_id: str
    issued_at: int
    expires_at: int
    family_id: str = ""


class SecretBox(Protocol):
    """Seals short secrets (API key secrets) for storage, with a key derived from the deployment's
    secrets, and opens them again. A sealed value is text safe for any column."""

    def seal(self, secret: str) -> str: ...

    def open(self, sealed: str) -> str:
        """Raises:
        ValueError: `sealed` was not sealed by this box's key, or was altered.
        """
        ...


class PasswordHasher(Protocol):
    """Slow, salted password hashing (argon2). Async because a good hash costs tens of milliseconds."""

    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool:
        """True when `password` matches; False for a mismatch or a malformed hash (never raises)."""
        ...


class RevocationBus(Protocol):
    """Token families (one login and every token rotated from it) revoked by logout or by reuse of a
    rotated refresh token, and revoked API keys (`application.api_keys.revoked_key_name`), told to
    every api process so that their open sockets of that login or key end."""

    async def publish(self, family_id: str) -> None: ...

    def subscribe(self) -> Subscription[str]:
        """Families and keys revoked from now on."""
        ...


class TokenCodec(Protocol):
    """Signs claims into a compact token and reads them back.

    `decode` checks the signature and the shape only; expiry is the caller's policy (it owns the clock).
    """

    def encode(self, claims: TokenClaims) -> str: ...

    def decode(self, token: str) -> TokenClaims:
        """Raises:
        InvalidToken: malformed, signed with another key, or missing a claim.
        """
        ...
