"""Bybit's signature and time window, on the worked vectors of ../shared/protocols/bybit-v5.md §6.1."""

from __future__ import annotations

from tradesim.entrypoints.http.bybit.signing import sign, signature_matches, within_window

SECRET, KEY, TS, WINDOW = "demo-secret-do-not-use", "DEMOKEY123", "1700000000000", "5000"
POST_BODY = (
    b'{"category":"linear","symbol":"BTCUSDT","side":"Buy","orderType":"Limit","qty":"0.001",'
    b'"price":"30000","timeInForce":"GTC"}'
)


def test_the_documented_get_and_post_vectors_verify() -> None:
    get_sign = "7fb1045dc3f147cbcd9239d5c734ffeccc89347aaf52333e8bbd7be55d609021"
    post_sign = "8ddd2144c8e2fb9df2115a974d3bd2851cb1737f2f2fc236dc509140b22083d6"
    assert signature_matches(SECRET, TS, KEY, WINDOW, b"category=linear&symbol=BTCUSDT", get_sign)
    assert signature_matches(SECRET, TS, KEY, WINDOW, POST_BODY, post_sign)
    assert signature_matches(SECRET, TS, KEY, WINDOW, POST_BODY, post_sign.upper())
    # Re-ordered or re-serialised payloads are other messages.
    assert not signature_matches(SECRET, TS, KEY, WINDOW, b"symbol=BTCUSDT&category=linear", get_sign)
    assert not signature_matches(SECRET, TS, KEY, WINDOW, POST_BODY.replace(b",", b", "), post_sign)


def test_a_value_escaped_on_the_wire_verifies_against_what_the_client_signed() -> None:
    signed = sign(SECRET, TS + KEY + WINDOW + "orderLinkId=a b/c&category=linear")
    assert signature_matches(SECRET, TS, KEY, WINDOW, b"orderLinkId=a%20b%2Fc&category=linear", signed)


def test_the_window_is_bybits() -> None:
    now = 1_700_000_000_000
    assert within_window(now, now - 5000, 5000)
    assert not within_window(now, now - 5001, 5000)
    assert within_window(now, now + 999, 5000)
    assert not within_window(now, now + 1000, 5000)
