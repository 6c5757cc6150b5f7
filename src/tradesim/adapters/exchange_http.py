"""GET JSON from an exchange's public REST api, politely: paced, and retried with backoff.

Retried (exponential backoff, or the server's own `Retry-After`): network errors and
timeouts, HTTP 429 and 5xx, and answers the exchange-specific `verdict` calls transient
(Bybit's non-zero `retCode` other than a parameter error, say). Not retried: other 4xx and
answers the verdict calls permanent (`ExchangeRejected`). HTTP 403 is `ExchangeUnavailable`
at once: Bybit answers it to an IP over its limit (it asks for >= 10 minutes of silence) or
in a blocked region, and hammering it would only extend the ban.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import attrs
import httpx

from tradesim.ports.errors import ExchangeRejected, ExchangeUnavailable

Sleep = Callable[[float], Awaitable[None]]


@attrs.frozen
class Transient:
    """The verdict on an answer worth asking again; `wait_s` overrides the backoff."""

    reason: str
    wait_s: float | None = None


@attrs.frozen
class Permanent:
    reason: str


Verdict = Transient | Permanent | None
#: Judges a parsed 200 answer: None when it is good.
Judge = Callable[[Any], Verdict]
#: Reads rate-limit headers: seconds to hold the next request back, or None.
LimitHint = Callable[[httpx.Response], float | None]


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


class PoliteHttp:
    """One exchange's REST base. `min_interval_s` spaces requests out; the sleeps are injectable."""

    def __init__(
        self,
        base_url: str,
        *,
        name: str,
        client: httpx.AsyncClient | None = None,
        min_interval_s: float = 0.1,
        max_attempts: int = 6,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        timeout_s: float = 10.0,
        limit_hint: LimitHint | None = None,
        sleep: Sleep | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._client = client or httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=timeout_s, headers={"User-Agent": "tradesim-history/1"}
        )
        self._owns_client = client is None
        self._min_interval = min_interval_s
        self._max_attempts = max(1, max_attempts)
        self._backoff = backoff_s
        self._max_backoff = max_backoff_s
        self._limit_hint = limit_hint
        self._sleep: Sleep = asyncio.sleep if sleep is None else sleep
        self._monotonic = monotonic
        self._not_before = 0.0
        self._lock = asyncio.Lock()
        self.requests = 0
        self.retries = 0

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def get(self, path: str, params: Mapping[str, str | int], judge: Judge) -> Any:
        """The parsed JSON of a good answer. Raises `ExchangeUnavailable` or `ExchangeRejected`."""
        problem = ""
        for attempt in range(1, self._max_attempts + 1):
            wait: float | None = None
            async with self._lock:  # one request at a time per exchange: the pacing is global
                await self._pace()
                self.requests += 1
                try:
                    response = await self._client.get(path, params=dict(params))
                except httpx.TransportError as error:
                    problem = f"{type(error).__name__}: {error}".rstrip(": ")
                else:
                    self._hold_back(response)
                    problem, wait, body = self._judge(response, judge)
                    if not problem:
                        return body
            if attempt == self._max_attempts:
                break
            self.retries += 1
            await self._sleep(wait if wait is not None else min(self._max_backoff, self._backoff * 2 ** (attempt - 1)))
        raise ExchangeUnavailable(f"{self.name} {path}: {problem} (gave up after {self._max_attempts} attempts)")

    def _judge(self, response: httpx.Response, judge: Judge) -> tuple[str, float | None, Any]:
        status = response.status_code
        if status == 429 or status >= 500:
            return f"HTTP {status}", retry_after(response), None
        if status == 403:
            raise ExchangeUnavailable(
                f"{self.name} answered HTTP 403: this IP is rate-limited (wait at least 10 minutes) "
                "or the exchange refuses its region"
            )
        if status >= 400:
            raise ExchangeRejected(f"{self.name} refused {response.url}: HTTP {status} {response.text[:200]}")
        try:
            body = response.json()
        except ValueError:
            return f"answer is not JSON: {response.text[:100]!r}", None, None
        verdict = judge(body)
        if isinstance(verdict, Permanent):
            raise ExchangeRejected(f"{self.name} refused {response.url}: {verdict.reason}")
        if isinstance(verdict, Transient):
            return verdict.reason, verdict.wait_s, None
        return "", None, body

    async def _pace(self) -> None:
        delay = self._not_before - self._monotonic()
        if delay > 0:
            await self._sleep(delay)
        self._not_before = self._monotonic() + self._min_interval

    def _hold_back(self, response: httpx.Response) -> None:
        hint = self._limit_hint(response) if self._limit_hint else None
        if hint:
            self._not_before = max(self._not_before, self._monotonic() + hint)
