"""The Bitget candle client against a fake Bitget v2 over real HTTP on loopback."""

from __future__ import annotations

import json

import pytest

from tests.conftest import shared_data
from tests.support.candles import walk
from tests.support.fake_exchange import FakeBitget, Fault, serving
from tradesim.adapters.bitget.rest import BitgetHistorySource
from tradesim.domain.enums import Category
from tradesim.ports.errors import ExchangeRejected

T0 = 1_700_006_400_000  # 2023-11-15 00:00 UTC
MINUTE = 60_000
DAY = 86_400_000


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


async def test_recent_futures_candles_come_in_windows_of_one_page() -> None:
    candles = walk("BTCUSDT", T0, 2500)
    now = T0 + 3 * DAY
    with serving(FakeBitget(candles, server_time=now)) as fake:
        source = BitgetHistorySource(fake.url, sleep=Sleeps(), min_interval_s=0, wall_ms=lambda: now)
        try:
            got = await source.fetch_candles("BTCUSDT", T0 + 10 * MINUTE, T0 + 2410 * MINUTE)
        finally:
            await source.aclose()
    assert got == candles[10:2410]
    assert [r.path for r in fake.requests] == ["/api/v2/mix/market/candles"] * 3
    assert fake.requests[0].params == {
        "symbol": "BTCUSDT",
        "granularity": "1m",
        "productType": "USDT-FUTURES",
        "startTime": str(T0 + 10 * MINUTE),
        "endTime": str(T0 + 1009 * MINUTE),
        "limit": "1000",
    }


async def test_old_spot_candles_come_from_history_candles_200_at_a_time() -> None:
    candles = walk("BTCUSDT", T0, 500)
    now = T0 + 60 * DAY
    with serving(FakeBitget(candles, server_time=now)) as fake:
        source = BitgetHistorySource(fake.url, sleep=Sleeps(), min_interval_s=0, wall_ms=lambda: now)
        try:
            got = await source.fetch_candles("BTCUSDT", T0, T0 + 500 * MINUTE, category=Category.SPOT)
        finally:
            await source.aclose()
    assert [c.open_time for c in got] == [c.open_time for c in candles]
    assert all(c.category is Category.SPOT for c in got)
    assert [r.path for r in fake.requests] == ["/api/v2/spot/market/history-candles"] * 3
    assert {r.params["granularity"] for r in fake.requests} == {"1min"}


async def test_errors_are_retried_and_request_errors_are_not() -> None:
    candles = walk("BTCUSDT", T0, 10)
    with serving(FakeBitget(candles, server_time=T0 + DAY)) as fake:
        fake.faults.extend([Fault(200, {"code": "45001", "msg": "system busy"}), Fault(500, {"code": "50000"})])
        sleeps = Sleeps()
        source = BitgetHistorySource(fake.url, sleep=sleeps, min_interval_s=0, wall_ms=lambda: T0 + DAY)
        try:
            assert await source.fetch_candles("BTCUSDT", T0, T0 + 10 * MINUTE) == candles
            fake.faults.append(Fault(400, {"code": "40034", "msg": "Parameter symbol does not exist"}))
            with pytest.raises(ExchangeRejected, match="40034"):
                await source.fetch_candles("NOPE", T0, T0 + MINUTE)
        finally:
            await source.aclose()
    assert sleeps == [0.5, 1.0]


async def test_the_documented_answer_parses_and_the_forming_candle_is_dropped() -> None:
    documented = json.loads(
        shared_data("bitget-samples", "docs-examples", "rest_v2_mix_market_candles.json").read_text()
    )
    response = documented["response"] | {"requestTime": 1_695_836_100_000 + 30_000}
    with serving(FakeBitget()) as fake:
        fake.faults.append(Fault(200, response))
        source = BitgetHistorySource(fake.url, sleep=Sleeps(), min_interval_s=0, wall_ms=lambda: 1_695_836_200_000)
        try:
            got = await source.fetch_candles("BTCUSDT", 1_695_835_800_000, 1_695_835_800_000 + 1000 * MINUTE)
        finally:
            await source.aclose()
    assert [(c.open_time, str(c.open), str(c.low), str(c.volume), str(c.turnover)) for c in got] == [
        (1_695_835_800_000, "26210.5", "26194.5", "26.26", "687897.63")
    ]
