"""Running automated strategies over stored history."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

import attrs


@attrs.frozen(slots=True)
class StrategyJob:
    run_id: str
    strategy: str
    symbol: str
    start_ms: int
    end_ms: int
    starting_balance: Decimal
    params: dict[str, str] = attrs.field(factory=dict)


@attrs.frozen(slots=True)
class StrategyTrade:
    side: str
    qty: Decimal
    entry_price: Decimal
    exit_price: Decimal
    opened_ms: int
    closed_ms: int
    pnl: Decimal


@attrs.frozen(slots=True)
class StrategyResult:
    run_id: str
    trades: list[StrategyTrade]
    metrics: dict[str, str]
    equity_curve: list[tuple[int, Decimal]]


class StrategyRunner(Protocol):
    async def run(self, job: StrategyJob) -> StrategyResult:
        """Raises `NotFound` for an unknown strategy, `InvalidInput` for a bad job."""
        ...
