"""API keys: created by a user for one of their accounts, listed, revoked; resolved per request.

A request resolves its key from the keys the process read lately (`key_cache`), else from the
store. A revocation drops the key from that cache and is told on the revocation bus
(`revoked_key_name`), so that every api process drops it too and closes the `/v5/private` sockets
that authenticated with it.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable

import attrs

from tradesim.application.key_cache import KeyCache, revoked_key_name
from tradesim.application.limits import Quota
from tradesim.application.ownership import owned_account
from tradesim.domain.api_keys import ApiKey
from tradesim.domain.errors import NotFound, RuleViolation
from tradesim.ports.clock import Clock
from tradesim.ports.security import RevocationBus, SecretBox, Unauthenticated
from tradesim.ports.unit_of_work import UnitOfWorkFactory

#: As Bybit: at most this many live keys per account.
MAX_KEYS_PER_ACCOUNT = 20
_ALPHABET = string.ascii_letters + string.digits


def random_text(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


class UnknownApiKey(Unauthenticated):
    """No live key by this name: never issued, or revoked."""

    code = "UNKNOWN_API_KEY"


class TooManyApiKeys(RuleViolation):
    code = "TOO_MANY_API_KEYS"


@attrs.frozen
class CreatedKey:
    """The key and its secret in clear: what the user is shown once."""

    key: ApiKey
    secret: str = attrs.field(repr=False)


@attrs.frozen
class KeyCredentials:
    """A live key and its secret, for checking a request's signature."""

    key: ApiKey
    secret: str = attrs.field(repr=False)


class ApiKeyService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        box: SecretBox,
        clock: Clock,
        ids: Callable[[], str],
        random: Callable[[int], str] = random_text,
        single_statement_uow_factory: UnitOfWorkFactory | None = None,
        quota: Quota | None = None,
        revocations: RevocationBus | None = None,
        cache: KeyCache | None = None,
    ) -> None:
        """`single_statement_uow_factory` (`ports.unit_of_work`): for the one read that resolves
        a request's key; defaults to `uow_factory`. `quota`: live keys per user, over all their
        accounts (TRADESIM_MAX_API_KEYS_PER_USER); None for none beyond the per-account limit.
        `revocations`: where revoked keys are told, so that sockets authenticated with them close.
        `cache`: live keys read lately (`key_cache`), shared by the process; None to read every time."""
        self._uow = uow_factory
        self._reads = single_statement_uow_factory or uow_factory
        self._box = box
        self._clock = clock
        self._ids = ids
        self._random = random
        self._quota = quota
        self._revocations = revocations
        self._cache = cache

    async def create(self, user_id: str, account_id: str, *, label: str = "", read_only: bool = False) -> CreatedKey:
        """A new key for the user's account (18 characters, its secret 36, as Bybit's).

        Raises:
            NotFound: the account is missing or someone else's. InvalidInput: a bad label.
            TooManyApiKeys: the account has `MAX_KEYS_PER_ACCOUNT` live keys already.
            QuotaExceeded: the user holds their quota of live keys over all their accounts.
        """
        secret = self._random(36)
        key = ApiKey(
            api_key_id=self._ids(),
            api_key=self._random(18),
            user_id=user_id,
            account_id=account_id,
            sealed_secret=self._box.seal(secret),
            created_time=self._clock.now_ms(),
            label=label,
            read_only=read_only,
        )
        async with self._uow() as uow:
            await owned_account(uow, user_id, account_id)
            users_live = [k for k in await uow.api_keys.list_by_user(user_id) if not k.revoked]
            if self._quota is not None:
                self._quota.check(len(users_live))
            live = [k for k in users_live if k.account_id == account_id]
            if len(live) >= MAX_KEYS_PER_ACCOUNT:
                raise TooManyApiKeys(f"an account has at most {MAX_KEYS_PER_ACCOUNT} live api keys; revoke one first")
            await uow.api_keys.add(key)
            await uow.commit()
        return CreatedKey(key, secret)

    async def list(self, user_id: str) -> list[ApiKey]:
        """The user's live keys, oldest first."""
        async with self._uow() as uow:
            return [k for k in await uow.api_keys.list_by_user(user_id) if not k.revoked]

    async def revoke(self, user_id: str, api_key_id: str) -> ApiKey:
        """Raises `NotFound` for a missing, revoked or someone else's key."""
        async with self._uow() as uow:
            key = await uow.api_keys.get(api_key_id)
            if key is None or key.user_id != user_id or key.revoked:
                raise NotFound(f"api key {api_key_id} not found")
            now = self._clock.now_ms()
            if not await uow.api_keys.revoke(api_key_id, now):
                raise NotFound(f"api key {api_key_id} not found")
            await uow.commit()
        if self._cache is not None:
            self._cache.drop(key.api_key)
        if self._revocations is not None:
            await self._revocations.publish(revoked_key_name(key.api_key))
        return attrs.evolve(key, revoked_time=now)

    async def credentials(self, api_key: str) -> KeyCredentials:
        """The live key named `api_key` and its secret. Raises `UnknownApiKey`."""
        cache = self._cache
        if cache is None:
            return await self._read_credentials(api_key)
        if (kept := cache.get(api_key)) is not None:
            return kept
        return await cache.read_once(api_key, self._read_credentials)

    async def _read_credentials(self, api_key: str) -> KeyCredentials:
        async with self._reads() as uow:
            key = await uow.api_keys.get_by_key(api_key) if api_key else None
        if key is None or key.revoked:
            raise UnknownApiKey("api key is unknown or revoked")
        return KeyCredentials(key, self._box.open(key.sealed_secret))
