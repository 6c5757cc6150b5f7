"""Public market data: `/v5/market/{time,instruments-info,tickers,kline,orderbook,recent-trade}`.

Unsigned, these answer the live feed. Signed by a replay account's key, `tickers`, `orderbook`,
`recent-trade` and `kline` answer that replay's market instead: its one symbol at the price its
engine last saw, at replay time, and only the bars it has played (a bot on history never sees a
bar ahead of its replay). Signed by any other key they answer the live feed, as unsigned.
"""

from __future__ import annotations

from quart import Blueprint, Response

from tradesim.application.prices import ReplayMarket
from tradesim.domain.enums import Category
from tradesim.domain.market import INTERVAL_MS, Candle, Ticker, roll_up
from tradesim.entrypoints.http.bybit import market_records, records
from tradesim.entrypoints.http.bybit.context import params, public, services, signer
from tradesim.entrypoints.http.bybit.envelope import PARAMS, BybitRefusal, now_ms, ok, page
from tradesim.entrypoints.http.bybit.paging import paginate

bp = Blueprint("bybit_market", __name__, url_prefix="/market")

#: Bybit's kline intervals -> the candle intervals tradesim keeps.
KLINE_INTERVALS = {"1": "1m", "3": "3m", "5": "5m", "15": "15m", "60": "1h"}


@bp.get("/time")
@public
async def server_time() -> Response:
    now = now_ms()
    return ok({"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)}, at_ms=now)


@bp.get("/instruments-info")
@public
async def instruments_info() -> Response:
    p = await params()
    category = p.category()
    symbol = p.text("symbol")
    status = p.text("status")
    limit = p.integer("limit", default=500, low=1, high=1000)
    cursor = p.text("cursor")
    listed: list[dict[str, object]] = []
    # Every instrument trades; ccxt asks again with status=PreLaunch and appends that answer.
    if category in ("linear", "spot") and status in ("", "Trading"):
        wanted = Category(category)
        listed = [market_records.instrument(i) for i in services().catalog if i.category is wanted]
        if symbol:
            listed = [i for i in listed if i["symbol"] == symbol]
    items, next_cursor = paginate(listed, limit, cursor)
    return ok(page(category, items, next_cursor))


async def _replay_market() -> ReplayMarket | None:
    """The replay's market when the request is signed by a replay account's key; None for the live
    feed. A signed request is checked as any (a bad signature is refused, not answered live)."""
    key = await signer()
    return None if key is None else await services().prices.replay_market(key.account_id)


async def _latest(symbol: str, replay: ReplayMarket | None) -> Ticker | None:
    if replay is None:
        return services().tickers.get(symbol)
    return replay.ticker() if replay.symbol == symbol else None


@bp.get("/tickers")
@public
async def tickers() -> Response:
    p = await params()
    category = p.category()
    symbol = p.text("symbol")
    replay = await _replay_market()
    found = []
    if category in ("linear", "spot"):
        if replay is not None:
            symbols = [symbol] if symbol else [replay.symbol or ""]
        else:
            symbols = [symbol] if symbol else list(services().tickers.symbols)
        for name in symbols:
            ticker = await _latest(name, replay)
            if ticker is not None and ticker.category.value == category:
                found.append(market_records.ticker(ticker))
    return ok({"category": category, "list": found})


@bp.get("/orderbook")
@public
async def orderbook() -> Response:
    """Depth 1, from the latest ticker (the simulation matches against best bid and ask only)."""
    p = await params()
    p.category()
    symbol = p.text("symbol", required=True)
    p.integer("limit", default=1, low=1, high=1000)
    ticker = await _latest(symbol, await _replay_market())
    bids = [] if ticker is None else [[records.num(ticker.bid_price), records.num(ticker.bid_size)]]
    asks = [] if ticker is None else [[records.num(ticker.ask_price), records.num(ticker.ask_size)]]
    ts = now_ms() if ticker is None else ticker.ts
    return ok({"s": symbol, "b": bids, "a": asks, "ts": ts, "u": 1, "seq": 1, "cts": ts})


@bp.get("/recent-trade")
@public
async def recent_trade() -> Response:
    """The latest ticker's last price as the one recent trade tradesim knows of."""
    p = await params()
    category = p.category()
    symbol = p.text("symbol", required=True)
    ticker = await _latest(symbol, await _replay_market())
    trades = []
    if ticker is not None and ticker.category.value == category:
        trades.append(
            {
                "execId": f"{symbol}-{ticker.ts}",
                "symbol": symbol,
                "price": records.num(ticker.last_price),
                "size": "0",
                "side": "Buy",
                "time": str(ticker.ts),
                "isBlockTrade": False,
            }
        )
    return ok({"category": category, "list": trades})


@bp.get("/kline")
@public
async def kline() -> Response:
    p = await params()
    category = p.category(required=False)
    symbol = p.text("symbol", required=True)
    interval = p.text("interval", required=True)
    if interval not in KLINE_INTERVALS:
        raise BybitRefusal(PARAMS, f"params error: interval must be one of {', '.join(KLINE_INTERVALS)}")
    limit = p.integer("limit", default=200, low=1, high=1000)
    step = INTERVAL_MS[KLINE_INTERVALS[interval]]
    replay = await _replay_market()
    now = now_ms() if replay is None or replay.session is None else replay.session.cursor - 1
    end = p.integer("end", default=now, low=0, high=2**53)
    start = p.integer("start", default=max(0, end - step * limit), low=0, high=2**53)
    start = max(start, end - step * limit)
    if end <= start:
        return ok({"category": category, "symbol": symbol, "list": []})
    found: list[Candle]
    if replay is None:
        found = await services().candles.range(symbol, KLINE_INTERVALS[interval], start, end + 1)
    elif replay.symbol != symbol:
        found = []
    else:
        # As live: the newest bar is the one still forming, built of the minutes played so far.
        found = roll_up(await replay.bars(start - start % step, end + 1), KLINE_INTERVALS[interval])
        found = [c for c in found if c.open_time >= start - start % step]
    newest_first = [market_records.kline(c) for c in reversed(found)][:limit]
    return ok({"category": category, "symbol": symbol, "list": newest_first})
