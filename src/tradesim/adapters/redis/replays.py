"""Bar Replay over Redis: played bars on pub/sub, and the runners' inbox in lists.

Bars: channel ``replay.{replayId}`` (the WebSocket topic's name), fire-and-forget like prices.
Inbox: a list per session (``replay.{replayId}.inbox``) and a set of the sessions with messages
waiting (``replay.inbox.waiting``), kept consistent by taking with one Lua script, so a runner
can see which paused sessions need adopting without scanning keys.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Collection
from decimal import Decimal
from typing import Any, Final

from redis.asyncio import Redis

from tradesim.adapters.codec import Codec
from tradesim.adapters.redis.channel_subscription import ChannelSubscription
from tradesim.adapters.redis.errors import redis_call
from tradesim.adapters.redis.replies import text
from tradesim.domain.enums import Category
from tradesim.domain.market import Candle
from tradesim.domain.numbers import to_decimal
from tradesim.domain.replay_session import ReplayAction, ReplayBar, ReplayControl, replay_topic
from tradesim.ports.replay import ReplayMessage

log = logging.getLogger(__name__)

_CONTROL: Final = b"R"
_COMMAND: Final = b"C"
_POLL_S: Final = 0.05
# LPOP up to ARGV[1] messages; if none are left, the session is no longer waiting.
_TAKE: Final = """
local items = redis.call('LPOP', KEYS[1], ARGV[1])
if redis.call('LLEN', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[2]) end
if items then return items end
return {}
"""


def encode_bar(bar: ReplayBar) -> bytes:
    c = bar.candle
    payload = {
        "replayId": bar.replay_id,
        "symbol": c.symbol,
        "category": c.category.value,
        "interval": c.interval,
        "start": c.open_time,
        "open": str(c.open),
        "high": str(c.high),
        "low": str(c.low),
        "close": str(c.close),
        "volume": str(c.volume),
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def decode_bar(data: bytes | str) -> ReplayBar:
    p = json.loads(data)
    candle = Candle(
        symbol=p["symbol"],
        open_time=int(p["start"]),
        open=to_decimal(p["open"]),
        high=to_decimal(p["high"]),
        low=to_decimal(p["low"]),
        close=to_decimal(p["close"]),
        volume=to_decimal(p["volume"]),
        interval=p["interval"],
        category=Category(p["category"]),
    )
    return ReplayBar(p["replayId"], candle)


class RedisReplayBarBus:
    def __init__(self, client: Redis, namespace: str = "") -> None:
        self._client = client
        self._namespace = namespace

    def channel(self, replay_id: str) -> str:
        return self._namespace + replay_topic(replay_id)

    async def publish(self, bar: ReplayBar) -> None:
        async with redis_call("publishing a replay bar"):
            await self._client.publish(self.channel(bar.replay_id), encode_bar(bar))

    def subscribe(self, replay_id: str) -> ChannelSubscription[ReplayBar]:
        return ChannelSubscription(self._client, self.channel(replay_id), decode_bar, "replay bars")


class RedisReplayInbox:
    def __init__(self, client: Redis, namespace: str = "") -> None:
        self._client = client
        self._namespace = namespace
        self._codec = Codec()
        self._take = client.register_script(_TAKE)

    def key(self, replay_id: str) -> str:
        return f"{self._namespace}{replay_topic(replay_id)}.inbox"

    @property
    def waiting_key(self) -> str:
        return f"{self._namespace}replay.inbox.waiting"

    async def put(self, replay_id: str, message: ReplayMessage) -> None:
        async with redis_call("queueing a replay message"), self._client.pipeline(transaction=True) as pipe:
            pipe.rpush(self.key(replay_id), self._encode(message))
            pipe.sadd(self.waiting_key, replay_id)
            await pipe.execute()

    async def take(self, replay_id: str, *, max_count: int = 100) -> list[ReplayMessage]:
        async with redis_call("taking replay messages"):
            items = await self._take(keys=[self.key(replay_id), self.waiting_key], args=[max_count, replay_id])
        return [self._decode(item) for item in items]

    async def waiting(self, *, limit: int = 1000) -> list[str]:
        async with redis_call("listing waiting replays"):
            members = await self._client.srandmember(self.waiting_key, limit)
        return sorted(text(m) for m in members or [])

    async def wait(self, replay_ids: Collection[str], timeout_s: float) -> bool:
        """Polls (every 50 ms) for a waiting message: one EXISTS over every list the runner holds."""
        keys = [self.key(r) for r in replay_ids]
        deadline = time.monotonic() + timeout_s
        while True:
            if keys:
                async with redis_call("waiting for replay messages"):
                    if await self._client.exists(*keys):
                        return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            await asyncio.sleep(min(_POLL_S, remaining))

    def _encode(self, message: ReplayMessage) -> bytes:
        if isinstance(message, ReplayControl):
            body: dict[str, Any] = {"action": message.action.value, "to": message.to}
            body["speed"] = None if message.speed is None else str(message.speed)
            return _CONTROL + json.dumps(body).encode()
        return _COMMAND + self._codec.encode_command(message)

    def _decode(self, data: bytes) -> ReplayMessage:
        kind, body = data[:1], data[1:]
        if kind == _CONTROL:
            fields = json.loads(body)
            speed = fields.get("speed")
            return ReplayControl(
                ReplayAction(fields["action"]), to=fields.get("to"), speed=None if speed is None else Decimal(speed)
            )
        return self._codec.decode_command(body)
