"""The order queue on Redis Streams: one stream per partition, one consumer group of engines.

Entries stay pending until acknowledged (after the outcome is committed); a consumer that dies
leaves its entries pending, and `reclaim` hands those idle longer than a bound to another
consumer. Acknowledged entries are deleted, so a stream holds only work not yet done. Redis
here keeps nothing on disk: when it restarts, the streams are gone, and the worker's sweeper
re-queues from the database every order still waiting (`accepted_time == 0`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from redis import exceptions as redis_errors
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.typing import KeyT, StreamIdT

from tradesim.adapters.codec import Codec
from tradesim.adapters.redis.errors import redis_call
from tradesim.adapters.redis.replies import text
from tradesim.domain.commands import Command
from tradesim.ports.messaging import Delivery, routing_key, stable_partition

log = logging.getLogger(__name__)
GROUP = "engines"


class RedisOrderQueue:
    def __init__(self, client: Redis, partitions: int = 8, namespace: str = "") -> None:
        self.partitions = partitions
        self._client = client
        self._namespace = namespace
        self._codec = Codec()
        self._groups: set[int] = set()

    def partition_of(self, symbol: str) -> int:
        return stable_partition(symbol, self.partitions)

    def stream(self, partition: int) -> str:
        return f"{self._namespace}orders.{partition}"

    @property
    def dead_letters(self) -> str:
        return f"{self._namespace}orders.dead"

    async def enqueue(self, command: Command) -> str:
        partition = self.partition_of(routing_key(command))
        async with redis_call("queueing a command"):
            entry_id = await self._client.xadd(self.stream(partition), {"c": self._codec.encode_command(command)})
        return text(entry_id)

    async def enqueue_many(self, commands: Sequence[Command]) -> list[str]:
        if not commands:
            return []
        if len(commands) == 1:
            # A pipeline of one costs the client some 40 us of CPU more than the bare command,
            # and a lone order (the api's usual batch below a few hundred per second) is one.
            return [await self.enqueue(commands[0])]
        async with redis_call("queueing commands"), self._client.pipeline(transaction=False) as pipe:
            for command in commands:
                stream = self.stream(self.partition_of(routing_key(command)))
                pipe.xadd(stream, {"c": self._codec.encode_command(command)})
            entry_ids = await pipe.execute()
        return [text(e) for e in entry_ids]

    async def receive(
        self,
        consumer: str,
        partitions: Sequence[int],
        *,
        max_count: int = 100,
        block_ms: int = 1000,
        ack: Sequence[Delivery] = (),
    ) -> list[Delivery]:
        if not partitions:
            await self.ack(ack)
            return []
        streams: dict[KeyT, StreamIdT] = {self.stream(p): ">" for p in partitions}
        block = block_ms or None  # BLOCK 0 would wait forever
        async with redis_call("reading commands"):
            await self._ensure_groups(partitions)
            try:
                if ack:
                    # One round trip: the acknowledgements, then the read (Redis runs them in order).
                    async with self._client.pipeline(transaction=False) as pipe:
                        self._queue_acks(pipe, ack)
                        pipe.xreadgroup(GROUP, consumer, streams, count=max_count, block=block)
                        replies = (await pipe.execute())[-1]
                else:
                    replies = await self._client.xreadgroup(GROUP, consumer, streams, count=max_count, block=block)
            except redis_errors.ResponseError as error:
                if "NOGROUP" not in str(error):
                    raise
                self._groups.clear()  # Redis restarted and forgot the streams: recreate next time
                return []
        return await self._deliveries(list(replies or []), attempts=None)

    async def ack(self, deliveries: Sequence[Delivery]) -> None:
        if not deliveries:
            return
        async with redis_call("acknowledging commands"), self._client.pipeline(transaction=False) as pipe:
            self._queue_acks(pipe, deliveries)
            await pipe.execute()

    def _queue_acks(self, pipe: Pipeline, deliveries: Sequence[Delivery]) -> None:
        for delivery in deliveries:
            stream = self.stream(delivery.partition)
            pipe.xack(stream, GROUP, delivery.delivery_id)
            pipe.xdel(stream, delivery.delivery_id)

    async def reclaim(self, consumer: str, partitions: Sequence[int], *, min_idle_ms: int) -> list[Delivery]:
        found: list[Delivery] = []
        async with redis_call("reclaiming commands"):
            await self._ensure_groups(partitions)
            for partition in partitions:
                stream = self.stream(partition)
                try:
                    reply = await self._client.xautoclaim(stream, GROUP, consumer, min_idle_ms, "0-0", count=500)
                except redis_errors.ResponseError as error:
                    if "NOGROUP" not in str(error):
                        raise
                    self._groups.discard(partition)
                    continue
                messages = reply[1]
                if not messages:
                    continue
                pending = await self._client.xpending_range(
                    stream, GROUP, min=messages[0][0], max=messages[-1][0], count=len(messages) + 10
                )
                attempts = {p["message_id"]: int(p["times_delivered"]) for p in pending}
                found.extend(await self._deliveries([[stream.encode(), messages]], attempts=attempts))
        return found

    async def _ensure_groups(self, partitions: Sequence[int]) -> None:
        for partition in partitions:
            if partition in self._groups:
                continue
            try:
                await self._client.xgroup_create(self.stream(partition), GROUP, id="0", mkstream=True)
            except redis_errors.ResponseError as error:
                if "BUSYGROUP" not in str(error):
                    raise
            self._groups.add(partition)

    async def _deliveries(self, replies: list, attempts: dict | None) -> list[Delivery]:  # type: ignore[type-arg]
        deliveries: list[Delivery] = []
        for stream_name, messages in replies:
            name = text(stream_name)
            partition = int(name.rsplit(".", 1)[1])
            for entry_id, fields in messages:
                if fields is None:  # deleted while pending
                    continue
                key = text(entry_id)
                try:
                    command = self._codec.decode_command(fields[b"c"])
                except Exception:
                    await self._dead_letter(name, key, fields)
                    continue
                count = 1 if attempts is None else attempts.get(entry_id, attempts.get(key, 2))
                deliveries.append(Delivery(key, partition, command, int(count)))
        return deliveries

    async def _dead_letter(self, stream: str, entry_id: str, fields: dict) -> None:  # type: ignore[type-arg]
        """An entry no engine can read must not block its partition: park it where people can look."""
        log.error("undecodable command %s on %s moved to %s", entry_id, stream, self.dead_letters)
        await self._client.xadd(self.dead_letters, {"stream": stream, "id": entry_id, **fields})
        await self._client.xack(stream, GROUP, entry_id)
        await self._client.xdel(stream, entry_id)
