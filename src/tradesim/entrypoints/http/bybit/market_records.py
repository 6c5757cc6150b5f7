"""Market records in Bybit v5's shapes (instruments, tickers, klines), for `/v5/market` and the
`/v5/public` sockets."""

from __future__ import annotations

from typing import Any

from tradesim.domain.enums import Category
from tradesim.domain.instruments import Instrument
from tradesim.domain.market import Candle, Ticker
from tradesim.entrypoints.http.bybit.records import num


def instrument(i: Instrument) -> dict[str, Any]:
    if i.category is Category.SPOT:
        return {
            "symbol": i.symbol,
            "baseCoin": i.base_coin,
            "quoteCoin": i.quote_coin,
            "innovation": "0",
            "status": "Trading",
            "marginTrading": "none",
            "stTag": "0",
            "lotSizeFilter": {
                "basePrecision": num(i.qty_step),
                "quotePrecision": num(i.tick_size),
                "minOrderQty": num(i.min_order_qty),
                "maxOrderQty": num(i.max_order_qty),
                "minOrderAmt": num(i.min_notional),
                "maxOrderAmt": "2000000",
            },
            "priceFilter": {"tickSize": num(i.tick_size)},
            "riskParameters": {"priceLimitRatioX": "0.05", "priceLimitRatioY": "0.05"},
        }
    return {
        "symbol": i.symbol,
        "contractType": "LinearPerpetual",
        "status": "Trading",
        "baseCoin": i.base_coin,
        "quoteCoin": i.quote_coin,
        "settleCoin": i.quote_coin,
        "launchTime": "0",
        "deliveryTime": "0",
        "deliveryFeeRate": "",
        "priceScale": str(max(0, -int(i.tick_size.normalize().as_tuple().exponent))),
        "leverageFilter": {"minLeverage": "1", "maxLeverage": num(i.max_leverage), "leverageStep": "0.01"},
        "priceFilter": {"minPrice": num(i.min_price), "maxPrice": num(i.max_price), "tickSize": num(i.tick_size)},
        "lotSizeFilter": {
            "maxOrderQty": num(i.max_order_qty),
            "minOrderQty": num(i.min_order_qty),
            "qtyStep": num(i.qty_step),
            "postOnlyMaxOrderQty": num(i.max_order_qty),
            "maxMktOrderQty": num(i.max_market_order_qty),
            "minNotionalValue": num(i.min_notional),
        },
        "unifiedMarginTrade": True,
        "fundingInterval": i.funding_interval_minutes,
        "copyTrading": "none",
        "upperFundingRate": "0.02",
        "lowerFundingRate": "-0.02",
        "isPreListing": False,
        "preListingInfo": None,
    }


def ticker(t: Ticker) -> dict[str, Any]:
    record = {
        "symbol": t.symbol,
        "lastPrice": num(t.last_price),
        "bid1Price": num(t.bid_price),
        "bid1Size": num(t.bid_size),
        "ask1Price": num(t.ask_price),
        "ask1Size": num(t.ask_size),
        "prevPrice24h": num(t.last_price),
        "price24hPcnt": "0",
        "highPrice24h": num(t.last_price),
        "lowPrice24h": num(t.last_price),
        "turnover24h": "0",
        "volume24h": "0",
    }
    if t.category is Category.LINEAR:
        record |= {
            "indexPrice": num(t.mark_price),
            "markPrice": num(t.mark_price),
            "prevPrice1h": num(t.last_price),
            "openInterest": "0",
            "openInterestValue": "0",
            "fundingRate": num(t.funding_rate),
            "nextFundingTime": str(t.next_funding_time or 0),
            "predictedDeliveryPrice": "",
            "basisRate": "",
            "deliveryFeeRate": "",
            "deliveryTime": "0",
            "basis": "",
        }
    return record


def kline(c: Candle) -> list[str]:
    """`[startTime, open, high, low, close, volume, turnover]`, all strings."""
    return [str(c.open_time), num(c.open), num(c.high), num(c.low), num(c.close), num(c.volume), num(c.turnover)]
