"""A request's parameters as Bybit clients send them: the query string of a GET, the JSON object of
a POST. Clients differ (pybit casts numbers to strings, raw bots may not; ccxt sends booleans as
JSON booleans and as `true` in a query), so each reader accepts every form a client uses and
refuses anything else with retCode 10001 naming the parameter."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from tradesim.domain.enums import Category
from tradesim.domain.errors import InvalidInput
from tradesim.domain.numbers import to_decimal
from tradesim.entrypoints.http.bybit.envelope import PARAMS, BybitRefusal

#: The categories Bybit has; those tradesim does not simulate answer empty lists where listed.
BYBIT_CATEGORIES = ("linear", "spot", "inverse", "option")


def parse_body(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        # Decimals, never floats: a bot sending `"qty": 0.1` as a number means exactly 0.1.
        parsed = json.loads(body, parse_float=Decimal)
    except (ValueError, RecursionError):
        raise BybitRefusal(PARAMS, "params error: the body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise BybitRefusal(PARAMS, "params error: the body must be a JSON object")
    return parsed


def _bad(name: str, why: str) -> BybitRefusal:
    return BybitRefusal(PARAMS, f"params error: {name} {why}")


class Params:
    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = values

    def text(self, name: str, *, required: bool = False, choices: Iterable[str] | None = None) -> str:
        value = self._values.get(name)
        if value is None or value == "":
            if required:
                raise _bad(name, "is required")
            return ""
        if not isinstance(value, str):
            raise _bad(name, f"must be a string, not {type(value).__name__}")
        if len(value) > 128:
            raise _bad(name, "is too long")
        allowed = tuple(choices) if choices is not None else None
        if allowed is not None and value not in allowed:
            raise _bad(name, f"must be one of {', '.join(allowed)}, not {value!r}")
        return value

    def decimal(self, name: str, *, required: bool = False) -> Decimal | None:
        value = self._values.get(name)
        if value is None or value == "":
            if required:
                raise _bad(name, "is required")
            return None
        try:
            return to_decimal(value, name)
        except InvalidInput as error:
            raise BybitRefusal(PARAMS, f"params error: {error.message}") from None

    def integer(self, name: str, *, default: int, low: int, high: int) -> int:
        value = self._values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise _bad(name, "must be an integer")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise _bad(name, f"must be an integer, not {value!r}") from None
        if not low <= number <= high:
            raise _bad(name, f"must be between {low} and {high}")
        return number

    def boolean(self, name: str) -> bool:
        value = self._values.get(name)
        if value is None or value == "":
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
            return value.lower() in ("true", "1")
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise _bad(name, "must be true or false")

    def category(self, *, required: bool = True) -> str:
        """One of Bybit's categories (default linear when not required)."""
        value = self.text("category", required=required, choices=BYBIT_CATEGORIES)
        return value or "linear"

    def traded_category(self) -> Category:
        """A category tradesim trades (linear or spot); 10001 for the others."""
        value = self.category()
        if value not in ("linear", "spot"):
            raise _bad("category", f"{value} is not supported here: tradesim simulates linear and spot")
        return Category(value)
