"""Every captured Bitget message under ../shared/data/bitget-samples is normalised or knowingly skipped.

The feed subscribes to `ticker`, `trade` and `candle1m` on USDT-FUTURES and SPOT. Order books
(`books*`), inverse COIN-FUTURES and the newer V3/UTA dialect are recognised and skipped
with their reason; acks and errors are control messages.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from tests.conftest import shared_data
from tests.samples import Sample, bitget_groups, bitget_message, docs_push
from tradesim.adapters.bitget.feed import BitgetDialect
from tradesim.adapters.wsfeed.dialect import Unusable
from tradesim.adapters.wsfeed.stats import FeedStats
from tradesim.domain.enums import Category, Side
from tradesim.domain.market import Candle, Ticker, Trade

KINDS = {"ticker": Ticker, "trade": Trade, "candle1m": Candle}


def _dialect(group: list[Sample]) -> BitgetDialect:
    symbols = sorted(
        {
            s.message["arg"].get("instId") or s.message["arg"].get("symbol")
            for s in group
            if isinstance(s.message, dict) and isinstance(s.message.get("arg"), dict)
        }
        - {None}
    )
    return BitgetDialect(["USDT-FUTURES", "SPOT"], symbols or ["BTCUSDT"], FeedStats("conformance"))


def _expected_skip(arg: dict[str, Any]) -> str | None:
    if "topic" in arg:
        return "unsupported_dialect"
    if arg["instType"] not in ("USDT-FUTURES", "SPOT"):
        return "unsupported_inst_type"
    if arg["channel"] not in KINDS:
        return "unsupported_channel"
    return None


def test_every_captured_bitget_message_is_normalised_or_skipped_with_a_reason() -> None:
    root = shared_data("bitget-samples")
    tally: Counter[str] = Counter()
    produced: Counter[str] = Counter()
    total = 0
    for group in bitget_groups(root):
        dialect = _dialect(group)
        for sample in group:
            total += 1
            if sample.role == "rest":
                assert sample.message["response"]["code"] == "00000", sample.source
                tally["skipped: REST response (read by the history client, not the feed)"] += 1
                continue
            if sample.role == "request":
                assert sample.message["op"] == "subscribe", sample.source
                tally["skipped: a client request (what the feed sends, not receives)"] += 1
                continue
            message = sample.message
            try:
                events = dialect.handle(message)
            except Unusable as exc:
                reason = exc.reason
            else:
                reason = None
            if reason is not None:
                assert reason == _expected_skip(message["arg"]), sample.source
                tally[f"skipped: {reason}"] += 1
                continue
            if "action" not in message:
                assert events is None, sample.source
                assert message["event"] in ("subscribe", "unsubscribe", "error"), sample.source
                tally["control"] += 1
                continue
            arg = message["arg"]
            assert _expected_skip(arg) is None, f"{sample.source} should have been skipped"
            assert events, sample.source
            assert all(isinstance(e, KINDS[arg["channel"]]) for e in events), sample.source
            assert {e.symbol for e in events} == {arg["instId"]}
            produced.update(type(e).__name__ for e in events)
            tally["normalised"] += 1
    print("\nBitget captures:", dict(tally), "events:", dict(produced))
    assert sum(tally.values()) == total
    assert produced["Ticker"] >= 3
    assert produced["Trade"] >= 4


def _shared() -> Any:
    return shared_data("bitget-samples").parent


def test_a_real_futures_ticker_has_exact_values() -> None:
    message = bitget_message(_shared(), "v2_futures_ticker_snapshot_USDT-FUTURES_STORJUSDT.json")
    [ticker] = BitgetDialect(["USDT-FUTURES"], ["STORJUSDT"], FeedStats("t")).handle(message) or []
    assert ticker == Ticker(
        "STORJUSDT", Decimal("0.4706"), Decimal("0.4705"), Decimal("0.4708"), Decimal("0.4705"), 1730332823155,
        Category.LINEAR, Decimal("0.0001"), 1730361600000, Decimal("1367.3"), Decimal("2535.3"),
    )  # fmt: skip


def test_a_spot_ticker_has_its_book_and_uses_the_last_price_as_mark() -> None:
    message = docs_push(_shared(), "bitget", "ws_v2_spot_ticker_subscribe_and_snapshot.json")
    [ticker] = BitgetDialect(["SPOT"], ["ETHUSDT"], FeedStats("t")).handle(message) or []
    assert isinstance(ticker, Ticker)
    assert (ticker.bid_price, ticker.ask_price, ticker.last_price) == (
        Decimal("1792"), Decimal("2200.1"), Decimal("2200.10"),
    )  # fmt: skip
    assert ticker.mark_price == ticker.last_price
    assert ticker.category is Category.SPOT
    assert ticker.ts == 1695702438018  # the ticker's own ts (a string on the wire), not the envelope's


def test_real_trades_have_lower_case_sides_mapped_and_come_out_in_time_order() -> None:
    shared = _shared()
    [trade] = (
        BitgetDialect(["SPOT"], ["BTCUSDT"], FeedStats("t")).handle(bitget_message(shared, "v2_spot_trade_update.json"))
        or []
    )
    assert trade == Trade(
        "BTCUSDT", Decimal("72389.99"), Decimal("0.001373"), Side.BUY, 1730332858796, "1235671058980749319",
        Category.SPOT,
    )  # fmt: skip
    pushed = docs_push(shared, "bitget", "ws_v2_futures_trade_subscribe_and_push.json")
    trades = BitgetDialect(["USDT-FUTURES"], ["BTCUSDT"], FeedStats("t")).handle(pushed) or []
    assert [t.ts for t in trades] == [1695716759514, 1695716760565]  # Bitget sends newest first
    assert [t.side for t in trades if isinstance(t, Trade)] == [Side.SELL, Side.BUY]
