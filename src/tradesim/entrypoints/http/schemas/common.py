"""Types shared by every wire format."""

from __future__ import annotations

from typing import Annotated

import attrs
import msgspec

#: The true end of the text: `$` alone also matches before a final newline (Python's `re`, which msgspec
#: uses), so `"1\n"` passed for a decimal; the lookahead is valid ECMAScript too, for the OpenAPI document.
END = r"(?!\n)$"
#: Prices, quantities and amounts travel as decimal strings, never JSON numbers (no float rounding).
Decimal = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[0-9]{1,20}(\.[0-9]{1,18})?" + END,
        max_length=40,
        description='a non-negative decimal number as a string, e.g. "30000.5"',
        examples=["0.010", "30000.5"],
    ),
]
#: Output amounts may be negative (PnL, fees, ledger changes); empty when there is none.
SignedDecimal = Annotated[str, msgspec.Meta(description="a decimal number as a string; empty when absent")]
Id = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.:-]{1,64}" + END, description="an identifier")]
Symbol = Annotated[str, msgspec.Meta(pattern=r"^[A-Z0-9]{2,20}" + END, examples=["BTCUSDT"])]
EpochMs = Annotated[
    int, msgspec.Meta(ge=0, le=253_402_300_799_999, description="milliseconds since the Unix epoch, UTC")
]
Limit = Annotated[int, msgspec.Meta(ge=1, le=1000, description="how many records, newest first")]


@attrs.frozen
class ErrorDetail:
    code: Annotated[str, msgspec.Meta(description="stable machine-readable code, e.g. PRICE_OFF_TICK")]
    message: Annotated[str, msgspec.Meta(description="what went wrong and what to do about it")]


@attrs.frozen
class ErrorBody:
    """Every error response has this body."""

    error: ErrorDetail


@attrs.frozen
class AccountQuery:
    accountId: Id
    limit: Limit = 100
