"""The app's JSON (request bodies, responses, error bodies) through msgspec.

Quart's default provider is the standard library's `json`, whose encoder goes through Python
layers (its `default` hook, the encoder object) around its C core; msgspec's is one C call, and
every request that carries or returns JSON pays it. Keys stay sorted, as the default provider has them,
so a response's text does not change with the provider. Decimals become strings (msgspec's
default, and the default provider's too). A number too large for a float is refused as malformed
JSON (400) rather than read as infinity.
"""

from __future__ import annotations

from typing import Any

import msgspec
from quart import Quart, Response
from quart.json.provider import JSONProvider

from tradesim.entrypoints.http.json_depth import check_depth


def _unknown(value: object) -> Any:
    # What the default provider also serialises beyond msgspec's own types: markup.
    html = getattr(value, "__html__", None)
    if html is not None:
        return str(html())
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


class MsgspecJSONProvider(JSONProvider):
    mimetype = "application/json"

    def __init__(self, app: Quart) -> None:
        super().__init__(app)
        self._quart = app
        self._encoder = msgspec.json.Encoder(enc_hook=_unknown, order="sorted")
        self._unsorted = msgspec.json.Encoder(enc_hook=_unknown)
        self._decoder = msgspec.json.Decoder()

    def encode(self, obj: Any) -> bytes:
        try:
            return self._encoder.encode(obj)
        except TypeError:
            # msgspec sorts only text keys; the OpenAPI document has numbers (status codes), which
            # are written as text then, in the document's own order.
            return self._unsorted.encode(obj)

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return self.encode(obj).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        # msgspec.DecodeError and JsonTooDeep are ValueErrors: Quart answers them as a malformed body (400).
        check_depth(s)
        return self._decoder.decode(s)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        body = self.encode(self._prepare_response_obj(args, kwargs)) + b"\n"
        return self._quart.response_class(body, mimetype=self.mimetype)
