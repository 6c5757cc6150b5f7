"""The abuse policies as one mechanism: rate limits over shared counters (`Throttle`, answered 429 with
a Retry-After) and count quotas per user (`Quota`, answered 409 QUOTA_EXCEEDED). A feature plugs in by
naming its limit: `throttle.check(Rate("api-key-create:" + user_id, 10, MINUTE))` or
`quotas.accounts.check(used)`; docs/security.md lists them with their settings."""

from __future__ import annotations

import attrs

from tradesim.domain.errors import TradesimError
from tradesim.ports.clock import Clock
from tradesim.ports.limits import RateCounters

MINUTE_MS = 60_000


class RateLimited(TradesimError):
    """Too many attempts in a window; retry after `retry_after_s`."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class QuotaExceeded(TradesimError):
    """The user already holds as many of something as the service allows; free one first."""

    code = "QUOTA_EXCEEDED"


@attrs.frozen
class Rate:
    """At most `limit` events under `key` in any `window_ms`; `what` names it in the refusal."""

    key: str
    limit: int
    window_ms: int = MINUTE_MS
    what: str = "attempts"


class Throttle:
    """`enabled=False` only for tests that hammer a limited route on purpose."""

    def __init__(self, counters: RateCounters, clock: Clock, *, enabled: bool = True) -> None:
        self._counters = counters
        self._clock = clock
        self.enabled = enabled

    async def check(self, *rates: Rate) -> None:
        """Count one event under each rate, in order. Raises `RateLimited` at the first one that is full
        (the ones before it counted the event: an attempt refused is still an attempt)."""
        if not self.enabled:
            return
        now = self._clock.now_ms()
        for rate in rates:
            wait_ms = await self._counters.take(rate.key, rate.limit, rate.window_ms, now)
            if wait_ms:
                retry = max(1, -(-wait_ms // 1000))
                raise RateLimited(
                    f"too many {rate.what} (at most {rate.limit} in {rate.window_ms // 1000} s); retry in {retry} s",
                    retry,
                )

    async def remember(self, key: str, ttl_ms: int) -> None:
        await self._counters.remember(key, ttl_ms)

    async def knows(self, key: str) -> bool:
        return await self._counters.knows(key)


@attrs.frozen
class Quota:
    """At most `limit` of `what` per user; `setting` is the environment variable that sets it."""

    what: str
    limit: int
    setting: str

    def check(self, used: int) -> None:
        """Raises `QuotaExceeded` when a user who holds `used` may not have one more."""
        if used >= self.limit:
            raise QuotaExceeded(
                f"at most {self.limit} {self.what} per user ({self.setting}); you have {used}: remove one first"
            )


@attrs.frozen
class Quotas:
    accounts: Quota
    replays: Quota
    api_keys: Quota
    strategy_runs: Quota


@attrs.frozen
class LoginPolicy:
    per_address: int = 20
    per_email_address: int = 5
    per_email: int = 50
    #: How long an address that logged in to an email stays exempt from that email's ceiling.
    known_address_ms: int = 30 * 24 * 3600 * 1000


class LoginThrottle:
    """Slows password guessing without letting anyone lock the owner out: attempts are limited per
    address, per email and address pair, and per email across addresses that never logged in to it
    (the owner's own addresses are exempt from that ceiling, so a flood from elsewhere leaves them in)."""

    def __init__(self, throttle: Throttle, policy: LoginPolicy) -> None:
        self._throttle = throttle
        self._policy = policy

    async def attempt(self, email: str, address: str) -> None:
        """Count a login attempt. Raises `RateLimited`."""
        email = normal_email(email)
        policy = self._policy
        rates = [
            Rate(f"login:addr:{address}", policy.per_address, what="login attempts from this address"),
            Rate(f"login:pair:{address}:{email}", policy.per_email_address, what="login attempts at this email"),
        ]
        if not await self._throttle.knows(_known(email, address)):
            rates.append(Rate(f"login:email:{email}", policy.per_email, what="login attempts at this email"))
        await self._throttle.check(*rates)

    async def succeeded(self, email: str, address: str) -> None:
        await self._throttle.remember(_known(normal_email(email), address), self._policy.known_address_ms)

    async def register_attempt(self, address: str) -> None:
        await self._throttle.check(
            Rate(f"register:addr:{address}", self._policy.per_address, what="registrations from this address")
        )


def normal_email(email: str) -> str:
    return email.strip().lower()[:254]


def _known(email: str, address: str) -> str:
    return f"login:known:{address}:{email}"
