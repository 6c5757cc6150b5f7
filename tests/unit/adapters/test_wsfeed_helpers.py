"""Backoff, request chunking, ordering filters and counters shared by the feeds."""

from __future__ import annotations

import random

import pytest

from tradesim.adapters.wsfeed.backoff import Backoff
from tradesim.adapters.wsfeed.dialect import Unusable
from tradesim.adapters.wsfeed.fields import decimal_field, ms_field
from tradesim.adapters.wsfeed.framing import chunked
from tradesim.adapters.wsfeed.ordering import Recency, TradeFilter
from tradesim.adapters.wsfeed.stats import FeedStats


def test_backoff_grows_with_jitter_up_to_the_cap_and_resets() -> None:
    backoff = Backoff(0.5, 8.0, rng=random.Random(7))
    first = backoff.next_delay()
    assert 0 <= first <= 0.5  # right after a (re)start: quick
    delays = [backoff.next_delay() for _ in range(8)]
    ceilings = [0.5, 1, 2, 4, 8, 8, 8, 8]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    backoff.reset()
    assert backoff.next_delay() <= 0.5
    assert backoff.attempt == 0
    with pytest.raises(ValueError):
        Backoff(0, 1)


def test_chunked_respects_both_limits() -> None:
    items = ["a" * 5] * 7
    assert [len(g) for g in chunked(items, max_items=3, max_chars=100, size=len)] == [3, 3, 1]
    assert [len(g) for g in chunked(items, max_items=None, max_chars=12, size=len)] == [2, 2, 2, 1]
    assert chunked(["x" * 50], max_items=None, max_chars=10, size=len) == [["x" * 50]]


def test_recency_refuses_older_and_lets_equal_through() -> None:
    recency = Recency()
    assert recency.admit("k", 10)
    assert recency.admit("k", 10)
    assert not recency.admit("k", 9)
    assert recency.admit("other", 1)
    assert recency.last("k") == 10


def test_trade_filter_drops_repeats_and_older_trades() -> None:
    trades = TradeFilter()
    assert trades.admit("k", 10, "a")
    assert not trades.admit("k", 10, "a")
    assert trades.admit("k", 10, "b")
    assert not trades.admit("k", 9, "c")
    assert trades.admit("k", 11, "a")


def test_fields_are_strict() -> None:
    assert str(decimal_field("0.00000010", "x")) == "1.0E-7"
    for bad in (1.5, 2, None, "", "1e", "Infinity", "NaN"):
        with pytest.raises(Unusable):
            decimal_field(bad, "x")
    assert ms_field("1700000000000", "t") == ms_field(1700000000000, "t") == 1700000000000
    for bad in ("-1", "1.5", 1.5, True, "١٢"):
        with pytest.raises(Unusable):
            ms_field(bad, "t")


def test_stats_count_drops_by_reason() -> None:
    stats = FeedStats("t")
    for _ in range(3):
        stats.drop("not_json", "x")
    stats.count("pong")
    assert stats.snapshot() == {"pong": 1, "dropped.not_json": 3}
