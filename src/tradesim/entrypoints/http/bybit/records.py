"""Domain records -> Bybit v5's records (field names, decimal strings, ms times as strings), used by
the `/v5` REST answers and the `/v5/private` pushes alike."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from tradesim.domain.accounts import AccountView
from tradesim.domain.enums import Category, MarginMode, Side
from tradesim.domain.executions import Execution
from tradesim.domain.numbers import ZERO, money_str
from tradesim.domain.orders import Order
from tradesim.domain.positions import Position


def dec(value: Decimal | None, empty: str = "") -> str:
    return empty if value is None else money_str(value)


def num(value: Decimal | None) -> str:
    """A figure that is zero when absent (ccxt does arithmetic on these)."""
    return dec(value, "0")


def order(o: Order) -> dict[str, Any]:
    leaves = o.leaves_qty
    record: dict[str, Any] = {
        "orderId": o.order_id,
        "orderLinkId": o.order_link_id,
        "blockTradeId": "",
        "symbol": o.symbol,
        "price": num(o.price),
        "qty": num(o.qty),
        "side": o.side.value,
        "isLeverage": "",
        "positionIdx": 0,
        "orderStatus": o.status.value,
        "cancelType": o.cancel_type or "UNKNOWN",
        "rejectReason": o.reject_reason or "EC_NoError",
        "avgPrice": num(o.avg_price),
        "leavesQty": num(leaves),
        "leavesValue": num(leaves * o.price if o.price is not None else ZERO),
        "cumExecQty": num(o.cum_exec_qty),
        "cumExecValue": num(o.cum_exec_value),
        "cumExecFee": num(o.cum_exec_fee),
        "cumFeeDetail": {"USDT": num(o.cum_exec_fee)} if o.cum_exec_fee else {},
        "timeInForce": o.time_in_force.value,
        "orderType": o.order_type.value,
        "stopOrderType": o.stop_order_type.value,
        "orderIv": "",
        "triggerPrice": num(o.trigger_price),
        "takeProfit": num(o.take_profit),
        "stopLoss": num(o.stop_loss),
        "tpTriggerBy": o.tp_trigger_by.value if o.take_profit else "",
        "slTriggerBy": o.sl_trigger_by.value if o.stop_loss else "",
        "triggerDirection": int(o.trigger_direction) if o.trigger_direction is not None else 0,
        "triggerBy": o.trigger_by.value if o.trigger_price is not None else "",
        "lastPriceOnCreated": "",
        "reduceOnly": o.reduce_only,
        "closeOnTrigger": o.close_on_trigger,
        "smpType": "None",
        "smpGroup": 0,
        "smpOrderId": "",
        "placeType": "",
        "createType": o.create_type.value,
        "createdTime": str(o.created_time),
        "updatedTime": str(o.updated_time),
        "category": o.category.value,
    }
    if o.category is Category.LINEAR:
        # ccxt takes an order with `tpslMode` for a contract order (it reads no category).
        record["tpslMode"] = "Full" if (o.take_profit or o.stop_loss) else ""
        record["tpLimitPrice"] = "0"
        record["slLimitPrice"] = "0"
    return record


def execution(e: Execution) -> dict[str, Any]:
    return {
        "symbol": e.symbol,
        "orderId": e.order_id,
        "orderLinkId": e.order_link_id,
        "side": e.side.value,
        "orderPrice": num(e.exec_price),
        "orderQty": num(e.exec_qty),
        "leavesQty": "0",
        "createType": "CreateByUser",
        "orderType": e.order_type.value,
        "stopOrderType": "",
        "execFee": num(e.exec_fee),
        "feeCurrency": e.fee_coin,
        "execId": e.exec_id,
        "execPrice": num(e.exec_price),
        "execQty": num(e.exec_qty),
        "execType": e.exec_type.value,
        "execValue": num(e.exec_value),
        "feeRate": num(e.fee_rate),
        "tradeIv": "",
        "markIv": "",
        "markPrice": num(e.exec_price),
        "indexPrice": "",
        "underlyingPrice": "",
        "blockTradeId": "",
        "closedSize": num(e.closed_size),
        "execPnl": num(e.exec_pnl),
        "execTime": str(e.exec_time),
        "isMaker": e.is_maker,
        "seq": 0,
        "category": e.category.value,
    }


def closed_pnl(e: Execution, leverage: Decimal | None) -> dict[str, Any]:
    """A fill that closed position size, as Bybit's closed-PnL record (one per closing fill)."""
    size = e.closed_size
    per_unit = e.exec_pnl / size if size else ZERO
    # A sell closes a long (pnl = (exit - entry) * size); a buy closes a short.
    entry = e.exec_price - per_unit if e.side is Side.SELL else e.exec_price + per_unit
    return {
        "symbol": e.symbol,
        "orderId": e.order_id,
        "side": e.side.value,
        "qty": num(e.exec_qty),
        "orderPrice": num(e.exec_price),
        "orderType": e.order_type.value,
        "execType": e.exec_type.value,
        "closedSize": num(size),
        "cumEntryValue": num(entry * size),
        "avgEntryPrice": num(entry),
        "cumExitValue": num(e.exec_price * size),
        "avgExitPrice": num(e.exec_price),
        "closedPnl": num(e.exec_pnl - e.exec_fee),
        "fillCount": "1",
        "leverage": num(leverage),
        "createdTime": str(e.exec_time),
        "updatedTime": str(e.exec_time),
    }


def position(p: Position, marks: Mapping[str, Decimal]) -> dict[str, Any]:
    """Never a `closedSize` key: ccxt takes one for a closed-position record and flips the side."""
    mark = marks.get(p.symbol)
    return {
        "positionIdx": 0,
        "riskId": 1,
        "riskLimitValue": "2000000",
        "symbol": p.symbol,
        "side": p.side.value if p.side is not None and p.size else "",
        "size": num(p.size),
        "avgPrice": num(p.avg_price),
        "positionValue": num(p.entry_value),
        "tradeMode": 0 if p.margin_mode is MarginMode.CROSS else 1,
        "positionStatus": "Normal",
        "autoAddMargin": 0,
        "adlRankIndicator": 0,
        "leverage": num(p.leverage),
        "positionBalance": num(p.position_margin),
        "markPrice": num(mark),
        "liqPrice": dec(p.liq_price),
        "bustPrice": dec(p.bust_price),
        "positionMM": "0",
        "positionIM": num(p.position_margin),
        "tpslMode": "Full",
        "takeProfit": num(p.take_profit),
        "stopLoss": num(p.stop_loss),
        "trailingStop": "0",
        "unrealisedPnl": num(p.unrealised_pnl(mark)) if mark is not None and p.size else "0",
        "curRealisedPnl": num(p.cum_realised_pnl),
        "cumRealisedPnl": num(p.cum_realised_pnl),
        "seq": 0,
        "isReduceOnly": False,
        "mmrSysUpdatedTime": "",
        "leverageSysUpdatedTime": "",
        "createdTime": str(p.created_time),
        "updatedTime": str(p.updated_time),
        "category": "linear",
    }


def wallet(view: AccountView) -> dict[str, Any]:
    """An account as a unified wallet entry (`accountType: UNIFIED`: ccxt reads coins only then)."""
    used = view.position_im + view.order_im
    coin = {
        "coin": view.coin,
        "equity": num(view.equity),
        "usdValue": num(view.equity),
        "walletBalance": num(view.wallet_balance),
        "free": "",
        "locked": num(view.order_im),
        "spotHedgingQty": "0",
        "borrowAmount": "0",
        "availableToWithdraw": num(view.available_balance),
        "availableToBorrow": "",
        "accruedInterest": "0",
        "totalOrderIM": num(view.order_im),
        "totalPositionIM": num(view.position_im),
        "totalPositionMM": "0",
        "unrealisedPnl": num(view.unrealised_pnl),
        "cumRealisedPnl": "0",
        "bonus": "0",
        "marginCollateral": True,
        "collateralSwitch": True,
    }
    # Spot trades leave balances of other coins (the BTC a spot buy bought): each is a coin entry.
    others = [
        {
            "coin": name,
            "equity": num(amount),
            "usdValue": "",
            "walletBalance": num(amount),
            "free": "",
            "locked": "0",
            "borrowAmount": "0",
            "availableToWithdraw": num(amount),
            "accruedInterest": "0",
            "totalOrderIM": "0",
            "totalPositionIM": "0",
            "unrealisedPnl": "0",
            "cumRealisedPnl": "0",
        }
        for name, amount in sorted(view.balances.items())
        if name != view.coin and amount
    ]
    return {
        "accountType": "UNIFIED",
        "accountIMRate": "0",
        "accountMMRate": "0",
        "accountLTV": "0",
        "totalEquity": num(view.equity),
        "totalWalletBalance": num(view.wallet_balance),
        "totalMarginBalance": num(view.equity),
        "totalAvailableBalance": num(view.available_balance),
        "totalPerpUPL": num(view.unrealised_pnl),
        "totalInitialMargin": num(used),
        "totalMaintenanceMargin": "0",
        "coin": [coin, *others],
    }
