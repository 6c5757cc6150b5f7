"""Registration, login and token rotation.

Access tokens are short-lived signed tokens checked without touching the database. Refresh
tokens are signed too, and each one is also a `RefreshToken` record, so it can be rotated (every
use returns a new one and retires the old) and revoked. Presenting a retired refresh token again
means it leaked: the whole family (every token of that login) is revoked.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from tradesim.application.remembered import Remembered
from tradesim.domain.errors import Conflict, InvalidInput
from tradesim.domain.users import RefreshToken, User
from tradesim.ports.clock import Clock
from tradesim.ports.security import PasswordHasher, RevocationBus, TokenClaims, TokenCodec, Unauthenticated
from tradesim.ports.unit_of_work import UnitOfWorkFactory

MIN_PASSWORD = 8
#: argon2 takes any length, but hashing megabytes on request is a denial-of-service lever.
MAX_PASSWORD = 128


class InvalidCredentials(Unauthenticated):
    code = "INVALID_CREDENTIALS"


@attrs.frozen
class TokenPolicy:
    access_ttl_ms: int = 15 * 60 * 1000
    refresh_ttl_ms: int = 14 * 24 * 60 * 60 * 1000


@attrs.frozen
class TokenPair:
    access_token: str = attrs.field(repr=False)
    refresh_token: str = attrs.field(repr=False)
    expires_in_s: int
    refresh_expires_in_s: int


def check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(f"password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters")


#: How many verified access tokens an api process remembers (one per active session is plenty).
VERIFIED_TOKENS = 10_000


class AuthService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        hasher: PasswordHasher,
        tokens: TokenCodec,
        clock: Clock,
        ids: Callable[[], str],
        policy: TokenPolicy | None = None,
        revocations: RevocationBus | None = None,
    ) -> None:
        """`revocations`: where revoked families are told, so that open sockets of them end."""
        self._uow = uow_factory
        self._hasher = hasher
        self._tokens = tokens
        self._clock = clock
        self._ids = ids
        self._policy = policy or TokenPolicy()
        self._revocations = revocations
        self._dummy_hash: str | None = None
        #: Access tokens whose signature was checked, with their claims (bounded, least recently
        #: used first out). A token never changes, so only its expiry is checked again per request.
        self._verified: Remembered[str, TokenClaims] = Remembered(VERIFIED_TOKENS)

    async def register(self, email: str, password: str) -> User:
        """Raises: InvalidInput (email, password), DuplicateEmail."""
        check_password(password)
        user = User(self._ids(), email.strip(), "-", self._clock.now_ms())
        user = attrs.evolve(user, password_hash=await self._hasher.hash(password))
        async with self._uow() as uow:
            await uow.users.add(user)
            await uow.commit()
        return user

    async def login(self, email: str, password: str) -> TokenPair:
        """Raises: InvalidCredentials, the same for an unknown email and a wrong password."""
        async with self._uow() as uow:
            user = await uow.users.get_by_email(email.strip())
        if user is None:
            # Spend the same time as a real check, so response times do not reveal which emails exist.
            await self._hasher.verify(await self._dummy(), password)
            raise InvalidCredentials("email or password is wrong")
        if len(password) > MAX_PASSWORD or not await self._hasher.verify(user.password_hash, password):
            raise InvalidCredentials("email or password is wrong")
        return await self._issue(user.user_id, family_id=self._ids(), previous=None)

    async def refresh(self, refresh_token: str) -> TokenPair:
        """Rotate: the presented token is retired and a new pair returned.

        Raises:
            Unauthenticated: invalid, expired or revoked; or reused, which revokes its whole family.
        """
        claims = self._read(refresh_token, "refresh")
        async with self._uow() as uow:
            stored = await uow.refresh_tokens.get(claims.token_id)
        if stored is None or stored.user_id != claims.subject or stored.family_id != claims.family_id:
            raise Unauthenticated("refresh token is not known; log in again")
        if stored.revoked:
            raise Unauthenticated("refresh token was revoked; log in again")
        if stored.replaced_by:
            await self._revoke(stored.family_id)
            raise Unauthenticated("refresh token was already used; every session of this login is revoked")
        try:
            return await self._issue(stored.user_id, family_id=stored.family_id, previous=stored.token_id)
        except Conflict:
            # A concurrent request rotated the same token first: it was presented twice.
            await self._revoke(stored.family_id)
            raise Unauthenticated("refresh token was already used; every session of this login is revoked") from None

    async def logout(self, refresh_token: str) -> None:
        """Revoke the refresh token's family (this login on every device it was refreshed on)."""
        claims = self._read(refresh_token, "refresh", allow_expired=True)
        async with self._uow() as uow:
            stored = await uow.refresh_tokens.get(claims.token_id)
        if stored is None or stored.user_id != claims.subject:
            raise Unauthenticated("refresh token is not known")
        await self._revoke(stored.family_id)

    def authenticate(self, access_token: str) -> str:
        """The user id an access token names. Raises `Unauthenticated`."""
        return self.claims(access_token).subject

    def claims(self, access_token: str) -> TokenClaims:
        """What a valid, unexpired access token says (its expiry and login family end a socket's session).
        Raises `Unauthenticated`."""
        claims = self._verified.get(access_token)
        if claims is None:
            claims = self._read(access_token, "access")
            self._verified.remember(access_token, claims)
        elif claims.expires_at <= self._clock.now_ms():
            self._verified.forget(access_token)
            raise Unauthenticated("access token expired; refresh it")
        return claims

    def _read(self, token: str, kind: str, *, allow_expired: bool = False) -> TokenClaims:
        claims = self._tokens.decode(token)
        if claims.kind != kind:
            raise Unauthenticated(f"expected an {kind} token, got a {claims.kind} token")
        if not allow_expired and claims.expires_at <= self._clock.now_ms():
            raise Unauthenticated(f"{kind} token expired; " + ("refresh it" if kind == "access" else "log in again"))
        return claims

    async def _issue(self, user_id: str, *, family_id: str, previous: str | None) -> TokenPair:
        now = self._clock.now_ms()
        policy = self._policy
        token = RefreshToken(
            token_id=self._ids(),
            user_id=user_id,
            family_id=family_id,
            expires_at=now + policy.refresh_ttl_ms,
            created_time=now,
        )
        async with self._uow() as uow:
            if previous is None:
                await uow.refresh_tokens.add(token)
            elif not await uow.refresh_tokens.rotate(previous, token):
                raise Conflict("refresh token was rotated concurrently")
            await uow.commit()
        access = TokenClaims(user_id, "access", self._ids(), now, now + policy.access_ttl_ms, family_id)
        refresh = TokenClaims(user_id, "refresh", token.token_id, now, token.expires_at, family_id)
        return TokenPair(
            access_token=self._tokens.encode(access),
            refresh_token=self._tokens.encode(refresh),
            expires_in_s=policy.access_ttl_ms // 1000,
            refresh_expires_in_s=policy.refresh_ttl_ms // 1000,
        )

    async def _revoke(self, family_id: str) -> None:
        async with self._uow() as uow:
            await uow.refresh_tokens.revoke_family(family_id)
            await uow.commit()
        if self._revocations is not None:
            await self._revocations.publish(family_id)

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self._hasher.hash("not-a-real-password")
        return self._dummy_hash
