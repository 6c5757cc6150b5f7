"""JSON nesting bounded before parsing: msgspec (as any recursive parser) fails deep inside the
interpreter's recursion limit on `[[[[...]]]]`, which a caller must not be able to reach."""

from __future__ import annotations

import re

#: Far deeper than any body or socket message of ours (the deepest nests three levels).
MAX_JSON_DEPTH = 32
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(rb"[\[\]{}]")


class JsonTooDeep(ValueError):
    """A ValueError, so that everything that reads JSON answers it as malformed input."""


def check_depth(document: str | bytes) -> None:
    """Raises `JsonTooDeep` when `document` nests arrays and objects deeper than `MAX_JSON_DEPTH`."""
    data = document.encode() if isinstance(document, str) else document
    # Cheap for every ordinary body: with fewer opening brackets than the limit, nothing nests that deep.
    if data.count(b"[") + data.count(b"{") <= MAX_JSON_DEPTH:
        return
    depth = 0
    for bracket in _BRACKETS.finditer(_STRINGS.sub(b"", data)):
        depth += 1 if bracket.group() in (b"[", b"{") else -1
        if depth > MAX_JSON_DEPTH:
            raise JsonTooDeep(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
