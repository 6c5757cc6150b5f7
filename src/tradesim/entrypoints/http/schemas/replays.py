"""Bar Replay sessions, their controls, and the bars they play (Bybit's kline record)."""

from __future__ import annotations

import builtins
from typing import Annotated, Literal

import attrs
import msgspec

from tradesim.entrypoints.http.schemas.common import Decimal, EpochMs, Limit, SignedDecimal, Symbol

Speed = Annotated[
    Decimal,
    msgspec.Meta(description="bars per second, from 0.1 to 1000, as a decimal string", examples=["1", "10", "0.5"]),
]
ReplayStateName = Literal["paused", "playing", "finished"]


@attrs.frozen
class ReplayCreate:
    """A new session of `symbol`'s stored 1m bars from `start` (epoch ms, rounded down to the minute), paused,
    on a new replay account funded with `startingBalance` USDT (default 10000)."""

    symbol: Symbol
    start: EpochMs
    speed: Speed
    startingBalance: Decimal | None = None


@attrs.frozen
class ReplayControlIn:
    """`play`, `pause`, `step` (one bar, while paused), `seek` (to `to`, epoch ms) or `speed` (to `speed`)."""

    action: Literal["play", "pause", "step", "seek", "speed"]
    to: EpochMs | None = None
    speed: Speed | None = None


@attrs.frozen
class ReplayQuery:
    limit: Limit = 100


@attrs.frozen
class KlineOut:
    """A 1m bar as in Bybit's kline push: `start`/`end` epoch ms, `interval` "1", `confirm` true (closed)."""

    start: int
    end: int
    interval: str
    open: str
    high: str
    low: str
    close: str
    volume: str
    confirm: bool


@attrs.frozen
class ReplayOut:
    """A session. `cursor`: open time of the next bar to play; `clock`: the replay time its orders run on
    (the end of the last bar played). `lastCandle`: the bar played last, null before the first and right
    after a seek. `lastPrice`: what its account's orders are checked and filled at now (the close of the
    last stored bar before the cursor), empty when there is none. In a list, neither is filled."""

    replayId: str
    accountId: str
    symbol: str
    category: str
    state: ReplayStateName
    start: int
    clock: int
    cursor: int
    speed: SignedDecimal
    barsPlayed: int
    lastCandle: KlineOut | None
    lastPrice: SignedDecimal
    createdTime: int
    updatedTime: int


@attrs.frozen
class ReplayList:
    list: builtins.list[ReplayOut]
