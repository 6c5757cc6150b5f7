"""What a strategy context is asked to run: plain data, no Jesse import."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from tradesim.domain.strategy_specs import TIMEFRAME_MS

__all__ = ["DEFAULT_WARMUP", "TIMEFRAME_MS", "ContextSpec"]

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
