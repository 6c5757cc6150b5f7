"""Every captured Bybit message under ../shared/data/bybit-samples is normalised or knowingly skipped.

Each received message goes through the dialect of the connection it came from (one per
capture file, in capture order): market data becomes `Ticker`/`Trade`/`Candle` events,
control replies are recognised as such, and everything else is skipped with its reason.
Inverse-contract captures share the linear wire shape (and hold the only real ticker
deltas), so they go through the linear dialect; tradesim itself streams linear and spot.
"""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import shared_data
from tests.samples import Sample, bybit_groups, bybit_message, docs_push
from tradesim.adapters.bybit.feed import BybitDialect
from tradesim.adapters.bybit.parse import apply_levels
from tradesim.adapters.wsfeed.dialect import Unusable
from tradesim.adapters.wsfeed.stats import FeedStats
from tradesim.domain.enums import Category, Side
from tradesim.domain.market import Candle, Ticker, Trade

#: Topics the feed does not subscribe to, skipped as `unsupported_topic`.
UNSUPPORTED = ("orderbook.50.", "orderbook.500.", "liquidation.", "allLiquidation.")
KINDS = {"tickers": Ticker, "publicTrade": Trade, "kline": Candle}


def _symbols(group: list[Sample]) -> list[str]:
    found = {
        s.message["topic"].rsplit(".", 1)[-1] for s in group if isinstance(s.message, dict) and "topic" in s.message
    }
    return sorted(found) or ["BTCUSDT"]


def _dialects(group: list[Sample]) -> dict[str, BybitDialect]:
    symbols = _symbols(group)
    linear = BybitDialect(Category.LINEAR, symbols, FeedStats("conformance-linear"))
    spot = BybitDialect(Category.SPOT, symbols, FeedStats("conformance-spot"))
    return {"linear": linear, "inverse": linear, "option": linear, "private": linear, "spot": spot}


def _outcome(dialect: BybitDialect, sample: Sample) -> tuple[str, Any]:
    try:
        events = dialect.handle(sample.message)
    except Unusable as exc:
        return "skipped", exc.reason
    return ("control", None) if events is None else ("events", events)


def _check_events(sample: Sample, events: list[Any]) -> None:
    topic: str = sample.message["topic"]
    name = topic.split(".", 1)[0]
    if name == "orderbook" or (name == "tickers" and sample.category == "spot"):
        # A spot Ticker needs both halves (last price from tickers, bid/ask from orderbook.1):
        # none until both arrived on the connection (see the composition test below).
        assert len(events) <= 1, sample.source
        assert all(isinstance(e, Ticker) for e in events), sample.source
        return
    kind = KINDS[name]
    assert all(isinstance(e, kind) for e in events), sample.source
    if name == "publicTrade":
        assert len(events) == len(sample.message["data"]), sample.source
    elif name == "kline":
        assert [e.closed for e in events] == [row["confirm"] for row in sample.message["data"]]
    else:
        assert len(events) == 1, sample.source


def test_every_captured_bybit_message_is_normalised_or_skipped_with_a_reason() -> None:
    root = shared_data("bybit-samples")
    tally: Counter[str] = Counter()
    produced: Counter[str] = Counter()
    total = 0
    for group in bybit_groups(root):
        dialects = _dialects(group)
        snapshots: set[tuple[str | None, str]] = set()
        for sample in group:
            total += 1
            if sample.role == "rest":
                assert "response" in sample.message, sample.source
                tally["skipped: REST response (read by the history client, not the feed)"] += 1
                continue
            if sample.role == "request":
                assert sample.message["op"] in ("subscribe", "unsubscribe", "ping", "auth"), sample.source
                tally["skipped: a client request (what the feed sends, not receives)"] += 1
                continue
            assert sample.category is not None
            dialect = dialects[sample.category]
            outcome, detail = _outcome(dialect, sample)
            topic = sample.message.get("topic")
            if topic is None:
                assert outcome == "control", f"{sample.source}: {outcome} {detail}"
                tally["control"] += 1
            elif topic.startswith(UNSUPPORTED) or (topic.startswith("orderbook.1.") and sample.category != "spot"):
                assert (outcome, detail) == ("skipped", "unsupported_topic"), sample.source
                tally[f"skipped: unsupported topic {topic.rsplit('.', 1)[0]}"] += 1
            elif sample.message["type"] == "delta" and (sample.category, topic) not in snapshots:
                # A capture file holding a delta without its snapshot: nothing to merge into.
                assert (outcome, detail) == ("skipped", "delta_before_snapshot"), sample.source
                tally["skipped: delta without its snapshot in the capture"] += 1
            else:
                snapshots.add((sample.category, topic))
                assert outcome == "events", f"{sample.source}: {detail}"
                _check_events(sample, detail)
                produced.update(type(e).__name__ for e in detail)
                tally[f"normalised ({sample.category})"] += 1
    print("\nBybit captures:", dict(tally), "events:", dict(produced))
    assert sum(tally.values()) == total
    assert produced["Ticker"] >= 6
    assert produced["Trade"] >= 9
    assert produced["Candle"] >= 2


def _shared() -> Any:
    return shared_data("bybit-samples").parent


def test_a_real_linear_ticker_snapshot_has_exact_values() -> None:
    message = bybit_message(_shared(), "linear_tickers_BTCUSDT_snapshot.json")
    [ticker] = BybitDialect(Category.LINEAR, ["BTCUSDT"], FeedStats("t")).handle(message) or []
    assert isinstance(ticker, Ticker)
    assert ticker == Ticker(
        "BTCUSDT",
        Decimal("28550.70"),
        Decimal("28550.70"),
        Decimal("28550.80"),
        Decimal("28552.81"),
        1680673821770,
        Category.LINEAR,
        Decimal("0.0001"),
        1680681600000,
        Decimal("2.049"),
        Decimal("15.328"),
    )
    assert str(ticker.last_price) == "28550.70"  # exact, trailing zero kept


@pytest.mark.parametrize(
    ("snapshot", "delta", "last", "mark", "funding"),
    [
        ("inverse_tickers_BTCUSD_snapshot.json", "inverse_tickers_BTCUSD_delta.json", "28560.00", "28560.00", "0.0001"),
        (
            "inverse_futures_tickers_BTCUSDU23_snapshot.json",
            "inverse_futures_tickers_BTCUSDU23_delta.json",
            "29026.00",
            "29023.60",
            None,
        ),
    ],
)
def test_a_real_delta_keeps_the_fields_it_does_not_carry(
    snapshot: str, delta: str, last: str, mark: str, funding: str | None
) -> None:
    shared = _shared()
    first, second = bybit_message(shared, snapshot), bybit_message(shared, delta)
    symbol = first["data"]["symbol"]
    dialect = BybitDialect(Category.LINEAR, [symbol], FeedStats("t"))
    dialect.handle(first)
    [merged] = dialect.handle(second) or []
    assert isinstance(merged, Ticker)
    assert "lastPrice" not in second["data"]
    assert "markPrice" not in second["data"]
    assert merged.last_price == Decimal(last)
    assert merged.mark_price == Decimal(mark)
    assert merged.bid_price == Decimal(second["data"]["bid1Price"])
    assert merged.ask_size == Decimal(second["data"]["ask1Size"])
    assert merged.funding_rate == (Decimal(funding) if funding else None)
    assert merged.ts == second["ts"]


def test_real_trades_keep_their_ids_sides_and_exact_sizes() -> None:
    shared = _shared()
    linear = BybitDialect(Category.LINEAR, ["LTCUSDT"], FeedStats("t"))
    [trade] = linear.handle(bybit_message(shared, "linear_publicTrade_LTCUSDT.json")) or []
    assert trade == Trade(
        "LTCUSDT", Decimal("94.53"), Decimal("0.4"), Side.BUY, 1680688979983,
        "4c7b6bdc-b4a3-5716-9c7b-bbe01dc7072f", Category.LINEAR,
    )  # fmt: skip
    spot = BybitDialect(Category.SPOT, ["BTCUSDT"], FeedStats("t"))
    trades = spot.handle(bybit_message(shared, "spot_publicTrade_BTCUSDT_4trades.json")) or []
    assert [t.qty for t in trades if isinstance(t, Trade)] == [
        Decimal("0.041732"), Decimal("0.008513"), Decimal("0.042384"), Decimal("0.055371"),
    ]  # fmt: skip
    assert {t.category for t in trades} == {Category.SPOT}


def test_a_spot_ticker_combines_the_last_price_with_the_level_one_book() -> None:
    shared = _shared()
    spot = BybitDialect(Category.SPOT, ["BTCUSDT"], FeedStats("t"))
    assert spot.handle(bybit_message(shared, "spot_orderbook1_BTCUSDT_snapshot.json")) == []  # no last price yet
    assert spot.handle(bybit_message(shared, "spot_orderbook1_BTCUSDT_delta.json")) == []
    [ticker] = spot.handle(docs_push(shared, "bybit", "ws_spot_tickers_subscribe_and_snapshot.json")) or []
    assert isinstance(ticker, Ticker)
    # The delta changed the bid size only; the ask (absent from the delta: "a": []) is kept.
    assert (ticker.bid_price, ticker.bid_size) == (Decimal("28165.07"), Decimal("0.166754"))
    assert (ticker.ask_price, ticker.ask_size) == (Decimal("28165.08"), Decimal("0.996816"))
    assert ticker.last_price == ticker.mark_price == Decimal("21109.77")
    assert ticker.category is Category.SPOT
    assert ticker.ts == 1680652806615  # the newer of the two sources


def test_a_real_level_one_delta_with_zero_sizes_moves_the_best_levels() -> None:
    message = bybit_message(_shared(), "linear_orderbook1_BTCUSDT_delta_with_zero_size.json")
    bids = {Decimal("27994.60"): Decimal("1")}
    asks = {Decimal("27994.80"): Decimal("2")}
    apply_levels(bids, message["data"]["b"])
    apply_levels(asks, message["data"]["a"])
    assert bids == {Decimal("27991.70"): Decimal("0.777")}
    assert asks == {Decimal("27994.40"): Decimal("0.058")}


def test_the_documented_kline_push_is_an_open_candle() -> None:
    kline = json.loads(shared_data("bybit-samples", "nautilus-fixtures", "ws_kline.json").read_text())
    [candle] = BybitDialect(Category.LINEAR, ["BTCUSDT"], FeedStats("t")).handle(kline) or []
    assert candle == Candle(
        "BTCUSDT", 1672324800000, Decimal("16649.5"), Decimal("16677"), Decimal("16608"), Decimal("16677"),
        Decimal("2.081"), "5m", Decimal("34666.4005"), False, Category.LINEAR,
    )  # fmt: skip
