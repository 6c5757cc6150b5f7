"""Exact numbers: prices, quantities and money are `Decimal`, never float.

`Price` and `Quantity` subclass `Decimal`, so comparisons and arithmetic stay at C speed in
the engine's hot loops, while construction checks the invariants: no float (``Decimal(0.1)`` is
``0.1000000000000000055...``), no bool, finite, and of the right sign. Arithmetic on them
returns plain `Decimal`; wrap the result again where the type matters.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_UP, Decimal, InvalidOperation
from typing import Final

import attrs

from tradesim.domain.errors import InvalidInput

ZERO: Final = Decimal(0)
ONE: Final = Decimal(1)
#: Money amounts that come out of a division (a partial close of a position) are rounded to this.
MONEY_QUANTUM: Final = Decimal("0.00000001")

DecimalLike = Decimal | int | str


def to_decimal(value: object, field: str = "value") -> Decimal:
    """Parse a decimal from a `Decimal`, an `int` or a numeric string.

    Raises:
        InvalidInput: for floats, bools, other types, malformed strings, NaN and infinities.
    """
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool) or not isinstance(value, int | str):
        kind = type(value).__name__
        raise InvalidInput(f"{field} must be a decimal string or an integer, not {kind} ({value!r})")
    else:
        try:
            result = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation:
            raise InvalidInput(f"{field} must be a decimal number, got {value!r}") from None
    if not result.is_finite():
        raise InvalidInput(f"{field} must be a finite number, got {value!r}")
    return result


class Price(Decimal):
    """A strictly positive price."""

    __slots__ = ()

    def __new__(cls, value: object, field: str = "price") -> Price:
        parsed = to_decimal(value, field)
        if parsed <= 0:
            raise InvalidInput(f"{field} must be greater than 0, got {parsed}")
        return super().__new__(cls, parsed)


class Quantity(Decimal):
    """A non-negative quantity of the base asset."""

    __slots__ = ()

    def __new__(cls, value: object, field: str = "qty") -> Quantity:
        parsed = to_decimal(value, field)
        if parsed < 0:
            raise InvalidInput(f"{field} must not be negative, got {parsed}")
        return super().__new__(cls, parsed)


def is_multiple(value: Decimal, step: Decimal) -> bool:
    """True when `value` lies exactly on the grid of `step` (exact, no float)."""
    return value % step == 0


def round_to_step(value: Decimal, step: Decimal, *, up: bool) -> Decimal:
    """Round `value` to the grid of `step`, away from zero when `up`, toward zero otherwise."""
    units = (value / step).to_integral_value(rounding=ROUND_UP if up else ROUND_DOWN)
    return (units * step).quantize(step)


def round_money(value: Decimal) -> Decimal:
    """Round an amount that came out of a division to the money quantum (banker's rounding)."""
    return value.quantize(MONEY_QUANTUM, rounding=ROUND_HALF_EVEN)


def money_str(value: Decimal) -> str:
    """A decimal as a plain string with no exponent and no trailing zeros (``"1.5"``, ``"0"``)."""
    normal = value.normalize()
    if normal == 0:
        return "0"
    text = format(normal, "f")
    return text


def _check_currency(instance: Money, attribute: attrs.Attribute[str], value: str) -> None:
    if not value or not value.isalnum() or not value.isupper():
        raise InvalidInput(f"currency must be an upper-case code such as USDT, got {value!r}")


def _amount(value: object) -> Decimal:
    return to_decimal(value, "amount")


@attrs.frozen
class Money:
    """An amount in one currency; refuses to mix currencies."""

    amount: Decimal = attrs.field(converter=_amount)
    currency: str = attrs.field(validator=_check_currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise InvalidInput(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __str__(self) -> str:
        return f"{money_str(self.amount)} {self.currency}"
