"""The Bybit kline client against a fake Bybit speaking `/v5/market/kline` over real HTTP on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest

from tests.conftest import shared_data
from tests.support.candles import walk
from tests.support.fake_exchange import FakeBybit, Fault, serving
from tradesim.adapters.bybit.rest import BybitHistorySource
from tradesim.ports.errors import ExchangeRejected, ExchangeUnavailable

T0 = 1_700_006_400_000  # 2023-11-15 00:00 UTC
MINUTE = 60_000


@pytest.fixture
def bybit() -> Iterator[FakeBybit]:
    with serving(FakeBybit(walk("BTCUSDT", T0, 2500), server_time=T0 + 10 * 86_400_000)) as fake:
        assert isinstance(fake, FakeBybit)
        yield fake


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(fake: FakeBybit, sleeps: Sleeps, **options: object) -> BybitHistorySource:
    defaults: dict[str, object] = {"min_interval_s": 0.0, "backoff_s": 0.5, "max_attempts": 4}
    return BybitHistorySource(fake.url, sleep=sleeps, **(defaults | options))  # type: ignore[arg-type]


async def test_pages_backwards_until_the_range_is_covered_and_returns_it_ascending(bybit: FakeBybit) -> None:
    sleeps = Sleeps()
    source = client(bybit, sleeps)
    try:
        got = await source.fetch_candles("BTCUSDT", T0 + 100 * MINUTE, T0 + 2400 * MINUTE)
    finally:
        await source.aclose()
    assert got == bybit.candles[100:2400]
    assert [str(c.close) for c in got[:2]] == [str(c.close) for c in bybit.candles[100:102]]
    ends = [int(r.params["end"]) for r in bybit.requests]
    # 2300 rows: 1000 + 1000 + 300, each page ending just below the oldest row of the one before.
    assert ends == [T0 + 2400 * MINUTE - 1, T0 + 1400 * MINUTE - 1, T0 + 400 * MINUTE - 1]
    assert {(r.params["interval"], r.params["limit"], r.params["category"]) for r in bybit.requests} == {
        ("1", "1000", "linear")
    }
    assert sleeps == []


async def test_the_candle_still_forming_is_dropped(bybit: FakeBybit) -> None:
    bybit.server_time = T0 + 10 * MINUTE + 30_000  # halfway through minute 10
    source = client(bybit, Sleeps())
    try:
        got = await source.fetch_candles("BTCUSDT", T0, T0 + 20 * MINUTE)
    finally:
        await source.aclose()
    assert [c.open_time for c in got] == [T0 + m * MINUTE for m in range(10)]


async def test_error_pages_are_retried_with_backoff_and_then_succeed(bybit: FakeBybit) -> None:
    bybit.faults.extend(
        [
            Fault(200, {"retCode": 10006, "retMsg": "Too many visits!", "result": {}, "time": T0}),
            Fault(503, {"retCode": 10016, "retMsg": "service unavailable"}),
            Fault(429, {"retCode": 10006, "retMsg": "Too many visits!"}, {"Retry-After": "3"}),
        ]
    )
    sleeps = Sleeps()
    source = client(bybit, sleeps)
    try:
        got = await source.fetch_candles("BTCUSDT", T0, T0 + 5 * MINUTE)
    finally:
        await source.aclose()
    assert got == bybit.candles[:5]
    assert sleeps == [0.5, 1.0, 3.0]  # doubling backoff, then the server's Retry-After
    assert (source.http.requests, source.http.retries) == (4, 3)


async def test_gives_up_after_the_last_attempt(bybit: FakeBybit) -> None:
    bybit.faults.extend([Fault(502, b"<html>bad gateway</html>")] * 4)
    sleeps = Sleeps()
    source = client(bybit, sleeps)
    try:
        with pytest.raises(ExchangeUnavailable, match=r"HTTP 502.*after 4 attempts"):
            await source.fetch_candles("BTCUSDT", T0, T0 + 5 * MINUTE)
    finally:
        await source.aclose()
    assert sleeps == [0.5, 1.0, 2.0]


async def test_a_parameter_error_is_not_retried(bybit: FakeBybit) -> None:
    bybit.faults.append(Fault(200, {"retCode": 10001, "retMsg": "params error: Symbol Is Invalid", "result": {}}))
    source = client(bybit, Sleeps())
    try:
        with pytest.raises(ExchangeRejected, match="Symbol Is Invalid"):
            await source.fetch_candles("NOPEUSDT", T0, T0 + 5 * MINUTE)
    finally:
        await source.aclose()
    assert len(bybit.requests) == 1


async def test_a_403_stops_at_once(bybit: FakeBybit) -> None:
    bybit.faults.append(Fault(403, b"access too frequent"))
    source = client(bybit, Sleeps())
    try:
        with pytest.raises(ExchangeUnavailable, match="10 minutes"):
            await source.fetch_candles("BTCUSDT", T0, T0 + 5 * MINUTE)
    finally:
        await source.aclose()
    assert len(bybit.requests) == 1


async def test_an_unreachable_server_is_unavailable() -> None:
    with serving(FakeBybit()) as fake:
        url = fake.url
    sleeps = Sleeps()
    source = BybitHistorySource(url, sleep=sleeps, min_interval_s=0, max_attempts=3, backoff_s=0.25)
    try:
        with pytest.raises(ExchangeUnavailable, match="ConnectError"):
            await source.fetch_candles("BTCUSDT", T0, T0 + MINUTE)
    finally:
        await source.aclose()
    assert sleeps == [0.25, 0.5]


class SleepingClock(Sleeps):
    """Monotonic time that moves only while the code under test sleeps, so that the waits it
    computes do not depend on how long this machine took to answer and parse a page."""

    now = 0.0

    def monotonic(self) -> float:
        return self.now

    async def __call__(self, seconds: float) -> None:
        await super().__call__(seconds)
        self.now += seconds


async def test_requests_are_spaced_and_an_exhausted_limit_waits_for_its_reset(bybit: FakeBybit) -> None:
    wall = T0 + 10 * 86_400_000
    bybit.headers = {"X-Bapi-Limit": "10", "X-Bapi-Limit-Status": "0", "X-Bapi-Limit-Reset-Timestamp": str(wall + 1500)}
    sleeps = SleepingClock()
    source = BybitHistorySource(
        bybit.url, sleep=sleeps, monotonic=sleeps.monotonic, min_interval_s=0.2, wall_ms=lambda: wall
    )
    try:
        await source.fetch_candles("BTCUSDT", T0, T0 + 2100 * MINUTE)  # three pages
    finally:
        await source.aclose()
    assert len(bybit.requests) == 3
    assert sleeps == [1.5, 1.5]  # the reset, 1.5 s away, not the 0.2 s spacing


async def test_the_documented_answer_parses_to_exact_candles(bybit: FakeBybit) -> None:
    documented = json.loads(
        shared_data("bybit-samples", "docs-examples", "rest_market_kline_inverse_BTCUSD_60.json").read_text()
    )
    bybit.faults.append(Fault(200, documented["response"]))
    source = client(bybit, Sleeps())
    try:
        got = await source.fetch_candles("BTCUSD", 1_670_601_600_000, 1_670_608_800_001)
    finally:
        await source.aclose()
    assert [(c.open_time, c.open, c.close, c.volume, c.turnover) for c in got] == [
        (1_670_601_600_000, Decimal("17086.5"), Decimal("17071.5"), Decimal("6356"), Decimal("0.37288112")),
        (1_670_605_200_000, Decimal("17071.5"), Decimal("17071"), Decimal("4177"), Decimal("0.24469757")),
        (1_670_608_800_000, Decimal("17071"), Decimal("17055.5"), Decimal("268611"), Decimal("15.74462667")),
    ]


async def test_a_malformed_row_is_rejected_not_guessed(bybit: FakeBybit) -> None:
    bybit.faults.append(
        Fault(
            200,
            {"retCode": 0, "retMsg": "OK", "result": {"list": [["1700006400000", "1.0", 1.5, "0.5", "1", "2", "3"]]}},
        )
    )
    source = client(bybit, Sleeps())
    try:
        with pytest.raises(ExchangeRejected, match="malformed"):
            await source.fetch_candles("BTCUSDT", T0, T0 + MINUTE)
    finally:
        await source.aclose()
