"""Request bodies bounded while they stream, whatever the framing.

Quart checks its `MAX_CONTENT_LENGTH` against the bytes it holds, and a reader that iterates the
body (the multipart parser does) empties what it holds after each chunk: a body sent without a
`Content-Length` then passed any cap. This body counts every byte received instead.
"""

from __future__ import annotations

from typing import Any

from quart.wrappers.request import Body, Request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from tradesim.entrypoints.http.json_depth import JsonTooDeep


class BoundedBody(Body):
    def __init__(self, expected_content_length: int | None, max_content_length: int | None) -> None:
        super().__init__(expected_content_length, max_content_length)
        self._received = 0

    def append(self, data: bytes) -> None:
        if not data or self._must_raise is not None:
            return
        self._received += len(data)
        if self._max_content_length is not None and self._received > self._max_content_length:
            self._refuse()
            return
        super().append(data)

    async def __anext__(self) -> bytes:
        # Quart looks for a refusal only before it waits for data; one made meanwhile would read as the end.
        try:
            data = await super().__anext__()
        except StopAsyncIteration:
            if self._must_raise is not None:
                raise self._must_raise from None
            raise
        if self._must_raise is not None:
            raise self._must_raise
        return data

    def limit(self, max_content_length: int, expected_content_length: int | None) -> None:
        """Lower this request's cap (a route that takes less than the app-wide one), counting what came already."""
        self._max_content_length = max_content_length
        if self._received > max_content_length or (expected_content_length or 0) > max_content_length:
            self._refuse()

    def _refuse(self) -> None:
        # What was held goes at once; whatever still arrives is dropped (see `append`).
        self._data.clear()
        self._must_raise = RequestEntityTooLarge()
        self.set_complete()


class BoundedRequest(Request):
    body_class = BoundedBody

    def on_json_loading_failed(self, error: Exception) -> Any:
        if isinstance(error, JsonTooDeep):
            raise BadRequest(f"the body's {error}") from None
        return super().on_json_loading_failed(error)
