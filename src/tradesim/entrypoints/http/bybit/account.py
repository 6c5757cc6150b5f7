"""`/v5/account/{wallet-balance,info,fee-rate}`, `/v5/execution/list`, `/v5/user/query-api`,
`/v5/asset/coin/query-info`: the key's account as a Bybit Unified Trading Account."""

from __future__ import annotations

from quart import Blueprint, Response

from tradesim.domain.enums import Category
from tradesim.entrypoints.http.bybit import records
from tradesim.entrypoints.http.bybit.context import caller, params, services, signed
from tradesim.entrypoints.http.bybit.envelope import ok, page
from tradesim.entrypoints.http.bybit.paging import MAX_OFFSET, paginate

account_bp = Blueprint("bybit_account", __name__, url_prefix="/account")
execution_bp = Blueprint("bybit_execution", __name__, url_prefix="/execution")
user_bp = Blueprint("bybit_user", __name__, url_prefix="/user")
asset_bp = Blueprint("bybit_asset", __name__, url_prefix="/asset")


@account_bp.get("/wallet-balance")
@signed()
async def wallet_balance() -> Response:
    p = await params()
    account_type = p.text("accountType") or "UNIFIED"
    coins = [c for c in p.text("coin").split(",") if c]
    key = caller()
    s = services()
    marks = await s.prices.marks(key.account_id)
    _, view = await s.portfolio.account(key.user_id, key.account_id, marks)
    wallet = records.wallet(view)
    if coins:
        wallet["coin"] = [c for c in wallet["coin"] if c["coin"] in coins]
    # Every account type a client asks for is this one unified wallet.
    wallet["accountType"] = account_type if account_type in ("UNIFIED", "CONTRACT", "SPOT") else "UNIFIED"
    return ok({"list": [wallet]})


@account_bp.get("/info")
@signed()
async def account_info() -> Response:
    """A Unified Trading Account (status 6), cross margin: ccxt then speaks its UTA dialect."""
    return ok(
        {
            "unifiedMarginStatus": 6,
            "marginMode": "REGULAR_MARGIN",
            "isMasterTrader": False,
            "spotHedgingStatus": "OFF",
            "updatedTime": str(caller().created_time),
            "dcpStatus": "OFF",
            "timeWindow": 10,
            "smpGroup": 0,
        }
    )


@account_bp.get("/fee-rate")
@signed()
async def fee_rate() -> Response:
    p = await params()
    category = p.category(required=False)
    symbol = p.text("symbol")
    listed = []
    if category in ("linear", "spot"):
        wanted = Category(category)
        for i in services().catalog:
            if i.category is wanted and (not symbol or i.symbol == symbol):
                listed.append(
                    {
                        "symbol": i.symbol,
                        "baseCoin": "",
                        "takerFeeRate": records.num(i.taker_fee_rate),
                        "makerFeeRate": records.num(i.maker_fee_rate),
                    }
                )
    return ok({"category": category, "list": listed})


@execution_bp.get("/list")
@signed()
async def execution_list() -> Response:
    """The account's fills, newest first."""
    p = await params()
    category = p.category()
    symbol = p.text("symbol")
    order_id = p.text("orderId")
    exec_type = p.text("execType")
    limit = p.integer("limit", default=50, low=1, high=100)
    cursor = p.text("cursor")
    start = p.integer("startTime", default=0, low=0, high=2**53)
    end = p.integer("endTime", default=2**53, low=0, high=2**53)
    if category not in ("linear", "spot"):
        return ok(page(category, []))
    key = caller()
    fills = await services().portfolio.executions(key.user_id, key.account_id, limit=MAX_OFFSET + limit + 1)
    wanted = [
        e
        for e in fills
        if e.category.value == category
        and (not symbol or e.symbol == symbol)
        and (not order_id or e.order_id == order_id)
        and (not exec_type or e.exec_type.value == exec_type)
        and start <= e.exec_time <= end
    ]
    items, next_cursor = paginate(wanted, limit, cursor)
    return ok(page(category, [records.execution(e) for e in items], next_cursor))


@user_bp.get("/query-api")
@signed()
async def query_api() -> Response:
    """The key itself; never its secret. `uta: 1` makes ccxt treat it as a Unified Trading Account."""
    key = caller()
    trade = [] if key.read_only else ["Order", "Position"]
    return ok(
        {
            "id": key.api_key_id,
            "note": key.label,
            "apiKey": key.api_key,
            "readOnly": 1 if key.read_only else 0,
            "secret": "",
            "permissions": {
                "ContractTrade": trade,
                "Spot": [] if key.read_only else ["SpotTrade"],
                "Wallet": ["AccountTransfer"],
                "Options": [],
                "Derivatives": [],
                "CopyTrading": [],
                "BlockTrade": [],
                "Exchange": [],
                "NFT": [],
                "Affiliate": [],
            },
            "ips": ["*"],
            "type": 1,
            "deadlineDay": -1,
            "expiredAt": "",
            "createdAt": str(key.created_time),
            "unified": 0,
            "uta": 1,
            "userID": 0,
            "inviterID": 0,
            "vipLevel": "No VIP",
            "mktMakerLevel": "0",
            "affiliateID": 0,
            "rsaPublicKey": "",
            "isMaster": True,
            "parentUid": "0",
            "kycLevel": "LEVEL_DEFAULT",
            "kycRegion": "",
        }
    )


@asset_bp.get("/coin/query-info")
@signed()
async def coin_info() -> Response:
    """ccxt's `fetch_currencies` asks at start-up; an empty list is enough for it."""
    return ok({"rows": []})
