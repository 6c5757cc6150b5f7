"""Jesse's orders on the matching engine, for one context's account.

Orders go one way only: a strategy's order becomes an engine command at once (`submit`), and
whatever the engine then does to it comes back through Jesse's own order handling (`apply`):
a fill runs `order_service.execute_order`, so `on_open_position`, `on_close_position` and the
rest fire as in Jesse; a rejection or an engine-side cancel runs `order_service.cancel_order`;
a liquidation becomes a made-up reduce-only order executed at the engine's price. Jesse never
fills anything itself, and after every fill its wallet is set to the engine's ledger balance.

A market order the engine fills at once stays in Jesse's `to_execute` list with the engine's
price and fee written on it, so that Jesse executes it at the point of its loop where its own
backtest would (a position closed by `liquidate()` is flat before `should_long` is asked again).
A context whose orders travel the order path of a person's (a live deployment) gets no events
back from `place`: the order is on its way. It stays working in Jesse, known by its
orderLinkId (`link_ids` names them), until the account's events about it arrive through `apply`.

Every method expects the context's Jesse state live.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import jesse.helpers as jh
from jesse.enums import order_types, sides
from jesse.services import order_service
from jesse.store import store

from tradesim.adapters.jesse.grid import EXCHANGE, jesse_symbol, snap_price, snap_qty
from tradesim.domain.commands import CancelOrder, PlaceOrder, SetLeverage
from tradesim.domain.engine import MatchingEngine
from tradesim.domain.enums import CreateType, OrderStatus, OrderType, Side, TimeInForce, TriggerDirection
from tradesim.domain.events import EngineEvent, OrderCancelled, OrderFilled, OrderRejected
from tradesim.domain.instruments import Instrument


class EngineOrders:
    """See the module docstring."""

    def __init__(
        self,
        account_id: str,
        instrument: Instrument,
        engine: MatchingEngine,
        wallet: Any,
        position: Any,
        record: list[EngineEvent] | None = None,
        before_order: Callable[[str], None] | None = None,
        link_ids: Callable[[], str] | None = None,
    ) -> None:
        """`link_ids`: the orderLinkId (and Jesse id) of each new order; Jesse's own unique ids by default."""
        self.account_id = account_id
        self.instrument = instrument
        self.engine = engine
        self.wallet = wallet
        self.position = position
        self.record = record
        self.symbol = jesse_symbol(instrument)
        self._before_order = before_order
        self._orders_key = f"{EXCHANGE}-{self.symbol}"
        self._by_engine_id: dict[str, Any] = {}
        self._engine_ids: dict[str, str] = {}
        self._open: set[str] = set()
        self._link_ids = link_ids
        #: Orders sent but not yet heard of (see the module docstring), by orderLinkId.
        self._by_link: dict[str, Any] = {}

    def set_leverage(self, leverage: Decimal) -> None:
        self._recorded(self.engine.handle(SetLeverage(self.account_id, self.instrument.symbol, leverage)))

    # -- orders: Jesse -> engine -----------------------------------------------------------------

    def submit(self, order_type: str, qty: float, price: float, side: str, reduce_only: bool) -> Any:
        """What the driver does for each of Jesse's order calls: record it in Jesse, send it to the engine."""
        step, tick = self.instrument.qty_step, self.instrument.tick_size
        engine_qty = snap_qty(qty, step)
        engine_price = snap_price(price, tick) if order_type != order_types.MARKET else None
        order = order_service.create_order(
            {
                "id": self._link_ids() if self._link_ids is not None else jh.generate_unique_id(),
                "symbol": self.symbol,
                "exchange": EXCHANGE,
                "side": side,
                "type": order_type,
                "reduce_only": reduce_only,
                "qty": jh.prepare_qty(float(engine_qty) if engine_qty else qty, side),
                "price": float(engine_price) if engine_price is not None else price,
            }
        )
        to_execute = store.orders.to_execute
        queued = bool(to_execute) and to_execute[-1] is order
        if queued:
            to_execute.pop()  # Jesse fills queued market orders itself; here the engine does
        if not engine_qty:
            order_service.cancel_order(order)
            return order
        engine_side = Side.BUY if side == sides.BUY else Side.SELL
        command = self._command(order, order_type, engine_side, engine_qty, engine_price)
        if self._before_order is not None:
            self._before_order(self.instrument.symbol)
        events = self._recorded(self.engine.place(command))
        engine_order_id, still_open = self._own_order(events, order.id)
        if not engine_order_id and not events:
            # On its way through the order path: the account's events will say what became of it.
            self._by_link[order.id] = order
            return order
        if engine_order_id:
            self._by_engine_id[engine_order_id] = order
            self._engine_ids[order.id] = engine_order_id
            if still_open:
                self._open.add(engine_order_id)
        later: list[EngineEvent] = []
        filled = None
        for event in events:
            if isinstance(event, OrderFilled) and event.order.order_link_id == order.id and queued:
                filled = event.order
            else:
                later.append(event)
        if queued and filled is not None and filled.status is OrderStatus.FILLED:
            self._price_from_engine(order, filled)
            to_execute.append(order)
        elif queued:
            order_service.cancel_order(order)
        self.apply(later, sync=not queued)
        return order

    def cancel(self, order_id: str) -> None:
        order = store.orders.get_order_by_id(EXCHANGE, self.symbol, order_id)
        if order is None or order.is_canceled or order.is_executed:
            return
        engine_order_id = self._engine_ids.get(order.id)
        if engine_order_id is None and order.id in self._by_link:
            engine_order_id = order.id  # not heard of yet: the order path finds it by its orderLinkId
        events: list[EngineEvent] = []
        if engine_order_id is not None:
            command = CancelOrder(self.account_id, engine_order_id, self.instrument.symbol)
            events = self._recorded(self.engine.cancel(command))
        order_service.cancel_order(order)
        self.apply(events)

    def cancel_all(self) -> list[Any]:
        orders = list(store.orders.get_active_orders(EXCHANGE, self.symbol))
        for order in orders:
            self.cancel(order.id)
        # As Jesse's sandbox does outside its own tests: the cancelled orders are forgotten.
        store.orders.storage[self._orders_key].clear()
        return orders

    def _command(self, order: Any, order_type: str, side: Side, qty: Decimal, price: Decimal | None) -> PlaceOrder:
        common = {
            "account_id": self.account_id,
            "symbol": self.instrument.symbol,
            "side": side,
            "qty": qty,
            "reduce_only": bool(order.reduce_only),
            "order_link_id": order.id,
        }
        if order_type == order_types.LIMIT:
            return PlaceOrder(order_type=OrderType.LIMIT, price=price, time_in_force=TimeInForce.GTC, **common)
        if order_type == order_types.STOP:
            direction = TriggerDirection.RISES_TO if side is Side.BUY else TriggerDirection.FALLS_TO
            return PlaceOrder(
                order_type=OrderType.MARKET,
                trigger_price=price,
                trigger_direction=direction,
                close_on_trigger=bool(order.reduce_only),
                **common,
            )
        return PlaceOrder(order_type=OrderType.MARKET, **common)

    @staticmethod
    def _own_order(events: list[EngineEvent], link_id: str) -> tuple[str, bool]:
        """The engine's id for the order placed with `link_id`, and whether it is still working."""
        found, still_open = "", False
        for event in events:
            order = getattr(event, "order", None)
            if order is not None and order.order_link_id == link_id:
                found, still_open = str(order.order_id), order.status.is_open
        return found, still_open

    def sent(self, order_link_id: str) -> bool:
        """True when this context sent the engine the order with `order_link_id` (and has not trimmed it)."""
        return order_link_id in self._engine_ids

    def thresholds(self) -> tuple[list[float], list[float]]:
        """Prices at which a bar reaches a resting order: (lows at or below, highs at or above)."""
        below: list[float] = []
        above: list[float] = []
        engine = self.engine
        for order_id in self._open:
            order = engine.order(order_id)
            if order is None:
                continue
            if order.status is not OrderStatus.UNTRIGGERED:
                if order.price is None:
                    below.append(float("inf"))
                elif order.side is Side.BUY:
                    below.append(float(order.price))
                else:
                    above.append(float(order.price))
            elif order.trigger_direction is TriggerDirection.RISES_TO:
                above.append(float(order.trigger_price))  # type: ignore[arg-type]
            else:
                below.append(float(order.trigger_price))  # type: ignore[arg-type]
        return below, above

    # -- outcomes: engine -> Jesse ---------------------------------------------------------------

    def apply(self, events: list[EngineEvent], *, sync: bool = True) -> None:
        """Feed the engine's events for this account back through Jesse's own handling.

        `sync` False is for the events of a market order that Jesse has yet to execute itself:
        the engine's balance already holds that fill, Jesse's does not yet.
        """
        for event in events:
            self._bind(event)
            if isinstance(event, OrderFilled):
                self._on_fill(event)
            elif isinstance(event, OrderCancelled | OrderRejected):
                self._open.discard(event.order.order_id)
                order = self._by_engine_id.get(event.order.order_id)
                if order is not None and not (order.is_canceled or order.is_executed):
                    order_service.cancel_order(order)
        if sync and events:
            self.sync_wallet()

    def _bind(self, event: EngineEvent) -> None:
        """The first event about an order sent through the order path gives its id: know it by that from now on."""
        engine_order = getattr(event, "order", None)
        if engine_order is None or not self._by_link:
            return
        order = self._by_link.pop(engine_order.order_link_id, None)
        if order is not None:
            self._by_engine_id[engine_order.order_id] = order
            self._engine_ids[order.id] = engine_order.order_id
            if engine_order.status.is_open:
                self._open.add(engine_order.order_id)

    def adopt(self, order: Any, engine_order_id: str) -> None:
        """Know a Jesse order made again for an order the account has open (a deployment resumed)."""
        self._by_engine_id[engine_order_id] = order
        self._engine_ids[order.id] = engine_order_id
        self._open.add(engine_order_id)

    def _on_fill(self, event: OrderFilled) -> None:
        engine_order = event.order
        if engine_order.status is not OrderStatus.FILLED:
            return  # a part: Jesse's backtest orders fill whole, so the order is applied once complete
        self._open.discard(engine_order.order_id)
        order = self._by_engine_id.get(engine_order.order_id)
        self.position.current_price = float(event.execution.exec_price)
        if order is None or order.is_canceled or order.is_executed:
            order = self._made_up(engine_order)
        else:
            self._price_from_engine(order, engine_order)
        # Jesse charges the wallet its flat rate; for this fill, make that rate the engine's own, so
        # that the balance a callback reads during the fill is already the engine's.
        flat_rate = self.wallet.fee_rate
        notional = float(engine_order.cum_exec_value)
        self.wallet.fee_rate = float(engine_order.cum_exec_fee) / notional if notional else flat_rate
        try:
            order_service.execute_order(order)
        finally:
            self.wallet.fee_rate = flat_rate
        self.sync_wallet()

    def _price_from_engine(self, order: Any, engine_order: Any) -> None:
        # Release Jesse's margin reservation at the price it was made with, then take the engine's
        # price and fee (execute_order's own release then finds nothing left to release).
        self.wallet.on_order_execution(order)
        order.price = float(engine_order.avg_price)
        order.fee = float(engine_order.cum_exec_fee)

    def _made_up(self, engine_order: Any) -> Any:
        """A fill Jesse did not ask for (a liquidation): a reduce-only market order at the engine's price."""
        side = sides.BUY if engine_order.side is Side.BUY else sides.SELL
        reduce_only = engine_order.create_type is CreateType.BY_LIQUIDATION or engine_order.reduce_only
        order = order_service.create_order(
            {
                "id": jh.generate_unique_id(),
                "symbol": self.symbol,
                "exchange": EXCHANGE,
                "side": side,
                "type": order_types.MARKET,
                "reduce_only": reduce_only,
                "qty": jh.prepare_qty(float(engine_order.cum_exec_qty), side),
                "price": float(engine_order.avg_price),
            },
            should_silent=True,
        )
        to_execute = store.orders.to_execute
        if to_execute and to_execute[-1] is order:
            to_execute.pop()
        self.wallet.on_order_execution(order)
        order.fee = float(engine_order.cum_exec_fee)
        return order

    def _recorded(self, events: list[EngineEvent]) -> list[EngineEvent]:
        if self.record is not None:
            self.record.extend(events)
        return events

    def sync_wallet(self) -> None:
        balance = self.engine.balances(self.account_id).get("USDT")
        if balance is not None:
            self.wallet.assets[self.wallet.settlement_currency] = float(balance)

    def forget_closed(self) -> None:
        """Drop what is kept of orders that are done (a long-lived context trims its memory)."""
        self._by_engine_id = {k: o for k, o in self._by_engine_id.items() if not (o.is_executed or o.is_canceled)}
        self._engine_ids = {o.id: k for k, o in self._by_engine_id.items()}
