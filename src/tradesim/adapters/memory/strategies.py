"""An in-process `StrategyRunner`: Python strategies over history, through the matching engine.

Each run gets a fresh engine on a clock the bars drive, one account with the job's starting
balance, and the bars played on Bar Replay's intra-bar path (`domain.replay.bar_ticks`), so a
strategy's stops and fills follow the same rules as live trading and a replay. Results use the
journal's statistics (`domain.metrics`).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from tradesim.domain.catalog import default_catalog
from tradesim.domain.commands import PlaceOrder
from tradesim.domain.engine import MatchingEngine, SequentialIds
from tradesim.domain.enums import OrderType, Side
from tradesim.domain.errors import InvalidInput, NotFound
from tradesim.domain.events import (
    BalanceChanged,
    EngineEvent,
    OrderAccepted,
    OrderAmended,
    OrderCancelled,
    OrderFilled,
    OrderRejected,
    OrderTriggered,
)
from tradesim.domain.executions import Execution, LedgerEntry
from tradesim.domain.instruments import InstrumentCatalog
from tradesim.domain.market import Candle
from tradesim.domain.metrics import account_stats, closed_trades
from tradesim.domain.orders import Order
from tradesim.domain.positions import Position
from tradesim.domain.replay import ManualClock, bar_ticks
from tradesim.ports.market_data import HistorySource
from tradesim.ports.strategies import (
    BarStrategy,
    Progress,
    StrategyFactory,
    StrategyJob,
    StrategyResult,
    StrategyTrade,
)

ACCOUNT = "strategy"
ORDER_EVENTS = (OrderAccepted, OrderAmended, OrderCancelled, OrderRejected, OrderTriggered)


class _EngineTrader:
    def __init__(self, engine: MatchingEngine, symbol: str, events: list[EngineEvent]) -> None:
        self._engine = engine
        self._symbol = symbol
        self._events = events

    @property
    def position(self) -> Position | None:
        position = self._engine.position(ACCOUNT, self._symbol)
        return position if position is not None and position.side is not None else None

    @property
    def balance(self) -> Decimal:
        return self._engine.account_view(ACCOUNT).wallet_balance

    def market(
        self, side: Side, qty: Decimal, *, stop_loss: Decimal | None = None, take_profit: Decimal | None = None
    ) -> None:
        command = PlaceOrder(
            ACCOUNT, self._symbol, side, OrderType.MARKET, qty, stop_loss=stop_loss, take_profit=take_profit
        )
        self._events.extend(self._engine.place(command))

    def close(self) -> None:
        position = self.position
        if position is not None and position.side is not None:
            command = PlaceOrder(
                ACCOUNT, self._symbol, position.side.opposite, OrderType.MARKET, position.size, reduce_only=True
            )
            self._events.extend(self._engine.place(command))


class InProcessStrategyRunner:
    def __init__(
        self,
        strategies: Mapping[str, StrategyFactory],
        history: HistorySource,
        catalog: InstrumentCatalog | None = None,
    ) -> None:
        self._strategies = dict(strategies)
        self._history = history
        self._catalog = catalog or default_catalog()

    async def run(self, job: StrategyJob, progress: Progress | None = None) -> StrategyResult:
        factory = self._strategies.get(job.strategy)
        if factory is None:
            known = ", ".join(sorted(self._strategies)) or "none"
            raise NotFound(f"unknown strategy {job.strategy!r}; known: {known}")
        if job.end_ms <= job.start_ms:
            raise InvalidInput("end must be after start")
        self._catalog.get(job.symbol)
        candles = await self._history.fetch_candles(job.symbol, job.start_ms, job.end_ms)
        if not candles:
            raise InvalidInput(f"no {job.symbol} history between {job.start_ms} and {job.end_ms}")
        events = self._play(job, factory(job.params), candles)
        if progress is not None:
            progress(Decimal(1))
        return self._result(job, events)

    def _play(self, job: StrategyJob, strategy: BarStrategy, candles: list[Candle]) -> list[EngineEvent]:
        clock = ManualClock(candles[0].open_time)
        engine = MatchingEngine(self._catalog, clock, ids=SequentialIds(job.run_id))
        events: list[EngineEvent] = list(engine.open_account(ACCOUNT, job.starting_balance))
        trader = _EngineTrader(engine, job.symbol, events)
        for candle in candles:
            for ticker in bar_ticks(candle):
                clock.set(ticker.ts)
                events.extend(engine.on_ticker(ticker))
            strategy.on_bar(trader, candle)
        return events

    @staticmethod
    def _result(job: StrategyJob, events: list[EngineEvent]) -> StrategyResult:
        orders: dict[str, Order] = {}
        executions: list[Execution] = []
        ledger: list[LedgerEntry] = []
        for event in events:
            if isinstance(event, BalanceChanged):
                ledger.append(event.entry)
            elif isinstance(event, OrderFilled):
                orders[event.order.order_id] = event.order
                executions.append(event.execution)
            elif isinstance(event, ORDER_EVENTS):
                orders[event.order.order_id] = event.order
        stats = account_stats(executions, orders, ledger)
        trades = [
            StrategyTrade(
                symbol=t.symbol,
                side=t.side,
                size=t.max_size,
                entry_price=t.entry_price,
                opened_ms=t.opened_at,
                closed_ms=t.closed_at,
                pnl=t.pnl,
                r_multiple=t.r_multiple,
            )
            for t in closed_trades(executions, orders)
        ]
        # Jesse's names (DESIGN §9), as the Jesse runner reports them.
        metrics = {
            "total": str(stats.trades),
            "total_winning_trades": str(stats.wins),
            "total_losing_trades": str(stats.losses),
            "win_rate": "" if stats.win_rate is None else str(stats.win_rate),
            "avg_r_multiple": "" if stats.avg_r_multiple is None else str(stats.avg_r_multiple),
            "net_profit": str(stats.total_pnl),
            "max_drawdown": str(stats.max_drawdown),
            "sharpe_ratio": "" if stats.sharpe is None else str(stats.sharpe),
            "starting_balance": str(job.starting_balance),
            "finishing_balance": str(stats.equity_curve[-1][1]) if stats.equity_curve else str(job.starting_balance),
        }
        return StrategyResult(job.run_id, trades, metrics, list(stats.equity_curve))
