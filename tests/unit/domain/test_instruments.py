"""Instrument rules: each broken rule raises its own typed error naming the rule and the numbers."""

from decimal import Decimal

import pytest

from tests.unit.domain.conftest import Sim, btc_linear, of_type, one
from tradesim.domain import (
    Category,
    Instrument,
    InstrumentCatalog,
    InvalidInput,
    OrderAccepted,
    OrderRejected,
    OrderStatus,
    OrderType,
    PlaceOrder,
    Side,
    TimeInForce,
    TriggerDirection,
    default_catalog,
    validate_place_order,
)
from tradesim.domain.errors import (
    InvalidTpSl,
    InvalidTrigger,
    LeverageOutOfRange,
    NotionalBelowMinimum,
    PriceOffTick,
    PriceOutOfRange,
    QtyAboveMaximum,
    QtyBelowMinimum,
    QtyOffStep,
    RuleViolation,
    UnknownSymbol,
    UnsupportedForCategory,
)

D = Decimal
CATALOG = default_catalog()
BTC = CATALOG.get("BTCUSDT")


def test_the_bundled_snapshot_has_btc_eth_sol_linear_and_spot() -> None:
    assert len(CATALOG) == 6
    assert CATALOG.symbols(Category.LINEAR) == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    assert CATALOG.symbols(Category.SPOT) == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    # Bybit's BTCUSDT perpetual: 0.10 tick, 0.001 lot, 100x, maker 0.02%, taker 0.055%, MMR 0.5%.
    assert (BTC.tick_size, BTC.qty_step, BTC.min_order_qty) == (D("0.10"), D("0.001"), D("0.001"))
    assert (BTC.max_leverage, BTC.maker_fee_rate, BTC.taker_fee_rate) == (D(100), D("0.0002"), D("0.00055"))
    assert BTC.maintenance_margin_rate == D("0.005")
    spot = CATALOG.get("BTCUSDT", Category.SPOT)
    assert (spot.base_coin, spot.quote_coin, spot.taker_fee_rate, spot.max_leverage) == ("BTC", "USDT", D("0.001"), 1)


def test_price_off_tick() -> None:
    with pytest.raises(PriceOffTick) as info:
        BTC.check_price(D("30000.05"))
    assert info.value.message == "price 30000.05 is not a multiple of BTCUSDT's tick size 0.10"
    assert info.value.code == "PRICE_OFF_TICK"
    assert isinstance(info.value, RuleViolation)


def test_price_outside_the_instrument_range() -> None:
    with pytest.raises(PriceOutOfRange) as info:
        BTC.check_price(D("200000.00"), "triggerPrice")
    assert info.value.message == "triggerPrice 200000 is outside BTCUSDT's range 0.10..199999.80"


def test_qty_off_step() -> None:
    with pytest.raises(QtyOffStep) as info:
        BTC.check_qty(D("0.0015"))
    assert info.value.message == "qty 0.0015 is not a multiple of BTCUSDT's qty step 0.001"
    assert info.value.code == "QTY_OFF_STEP"


def test_qty_below_minimum() -> None:
    # Spot BTCUSDT: step 0.000001 but minimum 0.000048, so 0.000047 is on the grid yet too small.
    spot = CATALOG.get("BTCUSDT", Category.SPOT)
    with pytest.raises(QtyBelowMinimum) as info:
        spot.check_qty(D("0.000047"))
    assert info.value.message == "qty 0.000047 is below BTCUSDT's minimum order qty 0.000048"
    assert info.value.code == "QTY_BELOW_MINIMUM"


def test_qty_above_maximum_for_limit_and_for_market_orders() -> None:
    with pytest.raises(QtyAboveMaximum) as info:
        BTC.check_qty(D("100.001"))
    assert info.value.message == "qty 100.001 is above BTCUSDT's maximum order qty 100.000"
    # ETHUSDT takes 7,240 in a limit order but only 724 in a market order.
    eth = CATALOG.get("ETHUSDT")
    eth.check_qty(D("725"))
    with pytest.raises(QtyAboveMaximum) as info:
        eth.check_qty(D("725"), market=True)
    assert info.value.message == "qty 725 is above ETHUSDT's maximum market order qty 724.00"


def test_notional_below_minimum() -> None:
    # 0.001 BTC x 4,000 = 4 USDT, below BTCUSDT's 5 USDT minimum order value; 0.002 x 2,500 = 5 is enough.
    with pytest.raises(NotionalBelowMinimum) as info:
        BTC.check_notional(D("0.001"), D("4000"))
    assert info.value.message == "order value 4 USDT is below BTCUSDT's minimum of 5 USDT"
    assert info.value.code == "NOTIONAL_BELOW_MINIMUM"
    BTC.check_notional(D("0.002"), D("2500"))


def test_unknown_symbol_lists_the_known_ones() -> None:
    with pytest.raises(UnknownSymbol) as info:
        CATALOG.get("DOGEUSDT")
    assert info.value.message == "unknown linear symbol 'DOGEUSDT'; known: BTCUSDT, ETHUSDT, SOLUSDT"
    assert info.value.code == "UNKNOWN_SYMBOL"
    assert CATALOG.find("DOGEUSDT") is None


def test_leverage_range() -> None:
    BTC.check_leverage(D(1))
    BTC.check_leverage(D(100))
    for bad in ("0.5", "101"):
        with pytest.raises(LeverageOutOfRange, match=rf"^leverage {bad} is outside BTCUSDT's range 1\.\.100$"):
            BTC.check_leverage(D(bad))


def test_instrument_records_round_trip_and_bad_ones_are_refused() -> None:
    assert Instrument.from_record(BTC.to_record()) == BTC
    record = BTC.to_record()
    del record["tickSize"]
    with pytest.raises(InvalidInput, match="instrument record 'BTCUSDT' is malformed"):
        Instrument.from_record(record)
    with pytest.raises(InvalidInput, match=r"^tick_size must be greater than 0, got 0$"):
        btc_linear(tick_size="0")
    with pytest.raises(InvalidInput, match="listed twice"):
        InstrumentCatalog([BTC, BTC])
    with pytest.raises(InvalidInput, match="spot instruments trade without leverage"):
        Instrument.from_record({**CATALOG.get("BTCUSDT", Category.SPOT).to_record(), "maxLeverage": "10"})


def cmd(**fields: object) -> PlaceOrder:
    base: dict[str, object] = {
        "account_id": "acc",
        "symbol": "BTCUSDT",
        "side": Side.BUY,
        "order_type": OrderType.LIMIT,
        "qty": D("0.01"),
        "price": D("30000"),
    }
    base.update(fields)
    return PlaceOrder(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"price": None}, InvalidInput, "a Limit order needs a price"),
        ({"qty": D(0)}, InvalidInput, "qty must be greater than 0, got 0"),
        (
            {"order_type": OrderType.MARKET, "price": None, "time_in_force": TimeInForce.POST_ONLY},
            InvalidInput,
            "timeInForce PostOnly needs a Limit order: a market order always takes liquidity",
        ),
        (
            {"trigger_price": D("31000")},
            InvalidTrigger,
            "a conditional order needs triggerDirection: 1 (rises to) or 2 (falls to)",
        ),
        (
            {"trigger_direction": TriggerDirection.RISES_TO},
            InvalidTrigger,
            "triggerDirection is set but triggerPrice is missing",
        ),
        (
            {"trigger_price": D("29000"), "trigger_direction": TriggerDirection.RISES_TO},
            InvalidTrigger,
            "triggerPrice 29000 must be above the last price 30000 for triggerDirection 1 (rises to)",
        ),
        (
            {"trigger_price": D("31000"), "trigger_direction": TriggerDirection.FALLS_TO},
            InvalidTrigger,
            "triggerPrice 31000 must be below the last price 30000 for triggerDirection 2 (falls to)",
        ),
        ({"take_profit": D("29000")}, InvalidTpSl, "takeProfit 29000 must be above 30000 for a long"),
        ({"stop_loss": D("31000")}, InvalidTpSl, "stopLoss 31000 must be below 30000 for a long"),
        (
            {"side": Side.SELL, "take_profit": D("31000")},
            InvalidTpSl,
            "takeProfit 31000 must be below 30000 for a short",
        ),
        (
            {"reduce_only": True, "stop_loss": D("29000")},
            InvalidTpSl,
            "a reduce-only order cannot carry takeProfit / stopLoss",
        ),
        ({"stop_loss": D("29000.05")}, PriceOffTick, "stopLoss 29000.05 is not a multiple of BTCUSDT's tick size"),
        (
            {"category": Category.SPOT, "reduce_only": True},
            UnsupportedForCategory,
            "reduceOnly applies to linear perpetuals only, not spot",
        ),
        (
            {"category": Category.SPOT, "take_profit": D("31000")},
            UnsupportedForCategory,
            "takeProfit / stopLoss apply to linear perpetuals only, not spot",
        ),
    ],
)
def test_static_order_rules_name_what_is_wrong(fields: dict[str, object], error: type[Exception], message: str) -> None:
    place = cmd(**fields)
    instrument = CATALOG.get("BTCUSDT", place.category)
    with pytest.raises(error) as info:
        validate_place_order(place, instrument, last_price=D("30000"))
    assert str(info.value).startswith(message)


def test_a_market_order_is_checked_for_notional_at_the_last_price() -> None:
    # 0.001 BTC at a last price of 4,000 is a 4 USDT order: below the 5 USDT minimum.
    market = cmd(order_type=OrderType.MARKET, price=None, qty=D("0.001"))
    with pytest.raises(NotionalBelowMinimum, match="order value 4 USDT"):
        validate_place_order(market, BTC, last_price=D("4000"))
    validate_place_order(market, BTC, last_price=D("5000"))


@pytest.mark.parametrize(
    ("fields", "error", "code"),
    [
        ({"price": "30000.05"}, PriceOffTick, "PRICE_OFF_TICK"),
        ({"qty": "0.0015"}, QtyOffStep, "QTY_OFF_STEP"),
        ({"qty": "100.001"}, QtyAboveMaximum, "QTY_ABOVE_MAXIMUM"),
        ({"qty": "0.001", "price": "4000.0"}, NotionalBelowMinimum, "NOTIONAL_BELOW_MINIMUM"),
        ({"symbol": "DOGEUSDT"}, UnknownSymbol, "UNKNOWN_SYMBOL"),
    ],
)
def test_the_engine_rejects_a_rule_breaking_order_and_changes_nothing(
    fields: dict[str, str], error: type[Exception], code: str
) -> None:
    sim = Sim()
    sim.open()
    sim.tick("30000", bid="29999.9", ask="30000.1")
    qty = fields.pop("qty", "0.01")
    events = sim.buy(qty, price=fields.pop("price", "29000"), **fields)
    rejected = one(events, OrderRejected)
    assert type(rejected.error) is error
    assert rejected.order.status is OrderStatus.REJECTED
    assert rejected.order.reject_reason == code
    assert rejected.order.reject_message == rejected.error.message
    assert of_type(events, OrderAccepted) == []
    assert sim.engine.open_orders() == []
    view = sim.view()
    assert (view.wallet_balance, view.order_im) == (D(10000), 0)


def test_the_engine_rejects_an_order_for_an_unknown_account() -> None:
    sim = Sim()
    sim.tick("30000")
    rejected = one(sim.buy("0.01", account="ghost"), OrderRejected)
    assert rejected.error.code == "NOT_FOUND"
    assert rejected.error.message == "account 'ghost' does not exist"


def test_an_instrument_refuses_a_float() -> None:
    with pytest.raises(InvalidInput, match=r"must be a decimal string or an integer, not float \(0\.00055\)$"):
        btc_linear(taker_fee_rate=0.00055)
