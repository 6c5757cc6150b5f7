"""Recording new orders and queueing them, those of concurrent requests together (group commit).

An order's INSERT and its Redis command cost the api more as round trips than as work: most of
it is per statement and per command, whatever the rows. So orders that arrive while earlier
ones are being written wait for that write to end and then go together, as one INSERT
(`OrderRepository.add_new_many`) and one pipeline (`OrderQueue.enqueue_many`). A lone order
goes at once, alone: nothing waits for a batch to fill, the batches form only under load.
"""

from __future__ import annotations

import asyncio
import logging

import attrs

from tradesim.domain.commands import PlaceOrder
from tradesim.domain.orders import Order
from tradesim.ports.errors import DependencyUnavailable
from tradesim.ports.messaging import OrderQueue
from tradesim.ports.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

#: Orders per INSERT at most (on SQLite one statement holds 100 orders' 31 columns each).
MAX_BATCH = 100


@attrs.define
class _Waiting:
    order: Order
    command: PlaceOrder
    recorded: asyncio.Future[bool]


class OrderRecorder:
    """`record` an order: True once it is recorded and queued (or left for the sweeper to queue,
    when the queue is down), False when a unique key of it is taken (its orderLinkId, mostly),
    so that nothing was recorded. An outage of the store fails every order of the batch alike,
    and none of them is recorded: the batch is one statement."""

    def __init__(self, uow_factory: UnitOfWorkFactory, queue: OrderQueue) -> None:
        """`uow_factory`: a single-statement factory will do, the batch being one INSERT."""
        self._uow = uow_factory
        self._queue = queue
        self._waiting: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, order: Order, command: PlaceOrder) -> bool:
        recorded: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiting(order, attrs.evolve(command, order_id=order.order_id), recorded))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_all(), name="order-recorder")
        # Shielded: a request given up on (the client went away) leaves its order to the batch,
        # which may have written it already.
        return await asyncio.shield(recorded)

    async def _write_all(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
                await self._write(batch)
        finally:
            self._writer = None
            for waiting in self._waiting:  # only after a failure of the loop itself
                if not waiting.recorded.done():
                    waiting.recorded.set_exception(RuntimeError("the order recorder stopped"))
            self._waiting = []

    async def _write(self, batch: list[_Waiting]) -> None:
        try:
            async with self._uow() as uow:
                inserted = await uow.orders.add_new_many([w.order for w in batch])
                await uow.commit()
            recorded = [w for w in batch if w.order.order_id in inserted]
            if recorded:
                await self._queue_recorded(recorded)
        except BaseException as error:
            for waiting in batch:
                if not waiting.recorded.done():
                    waiting.recorded.set_exception(error)
            if not isinstance(error, Exception):
                raise  # cancelled: the process is stopping
            return
        for waiting in batch:
            waiting.recorded.set_result(waiting.order.order_id in inserted)

    async def _queue_recorded(self, recorded: list[_Waiting]) -> None:
        # Recorded before queued: if this process dies now, or the queue is down, the orders
        # are still the traders': a worker's sweeper queues recorded orders nobody took in.
        try:
            await self._queue.enqueue_many([w.command for w in recorded])
        except DependencyUnavailable as error:
            log.warning("%d orders recorded but not queued (%s); the sweeper will queue them", len(recorded), error)
