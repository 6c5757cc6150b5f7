"""What a strategy context is asked to run: plain data, no Jesse import."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

#: The timeframes a strategy may decide on (DESIGN §9), in Jesse's spelling, and their length.
TIMEFRAME_MS: dict[str, int] = {
    "1m": 60_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "4h": 14_400_000,
    "1D": 86_400_000,
}

#: Jesse's default number of warm-up bars (of the strategy's timeframe) before the first decision.
DEFAULT_WARMUP = 240


@attrs.frozen(slots=True)
class ContextSpec:
    """One strategy instance: which class, on which account and symbol, with what settings.

    `strategy` is the Jesse `Strategy` subclass itself; `hyperparameters` are already checked and
    typed (the catalogue does that) and win over the strategy's defaults.
    """

    key: str
    strategy: type[Any]
    strategy_name: str
    account_id: str
    symbol: str
    timeframe: str
    starting_balance: Decimal
    leverage: int = 1
    hyperparameters: dict[str, Any] = attrs.field(factory=dict)
    warmup_candles: int = DEFAULT_WARMUP
