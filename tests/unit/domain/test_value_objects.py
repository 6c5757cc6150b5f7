"""Prices, quantities and money are exact decimals; floats and mixed currencies are refused."""

from decimal import Decimal

import pytest

from tradesim.domain import Candle, InvalidInput, Money, Price, Quantity, Ticker, Trade
from tradesim.domain.numbers import is_multiple, money_str, round_money, round_to_step, to_decimal

D = Decimal


@pytest.mark.parametrize("cls", [Price, Quantity])
def test_a_float_is_refused_with_a_message_that_says_why(cls: type[Decimal]) -> None:
    with pytest.raises(InvalidInput) as info:
        cls(0.1)
    field = "price" if cls is Price else "qty"
    assert info.value.message == f"{field} must be a decimal string or an integer, not float (0.1)"
    assert info.value.code == "INVALID_INPUT"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (True, "price must be a decimal string or an integer, not bool (True)"),
        (None, "price must be a decimal string or an integer, not NoneType (None)"),
        ("12,5", "price must be a decimal number, got '12,5'"),
        ("NaN", "price must be a finite number, got 'NaN'"),
        ("Infinity", "price must be a finite number, got 'Infinity'"),
        ("0", "price must be greater than 0, got 0"),
        ("-3.5", "price must be greater than 0, got -3.5"),
    ],
)
def test_price_refuses_anything_but_a_positive_finite_decimal(raw: object, message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        Price(raw)
    assert info.value.message == message


def test_price_and_quantity_accept_strings_ints_and_decimals_exactly() -> None:
    # "0.1" stays 0.1 exactly: no binary rounding as with float 0.1.
    assert Price("0.1") == D("0.1")
    assert Price(" 30000.10 ") == D("30000.1")
    assert Price(7) == D(7)
    assert Quantity(D("0.001")) == D("0.001")
    # Arithmetic on them is plain exact Decimal: 0.1 + 0.2 is 0.3, not 0.30000000000000004.
    assert Price("0.1") + Price("0.2") == D("0.3")


def test_quantity_may_be_zero_but_never_negative() -> None:
    assert Quantity("0") == 0
    with pytest.raises(InvalidInput, match=r"^qty must not be negative, got -0.001$"):
        Quantity("-0.001")


def test_to_decimal_names_the_field_it_parses() -> None:
    with pytest.raises(InvalidInput, match=r"^takeProfit must be a decimal string or an integer, not float"):
        to_decimal(31000.5, "takeProfit")


def test_money_adds_and_subtracts_in_one_currency() -> None:
    total = Money("10.50", "USDT") + Money("0.25", "USDT") - Money("1", "USDT")
    assert total == Money(D("9.75"), "USDT")
    assert -total == Money("-9.75", "USDT")
    assert str(total) == "9.75 USDT"


def test_money_refuses_to_mix_currencies() -> None:
    with pytest.raises(InvalidInput, match=r"^cannot combine USDT with BTC$"):
        Money("1", "USDT") + Money("1", "BTC")
    with pytest.raises(InvalidInput, match=r"^cannot combine BTC with USDT$"):
        Money("1", "BTC") - Money("1", "USDT")


def test_money_refuses_floats_and_bad_currency_codes() -> None:
    with pytest.raises(InvalidInput, match=r"^amount must be a decimal string or an integer, not float \(0\.1\)$"):
        Money(0.1, "USDT")
    for code in ("usdt", "", "US-DT"):
        with pytest.raises(InvalidInput, match="currency must be an upper-case code"):
            Money("1", code)


def test_grid_helpers_are_exact() -> None:
    assert is_multiple(D("30000.10"), D("0.10"))
    assert not is_multiple(D("30000.05"), D("0.10"))
    # 19700.04 rounds up (away from zero) to 19700.1 and down to 19700.0 on a 0.1 grid.
    assert round_to_step(D("19700.04"), D("0.1"), up=True) == D("19700.1")
    assert round_to_step(D("19700.04"), D("0.1"), up=False) == D("19700.0")
    # Money out of a division keeps 8 decimals, banker's rounding: ...0000000_5 rounds to even.
    assert round_money(D("1") / D("3")) == D("0.33333333")
    assert round_money(D("0.000000125")) == D("0.00000012")
    assert money_str(D("1.500")) == "1.5"
    assert money_str(D("1E+2")) == "100"
    assert money_str(D("-0")) == "0"


def test_ticker_refuses_floats_and_a_crossed_book() -> None:
    with pytest.raises(InvalidInput, match=r"^lastPrice must be a decimal string or an integer, not float"):
        Ticker.of("BTCUSDT", last=30000.0, ts=0)
    with pytest.raises(InvalidInput, match=r"^last_price must be a Decimal, not float \(30000\.0\)$"):
        Ticker("BTCUSDT", 30000.0, D(1), D(1), D(1), 0)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=r"^BTCUSDT: bid 30000\.2 is above ask 30000\.1$"):
        Ticker.of("BTCUSDT", last="30000", bid="30000.2", ask="30000.1", ts=0)
    # A ticker with only a last price uses it for bid, ask and mark.
    ticker = Ticker.of("BTCUSDT", last="30000", ts=0)
    assert (ticker.bid_price, ticker.ask_price, ticker.mark_price) == (D(30000), D(30000), D(30000))


def test_trades_and_candles_refuse_floats_and_impossible_bars() -> None:
    with pytest.raises(InvalidInput, match="price must be a Decimal"):
        Trade("BTCUSDT", 30000.0, D(1), side=None, ts=0)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=r"candle at 0 is inconsistent: open 100 high 99 low 98 close 99"):
        Candle("BTCUSDT", 0, D(100), D(99), D(98), D(99), D(1))
    with pytest.raises(InvalidInput, match="unsupported candle interval '2m'"):
        Candle("BTCUSDT", 0, D(100), D(101), D(99), D(100), D(1), interval="2m")
    bar = Candle("BTCUSDT", 60_000, D(100), D(101), D(99), D(100), D(1))
    assert bar.close_time == 119_999
