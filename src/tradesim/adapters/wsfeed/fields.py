"""Field parsing shared by the venue parsers: exact decimals and integer timestamps, strictly."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from tradesim.adapters.wsfeed.dialect import Unusable


def decimal_field(value: object, field: str) -> Decimal:
    """A decimal from the venue's string; a JSON number (float) or garbage is refused."""
    if value.__class__ is str:
        try:
            parsed = Decimal(value)
        except InvalidOperation:
            raise Unusable("malformed", f"{field}={value!r} is not a decimal") from None
        if parsed.is_finite():
            return parsed
    raise Unusable("malformed", f"{field}={value!r} is not a decimal string")


def optional_decimal(value: object, field: str) -> Decimal | None:
    """As `decimal_field`, but the empty string (Bybit's "no value") is None."""
    if value == "":
        return None
    return decimal_field(value, field)


def ms_field(value: object, field: str) -> int:
    """Epoch milliseconds from a JSON integer or a string of digits (venues use both)."""
    if value.__class__ is int:
        return value
    if value.__class__ is str and value.isascii() and value.isdigit():
        return int(value)
    raise Unusable("malformed", f"{field}={value!r} is not a millisecond timestamp")
