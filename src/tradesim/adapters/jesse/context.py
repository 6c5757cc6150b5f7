"""One strategy instance on one account: its own Jesse state, its candles, its decisions.

Its orders go to the engine through `orders.EngineOrders`; the runtime feeds it bars and tells it
when to decide. Candle storage stays bounded: a long-lived context keeps a window of rows.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np
from jesse.config import set_config
from jesse.modes.utils import save_daily_portfolio_balance
from jesse.research.backtest import _format_config
from jesse.routes import router
from jesse.services import candle_service, exchange_service, order_service, position_service
from jesse.store import store

from tradesim.adapters.jesse import state as jesse_state
from tradesim.adapters.jesse.grid import EXCHANGE, jesse_symbol
from tradesim.adapters.jesse.orders import EngineOrders
from tradesim.adapters.jesse.spec import TIMEFRAME_MS, ContextSpec
from tradesim.domain.engine import MatchingEngine
from tradesim.domain.events import (
    EngineEvent,
)
from tradesim.domain.instruments import Instrument

MINUTE_MS = 60_000
#: 1m rows a context keeps beyond its warm-up: trimmed in whole days, so that every bigger
#: timeframe's bars stay aligned with the 1m rows (Jesse derives the forming bar from the count).
_DAY_MINUTES = 1440
#: Jesse keeps every log line and order in memory; a long-lived context drops the old ones.
_KEEP_LOG_LINES = 200


class StrategyContext:
    """See the module docstring. Built by `JesseRuntime.add`; every method expects its state live."""

    def __init__(
        self,
        spec: ContextSpec,
        instrument: Instrument,
        engine: MatchingEngine,
        record: list[EngineEvent] | None = None,
        before_order: Callable[[str], None] | None = None,
        link_ids: Callable[[], str] | None = None,
    ) -> None:
        self.spec = spec
        self.instrument = instrument
        self.engine = engine
        self.symbol = jesse_symbol(instrument)
        self.timeframe_ms = TIMEFRAME_MS[spec.timeframe]
        self.minutes = self.timeframe_ms // MINUTE_MS
        self.error: str | None = None
        self.executions = 0
        self.last_decision_ms = 0
        self.state = jesse_state.fresh()
        self.state.owner = self
        self._keep_minutes = max(2 * spec.warmup_candles * self.minutes, _DAY_MINUTES)
        self._keep_minutes += -self._keep_minutes % _DAY_MINUTES
        self._link_ids = link_ids
        self._configure(record, before_order)

    # -- setup ------------------------------------------------------------------------------------

    def _configure(self, record: list[EngineEvent] | None, before_order: Callable[[str], None] | None) -> None:
        spec = self.spec
        set_config(
            _format_config(
                {
                    "starting_balance": float(spec.starting_balance),
                    # Jesse charges this flat rate on every fill; market fills are taker fills in the
                    # engine too, and the wallet is set to the engine's after each one anyway.
                    "fee": float(self.instrument.taker_fee_rate),
                    "type": "futures",
                    "futures_leverage": spec.leverage,
                    "futures_leverage_mode": "cross",
                    "exchange": EXCHANGE,
                    "warm_up_candles": spec.warmup_candles,
                }
            )
        )
        route = {"exchange": EXCHANGE, "symbol": self.symbol, "timeframe": spec.timeframe, "strategy": spec.strategy}
        router.initiate([route], [])
        store.reset()
        store.candles.init_storage(max(self._keep_minutes, 1000))
        exchange_service.initialize_exchanges_state()
        order_service.initialize_orders_state()
        position_service.initialize_positions_state()
        self.wallet = store.exchanges.get_exchange(EXCHANGE)
        self.position = store.positions.get_position(EXCHANGE, self.symbol)
        self._orders_key = f"{EXCHANGE}-{self.symbol}"
        self._storage_1m = store.candles.get_storage(EXCHANGE, self.symbol, "1m")
        self._storage_tf = (
            store.candles.get_storage(EXCHANGE, self.symbol, spec.timeframe) if self.minutes > 1 else None
        )
        self.orders = EngineOrders(
            spec.account_id,
            self.instrument,
            self.engine,
            self.wallet,
            self.position,
            record,
            before_order,
            self._link_ids,
        )
        self.orders.set_leverage(Decimal(spec.leverage))

    def start(self, warmup: np.ndarray | None, start_ms: int) -> None:
        """Load the warm-up rows (Jesse's column order), build the strategy, and set the clock to `start_ms`."""
        if warmup is not None and len(warmup):
            candle_service.inject_warmup_candles_to_store(warmup, EXCHANGE, self.symbol)
        store.app.starting_time = start_ms
        store.app.time = start_ms
        route = router.routes[0]
        strategy = self.spec.strategy()
        strategy.name = self.spec.strategy_name
        strategy.exchange = EXCHANGE
        strategy.symbol = self.symbol
        strategy.timeframe = self.spec.timeframe
        if self.spec.hyperparameters:
            defaults = {hp["name"]: hp["default"] for hp in strategy.hyperparameters()}
            strategy.hp = {**defaults, **self.spec.hyperparameters}
        strategy._init_objects()
        route.strategy = strategy
        self.position.strategy = strategy
        self.strategy = strategy
        save_daily_portfolio_balance(is_initial=True)

    # -- the bar loop ----------------------------------------------------------------------------

    def add_bar(self, row: np.ndarray, close_ms: int) -> bool:
        """Add a closed 1m bar (and the bigger bar it closes); True when the strategy's bar just closed."""
        store.app.time = close_ms
        storage = self._storage_1m
        storage.append(row)
        due = close_ms % self.timeframe_ms == 0
        if self._storage_tf is not None and due:
            count = len(storage)
            rows = storage[count - self.minutes : count]  # (a negative start would count from the capacity)
            if len(rows) == self.minutes:
                self._storage_tf.append(candle_service.generate_candle_from_one_minutes(self.spec.timeframe, rows))
        if len(storage) > 2 * self._keep_minutes:
            self._trim()
        self.position.current_price = row[2]
        return due

    def execute(self) -> None:
        """Run the strategy on its just-closed bar, then let Jesse execute the market orders it queued."""
        self.strategy._execute()
        order_service.update_active_orders(EXCHANGE, self.symbol)
        order_service.execute_simulated_market_orders()
        self.orders.sync_wallet()
        self.executions += 1
        self.last_decision_ms = int(store.app.time)

    def sample_balance(self) -> None:
        save_daily_portfolio_balance()

    def terminate(self) -> None:
        """End of a backtest: Jesse's own `_terminate` (cancel entries, close the position at market)."""
        self.strategy._terminate()
        order_service.execute_simulated_market_orders()
        self.orders.sync_wallet()
        save_daily_portfolio_balance()
        store.app.ending_time = store.app.time + MINUTE_MS

    def _trim(self) -> None:
        """Drop old rows so a long-lived context's memory stays flat (indicators read only the last rows)."""
        count = len(self._storage_1m)
        # Whole days only: Jesse tells a forming bigger bar from the 1m row count, which must keep its remainder.
        drop = (count - self._keep_minutes) // _DAY_MINUTES * _DAY_MINUTES
        _keep_last(self._storage_1m, count - drop)
        if self._storage_tf is not None:
            _keep_last(self._storage_tf, self._keep_minutes // self.minutes + 1)
        del store.logs.info[:-_KEEP_LOG_LINES]
        del store.logs.errors[:-_KEEP_LOG_LINES]
        orders = store.orders.storage.get(self._orders_key)
        if orders:
            orders[:] = [o for o in orders if not (o.is_executed or o.is_canceled)]
        self.orders.forget_closed()

    def add_rows(self, rows: np.ndarray) -> None:
        """Add closed 1m bars none of which closes the strategy's timeframe (a quiet stretch, in one copy)."""
        close_ms = int(rows[-1, 0]) + MINUTE_MS
        store.app.time = close_ms
        self._storage_1m.append_multiple(rows)
        if len(self._storage_1m) > 2 * self._keep_minutes:
            self._trim()
        self.position.current_price = rows[-1, 2]

    @property
    def stored_minutes(self) -> int:
        """1m rows in the candle store now (bounded: see `_trim`)."""
        return len(self._storage_1m)

    def next_due(self, open_ms: int) -> int:
        """Open time of the first bar at or after `open_ms` whose close is a close of the strategy's timeframe."""
        close_ms = open_ms + MINUTE_MS
        return open_ms + (-close_ms) % self.timeframe_ms

    def thresholds(self) -> tuple[list[float], list[float]]:
        """Prices a bar reaches something of this context at: (lows at or below, highs at or above).

        Floats are exact enough here: the bars' prices and the orders' are on the same tick grid,
        and converting decimals to floats keeps their order.
        """
        below, above = self.orders.thresholds()
        if self.position.qty:
            position = self.engine.position(self.spec.account_id, self.instrument.symbol)
            liq = position.liq_price if position is not None else None
            if liq is not None:
                (below if self.position.qty > 0 else above).append(float(liq))
        return below, above


def _keep_last(storage: Any, keep: int) -> None:
    """Keep the last `keep` rows of a Jesse `DynamicNumpyArray`, in a fresh array."""
    rows = storage[:][-keep:].copy()  # (its own slicing counts a negative start from the capacity)
    array = np.zeros((max(2 * keep, storage.bucket_size), rows.shape[1]))
    array[: len(rows)] = rows
    storage.array = array
    storage.index = len(rows) - 1
