"""The Jesse exchange driver that hands every order call to the context running at that moment."""

from __future__ import annotations

from typing import Any

from jesse.enums import order_types
from jesse.exchanges.exchange import Exchange

from tradesim.adapters.jesse import state as jesse_state
from tradesim.adapters.jesse.context import StrategyContext
from tradesim.adapters.jesse.grid import EXCHANGE


class EngineDriver(Exchange):  # type: ignore[misc]
    """Plugged into Jesse's `api.drivers`; one per process, serving whichever context is live."""

    @staticmethod
    def _current() -> StrategyContext:
        ctx = jesse_state.owner()
        assert isinstance(ctx, StrategyContext)
        return ctx

    def market_order(self, symbol: str, qty: float, current_price: float, side: str, reduce_only: bool) -> Any:
        return self._current().orders.submit(order_types.MARKET, qty, current_price, side, reduce_only)

    def limit_order(self, symbol: str, qty: float, price: float, side: str, reduce_only: bool) -> Any:
        return self._current().orders.submit(order_types.LIMIT, qty, price, side, reduce_only)

    def stop_order(self, symbol: str, qty: float, price: float, side: str, reduce_only: bool) -> Any:
        return self._current().orders.submit(order_types.STOP, qty, price, side, reduce_only)

    def cancel_all_orders(self, symbol: str) -> list[Any]:
        return self._current().orders.cancel_all()

    def cancel_order(self, symbol: str, order_id: str) -> None:
        self._current().orders.cancel(order_id)

    def _fetch_precisions(self) -> None:
        """Nothing to fetch: the instrument catalogue has the grid."""


_installed: list[Any] = []  # [the driver, Jesse's api singleton], once a context has made them


def install() -> None:
    """Make the engine driver Jesse's only driver (cheap when it already is; needs a context's routes live)."""
    if _installed:
        driver, api = _installed
        if api.drivers.get(EXCHANGE) is driver:
            return
    else:
        from jesse.services import api as api_module  # its singleton is built on first import: needs a route set

        driver, api = EngineDriver(), api_module.api
        _installed.extend((driver, api))
    # Jesse's own backtests clear and refill this dict; put the engine back in before each use.
    api.drivers = {EXCHANGE: driver}
