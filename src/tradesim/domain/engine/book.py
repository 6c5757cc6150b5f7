"""Per-instrument state: the latest prices and the trigger index of resting and conditional orders."""

from __future__ import annotations

from decimal import Decimal

from tradesim.domain.enums import OrderStatus, OrderType, Side, TriggerBy, TriggerDirection
from tradesim.domain.instruments import Instrument
from tradesim.domain.orders import Order
from tradesim.domain.trigger_index import PriceHeap


class Book:
    """Latest prices of one instrument plus eight heaps, one per way an order can become due."""

    __slots__ = (
        "ask",
        "ask_size",
        "bid",
        "bid_size",
        "buy_limits",
        "funding_rate",
        "funding_settled_at",
        "instrument",
        "last",
        "last_fall",
        "last_rise",
        "liq_long",
        "liq_short",
        "mark",
        "mark_fall",
        "mark_rise",
        "next_funding_time",
        "position_accounts",
        "sell_limits",
        "stale",
        "ts",
        "unseen",
    )

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.last: Decimal | None = None
        self.bid: Decimal | None = None
        self.ask: Decimal | None = None
        self.mark: Decimal | None = None
        self.bid_size: Decimal | None = None
        self.ask_size: Decimal | None = None
        self.ts = 0
        self.stale = False
        self.funding_rate: Decimal | None = None
        self.next_funding_time: int | None = None
        self.funding_settled_at = 0
        self.buy_limits = PriceHeap(highest_first=True)
        self.sell_limits = PriceHeap(highest_first=False)
        self.last_rise = PriceHeap(highest_first=False)
        self.last_fall = PriceHeap(highest_first=True)
        self.mark_rise = PriceHeap(highest_first=False)
        self.mark_fall = PriceHeap(highest_first=True)
        self.liq_long = PriceHeap(highest_first=True)
        self.liq_short = PriceHeap(highest_first=False)
        self.position_accounts: set[str] = set()
        #: Limit orders that have not met the book (in arrival order), kept out of the limit heaps: placed
        #: or amended while there was no fresh price, or a remainder still crossing the book after taking
        #: its displayed size. The next fresh ticker matches them as if they had just arrived.
        self.unseen: dict[str, None] = {}

    def is_fresh(self, now: int, max_age_ms: int) -> bool:
        return self.last is not None and not self.stale and now - self.ts <= max_age_ms

    def trigger_heap(self, order: Order) -> PriceHeap:
        by_mark = order.trigger_by is TriggerBy.MARK_PRICE
        if order.trigger_direction is TriggerDirection.RISES_TO:
            return self.mark_rise if by_mark else self.last_rise
        return self.mark_fall if by_mark else self.last_fall

    def index(self, order: Order, seq: int) -> None:
        """Put an open order where the price that makes it due will find it."""
        if order.trigger_price is not None and order.status is OrderStatus.UNTRIGGERED:
            self.trigger_heap(order).push(order.order_id, order.trigger_price, seq)
        elif order.order_type is OrderType.LIMIT and order.price is not None:
            heap = self.buy_limits if order.side is Side.BUY else self.sell_limits
            heap.push(order.order_id, order.price, seq)

    def unindex(self, order: Order) -> None:
        key = order.order_id
        self.unseen.pop(key, None)
        for heap in (self.buy_limits, self.sell_limits, self.last_rise, self.last_fall, self.mark_rise, self.mark_fall):
            heap.remove(key)

    def index_liquidation(self, account_id: str, side: Side | None, liq_price: Decimal | None, seq: int) -> None:
        self.liq_long.remove(account_id)
        self.liq_short.remove(account_id)
        if side is None or liq_price is None:
            return
        (self.liq_long if side is Side.BUY else self.liq_short).push(account_id, liq_price, seq)
