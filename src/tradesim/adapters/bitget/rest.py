"""Bitget v2 REST candles as a `HistorySource`.

Futures (linear): ``/api/v2/mix/market/candles`` (``productType=USDT-FUTURES``,
``granularity=1m``); spot: ``/api/v2/spot/market/candles`` (``granularity=1min``). Both keep
about a month of 1m candles; older windows go to the ``history-candles`` endpoints, which
answer at most 200 rows. Rows are lists of strings ``[ts, open, high, low, close, baseVolume,
quoteVolume, ...]``. We walk forward in windows of `limit` minutes counted inclusively
(``endTime = startTime + (limit - 1) min``), each starting at the previous window's last minute:
a window never holds more rows than one page, so nothing is trimmed whichever end Bitget trims
from, and the one-minute overlap covers an exclusive `endTime` too. Bitget has no "closed" flag: a
row whose minute has not ended by the answer's `requestTime` is still forming and is dropped.
"""

from __future__ import annotations

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

MINUTE_MS: Final = 60_000
RECENT_PAGE: Final = 1000
HISTORY_PAGE: Final = 200
#: The plain candles endpoints keep about a month of 1m bars; stay safely inside it.
RECENT_SPAN_MS: Final = 28 * 86_400_000
_PATHS: Final = {
    (Category.LINEAR, False): "/api/v2/mix/market/candles",
    (Category.LINEAR, True): "/api/v2/mix/market/history-candles",
    (Category.SPOT, False): "/api/v2/spot/market/candles",
    (Category.SPOT, True): "/api/v2/spot/market/history-candles",
}


def judge_bitget(body: Any) -> Verdict:
    if not isinstance(body, dict) or "code" not in body:
        return Permanent(f"not a Bitget v2 answer: {str(body)[:200]}")
    code = str(body["code"])
    if code == "00000":
        return None if isinstance(body.get("data"), list) else Permanent("code 00000 without a data list")
    message = f"code {code}: {body.get('msg', '')}"
    # 400xx/401xx are request errors (bad parameter, unknown symbol); the rest may pass.
    return Permanent(message) if code.startswith(("400", "401")) else Transient(message)


class BitgetHistorySource:
    """`HistorySource` over Bitget's REST base URL (settings: `bitget_rest_url`)."""

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
    ) -> None:
        self.http = PoliteHttp(
            base_url,
            name="Bitget",
            client=client,
            min_interval_s=min_interval_s,
            max_attempts=max_attempts,
            backoff_s=backoff_s,
            sleep=sleep,
        )
        self._wall_ms = wall_ms

    async def aclose(self) -> None:
        await self.http.aclose()

    async def fetch_candles(
        self, symbol: str, start_ms: int, end_ms: int, *, category: Category = Category.LINEAR
    ) -> list[Candle]:
        found: dict[int, Candle] = {}
        last_minute = end_ms - 1 - (end_ms - 1) % MINUTE_MS
        window_start = start_ms - start_ms % MINUTE_MS
        while window_start <= last_minute:
            old = window_start < self._wall_ms() - RECENT_SPAN_MS
            page = HISTORY_PAGE if old else RECENT_PAGE
            window_last = min(last_minute, window_start + (page - 1) * MINUTE_MS)
            params: dict[str, str | int] = {
                "symbol": symbol,
                "granularity": "1m" if category is Category.LINEAR else "1min",
                "startTime": window_start,
                "endTime": window_last,
                "limit": page,
            }
            if category is Category.LINEAR:
                params["productType"] = "USDT-FUTURES"
            body = await self.http.get(_PATHS[(category, old)], params, judge_bitget)
            request_time = body.get("requestTime") if isinstance(body.get("requestTime"), int) else None
            for row in body["data"]:
                candle = _candle(symbol, category, row, request_time)
                if candle.closed and start_ms <= candle.open_time < end_ms:
                    found[candle.open_time] = candle
            if window_last >= last_minute:
                break
            window_start = window_last
        return [found[t] for t in sorted(found)]


def _candle(symbol: str, category: Category, row: Any, request_time: int | None) -> Candle:
    try:
        start, open_, high, low, close, base_volume, quote_volume = row[:7]
        open_time = int(start)
        return Candle(
            symbol=symbol,
            open_time=open_time,
            open=to_decimal(open_, "open"),
            high=to_decimal(high, "high"),
            low=to_decimal(low, "low"),
            close=to_decimal(close, "close"),
            volume=to_decimal(base_volume, "baseVolume"),
            turnover=to_decimal(quote_volume, "quoteVolume"),
            closed=request_time is None or open_time + MINUTE_MS <= request_time,
            category=category,
        )
    except (InvalidInput, ValueError, TypeError) as error:
        raise ExchangeRejected(f"malformed Bitget candle row {row!r}: {error}") from error
