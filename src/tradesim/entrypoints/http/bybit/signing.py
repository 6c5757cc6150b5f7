"""Bybit's request signature and time window, checked exactly as Bybit checks them.

Signature: lowercase hex HMAC-SHA256 under the API secret of
`timestamp + apiKey + recvWindow + payload`, where the payload is the query string as received
(GET; clients differ in ordering, so it is never re-sorted) or the body bytes as received (POST).
A query value that the HTTP library percent-encoded on the wire was signed unescaped, so the
decoded form is tried when the raw one differs. Window: accepted when
`now - recvWindow <= timestamp < now + 1000`.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import unquote_plus

#: How far ahead of the server's clock a request may be stamped (Bybit's rule).
FUTURE_TOLERANCE_MS = 1000
DEFAULT_RECV_WINDOW_MS = 5000


def sign(secret: str, message: str | bytes) -> str:
    data = message.encode() if isinstance(message, str) else message
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def rest_message(timestamp: str, api_key: str, recv_window: str, payload: bytes) -> bytes:
    return (timestamp + api_key + recv_window).encode() + payload


def signature_matches(secret: str, timestamp: str, api_key: str, recv_window: str, payload: bytes, given: str) -> bool:
    given = given.lower()
    if hmac.compare_digest(sign(secret, rest_message(timestamp, api_key, recv_window, payload)), given):
        return True
    # Decoded only when the payload as received does not match: most requests never need it.
    decoded = unquote_plus(payload.decode("latin-1")).encode()
    return decoded != payload and hmac.compare_digest(
        sign(secret, rest_message(timestamp, api_key, recv_window, decoded)), given
    )


def within_window(now_ms: int, timestamp_ms: int, recv_window_ms: int) -> bool:
    return now_ms - recv_window_ms <= timestamp_ms < now_ms + FUTURE_TOLERANCE_MS


def websocket_signature_matches(secret: str, expires: str, given: str) -> bool:
    """The private socket's `op:auth`: HMAC of `"GET/realtime" + expires`."""
    return hmac.compare_digest(sign(secret, "GET/realtime" + expires), given.lower())
