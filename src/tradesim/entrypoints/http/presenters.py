"""Domain records -> wire formats. The one place that knows how each record looks on the wire,
used by the REST routes and the WebSocket pushes alike."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from tradesim.application.replay.service import ReplayView
from tradesim.domain.accounts import Account, AccountView
from tradesim.domain.enums import MarginMode
from tradesim.domain.events import CommandRejected
from tradesim.domain.executions import Execution, LedgerEntry
from tradesim.domain.instruments import Instrument
from tradesim.domain.journal import Attachment, JournalEntry
from tradesim.domain.market import Candle, Ticker
from tradesim.domain.metrics import AccountStats
from tradesim.domain.numbers import money_str
from tradesim.domain.orders import Order
from tradesim.domain.positions import Position
from tradesim.domain.users import User
from tradesim.entrypoints.http.schemas.accounts import AccountOut
from tradesim.entrypoints.http.schemas.auth import UserOut
from tradesim.entrypoints.http.schemas.common import ErrorDetail
from tradesim.entrypoints.http.schemas.journal import AttachmentOut, EquityPoint, JournalOut, StatsOut
from tradesim.entrypoints.http.schemas.market import CandleOut, InstrumentOut, TickerOut
from tradesim.entrypoints.http.schemas.orders import CommandRejectedOut, OrderOut
from tradesim.entrypoints.http.schemas.positions import ExecutionOut, LedgerOut, PositionOut
from tradesim.entrypoints.http.schemas.replays import KlineOut, ReplayOut


def dec(value: Decimal | None) -> str:
    """A decimal as Bybit writes it: a plain string, empty when absent."""
    return "" if value is None else money_str(value)


def user(u: User) -> UserOut:
    return UserOut(userId=u.user_id, email=u.email, createdTime=u.created_time)


def account(a: Account, view: AccountView) -> AccountOut:
    return AccountOut(
        accountId=a.account_id,
        name=a.name,
        currency=a.currency,
        kind=a.kind,
        walletBalance=dec(view.wallet_balance),
        equity=dec(view.equity),
        availableBalance=dec(view.available_balance),
        unrealisedPnl=dec(view.unrealised_pnl),
        totalPositionIM=dec(view.position_im),
        totalOrderIM=dec(view.order_im),
        createdTime=a.created_time,
    )


def wallet(view: AccountView) -> dict[str, object]:
    """The `wallet` push: Bybit's wallet record, for the account's settle coin."""
    return {
        "accountId": view.account_id,
        "coin": view.coin,
        "walletBalance": dec(view.wallet_balance),
        "equity": dec(view.equity),
        "availableBalance": dec(view.available_balance),
        "unrealisedPnl": dec(view.unrealised_pnl),
        "totalPositionIM": dec(view.position_im),
        "totalOrderIM": dec(view.order_im),
    }


def instrument(i: Instrument) -> InstrumentOut:
    return InstrumentOut(**i.to_record())  # type: ignore[arg-type]


def ticker(t: Ticker) -> TickerOut:
    return TickerOut(
        symbol=t.symbol,
        lastPrice=dec(t.last_price),
        bid1Price=dec(t.bid_price),
        ask1Price=dec(t.ask_price),
        markPrice=dec(t.mark_price),
        bid1Size=dec(t.bid_size),
        ask1Size=dec(t.ask_size),
        fundingRate=dec(t.funding_rate),
        nextFundingTime=t.next_funding_time or 0,
        ts=t.ts,
    )


def candle(c: Candle) -> CandleOut:
    return CandleOut(
        start=c.open_time,
        end=c.close_time,
        interval=c.interval,
        open=dec(c.open),
        high=dec(c.high),
        low=dec(c.low),
        close=dec(c.close),
        volume=dec(c.volume),
        turnover=dec(c.turnover),
        confirm=c.closed,
    )


def order(o: Order) -> OrderOut:
    return OrderOut(
        orderId=o.order_id,
        orderLinkId=o.order_link_id,
        accountId=o.account_id,
        category=o.category.value,
        symbol=o.symbol,
        side=o.side.value,
        orderType=o.order_type.value,
        price=dec(o.price),
        qty=dec(o.qty),
        timeInForce=o.time_in_force.value,
        orderStatus=o.status.value,
        triggerPrice=dec(o.trigger_price),
        triggerDirection=int(o.trigger_direction) if o.trigger_direction is not None else 0,
        triggerBy=o.trigger_by.value,
        reduceOnly=o.reduce_only,
        closeOnTrigger=o.close_on_trigger,
        takeProfit=dec(o.take_profit),
        stopLoss=dec(o.stop_loss),
        tpTriggerBy=o.tp_trigger_by.value,
        slTriggerBy=o.sl_trigger_by.value,
        stopOrderType=o.stop_order_type.value,
        createType=o.create_type.value,
        cumExecQty=dec(o.cum_exec_qty),
        cumExecValue=dec(o.cum_exec_value),
        cumExecFee=dec(o.cum_exec_fee),
        avgPrice=dec(o.avg_price),
        leavesQty=dec(o.leaves_qty),
        rejectReason=o.reject_reason,
        cancelType=o.cancel_type,
        createdTime=o.created_time,
        updatedTime=o.updated_time,
    )


def position(p: Position, marks: Mapping[str, Decimal]) -> PositionOut:
    mark = marks.get(p.symbol)
    return PositionOut(
        accountId=p.account_id,
        symbol=p.symbol,
        side=p.side.value if p.side is not None else "",
        size=dec(p.size),
        avgPrice=dec(p.avg_price),
        positionValue=dec(p.entry_value),
        markPrice=dec(mark),
        unrealisedPnl=dec(p.unrealised_pnl(mark)) if mark is not None else "0",
        cumRealisedPnl=dec(p.cum_realised_pnl),
        leverage=dec(p.leverage),
        tradeMode=0 if p.margin_mode is MarginMode.CROSS else 1,
        positionIM=dec(p.position_margin),
        liqPrice=dec(p.liq_price),
        bustPrice=dec(p.bust_price),
        takeProfit=dec(p.take_profit),
        stopLoss=dec(p.stop_loss),
        tpTriggerBy=p.tp_trigger_by.value,
        slTriggerBy=p.sl_trigger_by.value,
        createdTime=p.created_time,
        updatedTime=p.updated_time,
    )


def command_rejected(e: CommandRejected) -> CommandRejectedOut:
    return CommandRejectedOut(
        accountId=e.account_id,
        command=e.command,
        orderId=e.order_id,
        error=ErrorDetail(code=e.error.code, message=e.error.message),
    )


def execution(e: Execution) -> ExecutionOut:
    return ExecutionOut(
        execId=e.exec_id,
        orderId=e.order_id,
        orderLinkId=e.order_link_id,
        accountId=e.account_id,
        category=e.category.value,
        symbol=e.symbol,
        side=e.side.value,
        orderType=e.order_type.value,
        execType=e.exec_type.value,
        execPrice=dec(e.exec_price),
        execQty=dec(e.exec_qty),
        execValue=dec(e.exec_value),
        execFee=dec(e.exec_fee),
        feeRate=dec(e.fee_rate),
        feeCurrency=e.fee_coin,
        isMaker=e.is_maker,
        closedSize=dec(e.closed_size),
        execPnl=dec(e.exec_pnl),
        execTime=e.exec_time,
    )


def ledger_entry(e: LedgerEntry) -> LedgerOut:
    return LedgerOut(
        entryId=e.entry_id,
        accountId=e.account_id,
        coin=e.coin,
        type=e.kind.value,
        change=dec(e.amount),
        cashBalance=dec(e.balance_after),
        refId=e.ref_id,
        symbol=e.symbol,
        transactionTime=e.ts,
    )


def attachment(a: Attachment) -> AttachmentOut:
    return AttachmentOut(
        attachmentId=a.attachment_id,
        contentType=a.content_type,
        size=a.size,
        filename=a.filename,
        createdTime=a.created_time,
        url=f"/api/v1/journal/{a.entry_id}/attachments/{a.attachment_id}",
    )


def journal_entry(e: JournalEntry) -> JournalOut:
    return JournalOut(
        entryId=e.entry_id,
        title=e.title,
        notes=e.notes,
        tags=list(e.tags),
        accountId=e.account_id,
        orderId=e.order_id,
        sessionStart=e.session_start,
        sessionEnd=e.session_end,
        createdTime=e.created_time,
        updatedTime=e.updated_time,
        attachments=[attachment(a) for a in e.attachments],
    )


def stats(account_id: str, s: AccountStats) -> StatsOut:
    return StatsOut(
        accountId=account_id,
        trades=s.trades,
        wins=s.wins,
        losses=s.losses,
        winRate=dec(s.win_rate),
        avgRMultiple=dec(s.avg_r_multiple),
        totalPnl=dec(s.total_pnl),
        maxDrawdown=dec(s.max_drawdown),
        sharpe=dec(s.sharpe),
        equityCurve=[EquityPoint(ts=ts, equity=dec(v)) for ts, v in s.equity_curve],
    )


def replay(view: ReplayView) -> ReplayOut:
    """`ReplayView.to_json()` is the one definition of the body; this gives it its documented type."""
    body = view.to_json()
    candle = body.pop("lastCandle")
    return ReplayOut(lastCandle=None if candle is None else KlineOut(**candle), **body)  # type: ignore[arg-type]
