"""Instruments and the order-entry rules they impose (Bybit v5 instruments-info)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal

import attrs

from tradesim.domain.enums import Category
from tradesim.domain.errors import (
    InvalidInput,
    LeverageOutOfRange,
    NotionalBelowMinimum,
    PriceOffTick,
    PriceOutOfRange,
    QtyAboveMaximum,
    QtyBelowMinimum,
    QtyOffStep,
    UnknownSymbol,
)
from tradesim.domain.numbers import ONE, is_multiple, money_str, to_decimal

InstrumentKey = tuple[Category, str]


def _positive(instance: object, attribute: attrs.Attribute[Decimal], value: Decimal) -> None:
    if value <= 0:
        raise InvalidInput(f"{attribute.name} must be greater than 0, got {value}")


def _non_negative(instance: object, attribute: attrs.Attribute[Decimal], value: Decimal) -> None:
    if value < 0:
        raise InvalidInput(f"{attribute.name} must not be negative, got {value}")


@attrs.frozen
class Instrument:
    """A tradable symbol in one category, with its grid, limits, fees and risk parameters."""

    symbol: str
    category: Category
    base_coin: str
    quote_coin: str
    tick_size: Decimal = attrs.field(converter=to_decimal, validator=_positive)
    min_price: Decimal = attrs.field(converter=to_decimal, validator=_positive)
    max_price: Decimal = attrs.field(converter=to_decimal, validator=_positive)
    qty_step: Decimal = attrs.field(converter=to_decimal, validator=_positive)
    min_order_qty: Decimal = attrs.field(converter=to_decimal, validator=_positive)
    max_order_qty: Decimal = attrs.field(converter=to_decimal, validator=_positive)
    max_market_order_qty: Decimal = attrs.field(converter=to_decimal, validator=_positive)
    min_notional: Decimal = attrs.field(converter=to_decimal, validator=_non_negative)
    max_leverage: Decimal = attrs.field(converter=to_decimal, validator=_positive)
    maker_fee_rate: Decimal = attrs.field(converter=to_decimal)
    taker_fee_rate: Decimal = attrs.field(converter=to_decimal)
    maintenance_margin_rate: Decimal = attrs.field(converter=to_decimal, validator=_non_negative)
    funding_interval_minutes: int = 0

    def __attrs_post_init__(self) -> None:
        if self.min_order_qty > self.max_order_qty:
            raise InvalidInput(f"{self.symbol}: minOrderQty {self.min_order_qty} exceeds maxOrderQty")
        if self.category is Category.SPOT and self.max_leverage != ONE:
            raise InvalidInput(f"{self.symbol}: spot instruments trade without leverage")

    @property
    def key(self) -> InstrumentKey:
        return (self.category, self.symbol)

    @property
    def is_linear(self) -> bool:
        return self.category is Category.LINEAR

    def check_price(self, price: Decimal, field: str = "price") -> None:
        """Raises `PriceOffTick` or `PriceOutOfRange` when `price` breaks the price filter."""
        if not is_multiple(price, self.tick_size):
            raise PriceOffTick(
                f"{field} {money_str(price)} is not a multiple of {self.symbol}'s tick size {self.tick_size}"
            )
        if not self.min_price <= price <= self.max_price:
            raise PriceOutOfRange(
                f"{field} {money_str(price)} is outside {self.symbol}'s range {self.min_price}..{self.max_price}"
            )

    def check_qty(self, qty: Decimal, *, market: bool = False) -> None:
        """Raises `QtyOffStep`, `QtyBelowMinimum` or `QtyAboveMaximum` when `qty` breaks the lot filter."""
        if not is_multiple(qty, self.qty_step):
            raise QtyOffStep(f"qty {money_str(qty)} is not a multiple of {self.symbol}'s qty step {self.qty_step}")
        if qty < self.min_order_qty:
            raise QtyBelowMinimum(
                f"qty {money_str(qty)} is below {self.symbol}'s minimum order qty {self.min_order_qty}"
            )
        limit = self.max_market_order_qty if market else self.max_order_qty
        if qty > limit:
            kind = "market order" if market else "order"
            raise QtyAboveMaximum(f"qty {money_str(qty)} is above {self.symbol}'s maximum {kind} qty {limit}")

    def check_notional(self, qty: Decimal, price: Decimal) -> None:
        """Raises `NotionalBelowMinimum` when qty x price is below the instrument's minimum order value."""
        notional = qty * price
        if notional < self.min_notional:
            raise NotionalBelowMinimum(
                f"order value {money_str(notional)} {self.quote_coin} is below {self.symbol}'s minimum "
                f"of {self.min_notional} {self.quote_coin}"
            )

    def check_leverage(self, leverage: Decimal) -> None:
        if not ONE <= leverage <= self.max_leverage:
            raise LeverageOutOfRange(f"leverage {leverage} is outside {self.symbol}'s range 1..{self.max_leverage}")

    def fee_rate(self, *, maker: bool) -> Decimal:
        return self.maker_fee_rate if maker else self.taker_fee_rate

    @classmethod
    def from_record(cls, record: Mapping[str, object]) -> Instrument:
        """Build from the bundled snapshot's camelCase record.

        Raises:
            InvalidInput: a field is missing or malformed.
        """
        try:
            return cls(
                symbol=str(record["symbol"]),
                category=Category(str(record["category"])),
                base_coin=str(record["baseCoin"]),
                quote_coin=str(record["quoteCoin"]),
                tick_size=record["tickSize"],
                min_price=record["minPrice"],
                max_price=record["maxPrice"],
                qty_step=record["qtyStep"],
                min_order_qty=record["minOrderQty"],
                max_order_qty=record["maxOrderQty"],
                max_market_order_qty=record["maxMktOrderQty"],
                min_notional=record["minNotionalValue"],
                max_leverage=record["maxLeverage"],
                maker_fee_rate=record["makerFeeRate"],
                taker_fee_rate=record["takerFeeRate"],
                maintenance_margin_rate=record["maintenanceMarginRate"],
                funding_interval_minutes=int(str(record.get("fundingIntervalMinutes", 0))),
            )
        except (KeyError, ValueError) as error:
            raise InvalidInput(f"instrument record {record.get('symbol')!r} is malformed: {error}") from None

    def to_record(self) -> dict[str, object]:
        return {
            "category": self.category.value,
            "symbol": self.symbol,
            "baseCoin": self.base_coin,
            "quoteCoin": self.quote_coin,
            "tickSize": str(self.tick_size),
            "minPrice": str(self.min_price),
            "maxPrice": str(self.max_price),
            "qtyStep": str(self.qty_step),
            "minOrderQty": str(self.min_order_qty),
            "maxOrderQty": str(self.max_order_qty),
            "maxMktOrderQty": str(self.max_market_order_qty),
            "minNotionalValue": str(self.min_notional),
            "maxLeverage": str(self.max_leverage),
            "makerFeeRate": str(self.maker_fee_rate),
            "takerFeeRate": str(self.taker_fee_rate),
            "maintenanceMarginRate": str(self.maintenance_margin_rate),
            "fundingIntervalMinutes": self.funding_interval_minutes,
        }


class InstrumentCatalog:
    """The instruments a simulation knows, by (category, symbol)."""

    def __init__(self, instruments: Iterable[Instrument]) -> None:
        self._by_key: dict[InstrumentKey, Instrument] = {}
        for instrument in instruments:
            if instrument.key in self._by_key:
                raise InvalidInput(f"instrument {instrument.category.value} {instrument.symbol} listed twice")
            self._by_key[instrument.key] = instrument

    def get(self, symbol: str, category: Category = Category.LINEAR) -> Instrument:
        """Raises `UnknownSymbol` when the catalog has no such instrument."""
        instrument = self._by_key.get((category, symbol))
        if instrument is None:
            known = ", ".join(sorted(s for c, s in self._by_key if c is category)) or "none"
            raise UnknownSymbol(f"unknown {category.value} symbol {symbol!r}; known: {known}")
        return instrument

    def find(self, symbol: str, category: Category = Category.LINEAR) -> Instrument | None:
        return self._by_key.get((category, symbol))

    def __iter__(self) -> Iterator[Instrument]:
        return iter(sorted(self._by_key.values(), key=lambda i: (i.category.value, i.symbol)))

    def __len__(self) -> int:
        return len(self._by_key)

    def symbols(self, category: Category = Category.LINEAR) -> list[str]:
        return sorted(s for c, s in self._by_key if c is category)
