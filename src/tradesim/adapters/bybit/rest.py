"""Bybit v5 REST klines (`GET /v5/market/kline`) as a `HistorySource`.

Bybit answers at most 1000 rows a request, newest first, each a list of strings
``[startTime, open, high, low, close, volume, turnover]``. To cover ``[start, end)`` we ask for
``start..end-1`` (Bybit's `end` is inclusive), then page backwards with ``end = oldest - 1``
until a page comes back short or reaches `start`. A row whose minute has not ended by the
answer's server `time` is the candle still forming, and is dropped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Final

import httpx

from tradesim.adapters.exchange_http import Permanent, PoliteHttp, Sleep, Transient, Verdict
from tradesim.adapters.system_clock import wall_clock_ms
from tradesim.domain.enums import Category
from tradesim.domain.errors import InvalidInput
from tradesim.domain.market import Candle
from tradesim.domain.numbers import to_decimal
from tradesim.ports.errors import ExchangeRejected

KLINE_PATH: Final = "/v5/market/kline"
PAGE: Final = 1000
MINUTE_MS: Final = 60_000
#: retCodes that mean the request itself is wrong (10001: parameter error, e.g. an unknown symbol).
PERMANENT_CODES: Final = frozenset({10001, 10003, 10004, 10005, 10010})
_MAX_LIMIT_WAIT_S: Final = 60.0


def judge_bybit(body: Any) -> Verdict:
    if not isinstance(body, dict) or "retCode" not in body:
        return Permanent(f"not a Bybit v5 answer: {str(body)[:200]}")
    code = body["retCode"]
    if code == 0:
        result = body.get("result")
        if not isinstance(result, dict) or not isinstance(result.get("list"), list):
            return Permanent(f"retCode 0 without result.list: {str(body)[:200]}")
        return None
    message = f"retCode {code}: {body.get('retMsg', '')}"
    return Permanent(message) if code in PERMANENT_CODES else Transient(message)


def bybit_limit_hint(wall_ms: Callable[[], int]) -> Callable[[httpx.Response], float | None]:
    """Waits for the reset when `X-Bapi-Limit-Status` says the allowance is used up."""

    def hint(response: httpx.Response) -> float | None:
        remaining = response.headers.get("X-Bapi-Limit-Status", "")
        reset = response.headers.get("X-Bapi-Limit-Reset-Timestamp", "")
        if not remaining.isdigit() or int(remaining) > 1 or not reset.isdigit():
            return None
        return min(_MAX_LIMIT_WAIT_S, max(0.0, (int(reset) - wall_ms()) / 1000))

    return hint


class BybitHistorySource:
    """`HistorySource` over Bybit's REST base URL (settings: `bybit_rest_url`)."""

    def __init__(
        self,
        base_url: str,
        *,
        client: httpx.AsyncClient | None = None,
        min_interval_s: float = 0.1,
        max_attempts: int = 6,
        backoff_s: float = 0.5,
        sleep: Sleep | None = None,
        wall_ms: Callable[[], int] = wall_clock_ms,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.http = PoliteHttp(
            base_url,
            name="Bybit",
            client=client,
            min_interval_s=min_interval_s,
            max_attempts=max_attempts,
            backoff_s=backoff_s,
            limit_hint=bybit_limit_hint(wall_ms),
            sleep=sleep,
            monotonic=monotonic,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def fetch_candles(
        self, symbol: str, start_ms: int, end_ms: int, *, category: Category = Category.LINEAR
    ) -> list[Candle]:
        found: dict[int, Candle] = {}
        upper = end_ms - 1
        while upper >= start_ms:
            params = {
                "category": category.value,
                "symbol": symbol,
                "interval": "1",
                "start": start_ms,
                "end": upper,
                "limit": PAGE,
            }
            body = await self.http.get(KLINE_PATH, params, judge_bybit)
            rows = body["result"]["list"]
            if not rows:
                break
            server_time = body.get("time") if isinstance(body.get("time"), int) else None
            oldest = upper + 1
            for row in rows:
                candle = _candle(symbol, category, row, server_time)
                oldest = min(oldest, candle.open_time)
                if candle.closed and start_ms <= candle.open_time < end_ms:
                    found[candle.open_time] = candle
            if len(rows) < PAGE or oldest <= start_ms:
                break
            if oldest > upper:
                raise ExchangeRejected(f"Bybit kline paging made no progress below {upper} for {symbol}")
            upper = oldest - 1
        return [found[t] for t in sorted(found)]


def _candle(symbol: str, category: Category, row: Any, server_time: int | None) -> Candle:
    try:
        start, open_, high, low, close, volume, turnover = row[:7]
        open_time = int(start)
        return Candle(
            symbol=symbol,
            open_time=open_time,
            open=to_decimal(open_, "open"),
            high=to_decimal(high, "high"),
            low=to_decimal(low, "low"),
            close=to_decimal(close, "close"),
            volume=to_decimal(volume, "volume"),
            turnover=to_decimal(turnover, "turnover"),
            closed=server_time is None or open_time + MINUTE_MS <= server_time,
            category=category,
        )
    except (InvalidInput, ValueError, TypeError) as error:
        raise ExchangeRejected(f"malformed Bybit kline row {row!r}: {error}") from error
