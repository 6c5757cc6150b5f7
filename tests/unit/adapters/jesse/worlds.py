"""A one-engine world for runtime tests: accounts, a seeded walk of 1m bars, and a ledger check."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import numpy as np

from tests.support.candles import walk
from tradesim.adapters.jesse.runtime import JesseRuntime
from tradesim.adapters.jesse.spec import ContextSpec
from tradesim.domain import BalanceChanged, EngineEvent, ManualClock, MatchingEngine, SequentialIds, default_catalog
from tradesim.domain.market import Candle

DAY_MS = 86_400_000
START = 1_704_067_200_000  # 2024-01-01T00:00Z
WARMUP = 60


def rows(candles: Sequence[Candle]) -> np.ndarray:
    return np.array(
        [[c.open_time, float(c.open), float(c.close), float(c.high), float(c.low), float(c.volume)] for c in candles]
    )


class World:
    def __init__(self) -> None:
        self.catalog = default_catalog()
        self.clock = ManualClock(START)
        self.engine = MatchingEngine(self.catalog, self.clock, ids=SequentialIds("w"))
        self.events: list[EngineEvent] = []
        self.runtime = JesseRuntime(self.engine, self.clock, self.catalog, record=self.events)
        self.bars: dict[str, list[Candle]] = {}

    def history(self, symbol: str, count: int, *, seed: int, price: str = "30000.0", tick: str = "0.1") -> None:
        self.bars[symbol] = walk(symbol, START, WARMUP + count, seed=seed, price=price, tick=tick)

    def add(
        self, key: str, strategy: type[Any], symbol: str = "BTCUSDT", *, balance: str = "10000", **fields: Any
    ) -> Any:
        self.events.extend(self.engine.open_account(key, Decimal(balance)))
        spec = ContextSpec(
            key=key,
            strategy=strategy,
            strategy_name=strategy.__name__,
            account_id=key,
            symbol=symbol,
            timeframe=fields.pop("timeframe", "1m"),
            starting_balance=Decimal(balance),
            leverage=fields.pop("leverage", 2),
            warmup_candles=WARMUP,
            **fields,
        )
        bars = self.bars[symbol]
        return self.runtime.add(spec, start_ms=bars[WARMUP].open_time, warmup=rows(bars[:WARMUP]))

    def play(self, *, after_bar: Any = None) -> None:
        """Every symbol's bars minute by minute (symbols in name order within a minute)."""
        count = max(len(b) for b in self.bars.values())
        for i in range(WARMUP, count):
            for symbol in sorted(self.bars):
                c = self.bars[symbol][i]
                self.runtime.on_bar(symbol, c.open_time, (c.open, c.high, c.low, c.close), c.volume)
            if after_bar is not None:
                after_bar()

    def ledger_sum(self, account_id: str) -> Decimal:
        return sum(
            (e.entry.amount for e in self.events if isinstance(e, BalanceChanged) and e.account_id == account_id),
            Decimal(0),
        )
