"""The domain: instruments, orders, positions, accounts and the matching engine.

Pure Python on attrs: no I/O, no framework, time only from an injected clock. Import it on
its own (``pip install tradesim``) to simulate trading in a script or a notebook.
"""

from tradesim.domain.accounts import Account, AccountKind, AccountView
from tradesim.domain.catalog import default_catalog
from tradesim.domain.commands import (
    AmendOrder,
    CancelOrder,
    Command,
    PlaceOrder,
    SetLeverage,
    SettleFunding,
    SetTradingStop,
    Transfer,
)
from tradesim.domain.engine import EngineConfig, FixedTickSlippage, MatchingEngine, NoSlippage, SequentialIds
from tradesim.domain.enums import (
    CancelReason,
    Category,
    CreateType,
    ExecType,
    LedgerKind,
    MarginMode,
    OrderStatus,
    OrderType,
    Side,
    StopOrderType,
    TimeInForce,
    TriggerBy,
    TriggerDirection,
)
from tradesim.domain.errors import (
    Conflict,
    InvalidInput,
    InvalidOrderTransition,
    NotFound,
    RuleViolation,
    TradesimError,
)
from tradesim.domain.events import (
    BalanceChanged,
    CommandRejected,
    EngineEvent,
    OrderAccepted,
    OrderAmended,
    OrderCancelled,
    OrderFilled,
    OrderRejected,
    OrderTriggered,
    PositionChanged,
)
from tradesim.domain.executions import Execution, LedgerEntry
from tradesim.domain.instruments import Instrument, InstrumentCatalog
from tradesim.domain.market import Candle, FeedStatus, MarketEvent, Ticker, Trade
from tradesim.domain.numbers import Money, Price, Quantity
from tradesim.domain.order_rules import validate_place_order
from tradesim.domain.orders import Order
from tradesim.domain.positions import Position
from tradesim.domain.replay import ManualClock, bar_path, bar_ticks

__all__ = [
    "Account",
    "AccountKind",
    "AccountView",
    "AmendOrder",
    "BalanceChanged",
    "CancelOrder",
    "CancelReason",
    "Candle",
    "Category",
    "Command",
    "CommandRejected",
    "Conflict",
    "CreateType",
    "EngineConfig",
    "EngineEvent",
    "ExecType",
    "Execution",
    "FeedStatus",
    "FixedTickSlippage",
    "Instrument",
    "InstrumentCatalog",
    "InvalidInput",
    "InvalidOrderTransition",
    "LedgerEntry",
    "LedgerKind",
    "ManualClock",
    "MarginMode",
    "MarketEvent",
    "MatchingEngine",
    "Money",
    "NoSlippage",
    "NotFound",
    "Order",
    "OrderAccepted",
    "OrderAmended",
    "OrderCancelled",
    "OrderFilled",
    "OrderRejected",
    "OrderStatus",
    "OrderTriggered",
    "OrderType",
    "PlaceOrder",
    "Position",
    "PositionChanged",
    "Price",
    "Quantity",
    "RuleViolation",
    "SequentialIds",
    "SetLeverage",
    "SetTradingStop",
    "SettleFunding",
    "Side",
    "StopOrderType",
    "Ticker",
    "TimeInForce",
    "Trade",
    "TradesimError",
    "Transfer",
    "TriggerBy",
    "TriggerDirection",
    "bar_path",
    "bar_ticks",
    "default_catalog",
    "validate_place_order",
]
