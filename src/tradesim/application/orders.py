"""Order entry on the api side: check, record (an order as New, any other command in
`pending_commands`), queue. Never matches anything itself."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

import attrs

from tradesim.application.order_entry import OrderRecorder
from tradesim.application.ownership import KnownOwners
from tradesim.domain.commands import (
    AmendOrder,
    CancelOrder,
    PlaceOrder,
    RecordedCommand,
    SetLeverage,
    SetTradingStop,
)
from tradesim.domain.enums import Category
from tradesim.domain.errors import Conflict, InvalidInput, NotFound, OrderNotOpen, RuleViolation
from tradesim.domain.instruments import InstrumentCatalog
from tradesim.domain.order_rules import order_from_command, validate_place_order
from tradesim.domain.orders import Order
from tradesim.ports.clock import Clock
from tradesim.ports.errors import DependencyUnavailable
from tradesim.ports.messaging import OrderQueue
from tradesim.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)
C = TypeVar("C", bound=RecordedCommand)


@attrs.frozen
class PlacedOrder:
    """`created` is False when an `orderLinkId` repeat returned the order placed the first time."""

    order: Order
    created: bool


class OrderService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        queue: OrderQueue,
        catalog: InstrumentCatalog,
        clock: Clock,
        ids: Callable[[], str],
        entry_uow_factory: UnitOfWorkFactory | None = None,
        record_uow_factory: UnitOfWorkFactory | None = None,
    ) -> None:
        """`entry_uow_factory`: a single-statement factory (`ports.unit_of_work`) for the reads of
        an order or a list of them, which need no snapshot shared between statements (an account's
        owner never changes); defaults to `uow_factory`. `record_uow_factory`: the same kind, for
        recording new orders, one INSERT per batch, one batch at a time (`OrderRecorder`);
        defaults to `entry_uow_factory`."""
        self._uow = uow_factory
        self._entry_uow = entry_uow_factory or uow_factory
        self._queue = queue
        self._catalog = catalog
        self._clock = clock
        self._ids = ids
        self._owners = KnownOwners()
        self._recorder = OrderRecorder(record_uow_factory or self._entry_uow, queue)

    async def place(self, user_id: str, cmd: PlaceOrder, *, last_price: Decimal | None = None) -> PlacedOrder:
        """Validate against the instrument rules, record the order as New (or Untriggered), queue it.

        Raises:
            NotFound: the account is missing or belongs to someone else.
            RuleViolation / InvalidInput: the typed rule the order breaks; nothing is recorded.
        """
        instrument = self._catalog.get(cmd.symbol, cmd.category)
        if not self._owners.remembered(user_id, cmd.account_id):
            async with self._entry_uow() as uow:
                await self._owners.check(uow, user_id, cmd.account_id)
        try:
            validate_place_order(cmd, instrument, last_price=last_price)
        except (InvalidInput, RuleViolation):
            # A retry of an order placed earlier gets that order, even if the market has moved
            # since so that it would now be refused.
            first = await self._first_with_link_id(cmd)
            if first is None:
                raise
            return PlacedOrder(first, created=False)
        order = order_from_command(cmd, self._ids(), self._clock.now_ms())
        # This is the api's hottest path: the INSERT and the queueing go with those of other
        # requests arriving meanwhile (`order_entry.py`).
        if await self._recorder.record(order, cmd):
            return PlacedOrder(order, created=True)
        # A repeated orderLinkId (a retry, or a race with an identical request): answer with
        # the order placed the first time.
        existing = await self._first_with_link_id(cmd)
        if existing is None:
            raise Conflict(f"order {order.order_id} exists already")
        return PlacedOrder(existing, created=False)

    async def get(self, user_id: str, order_id: str) -> Order:
        async with self._entry_uow() as uow:
            order, _ = await self._owned_order(uow, user_id, order_id)
            return order

    async def list(self, user_id: str, account_id: str, *, open_only: bool = False, limit: int = 100) -> list[Order]:
        async with self._entry_uow() as uow:
            await self._owners.check(uow, user_id, account_id)
            return await uow.orders.list_by_account(account_id, open_only=open_only, limit=limit)

    async def cancel(self, user_id: str, order_id: str) -> Order:
        """Record and queue a cancel for an open order; the engine confirms it with an order event.

        Raises:
            NotFound: no such order for this user. OrderNotOpen: it is already closed.
        """
        async with self._entry_uow() as uow:
            order, kind = await self._owned_order(uow, user_id, order_id)
            if not order.status.is_open:
                raise OrderNotOpen(f"order {order_id} is {order.status.value}; only open orders can be cancelled")
            command = CancelOrder(order.account_id, order.order_id, order.symbol, order.category)
            command = await self._record(uow, command, kind)
        await self._send(command)
        return order

    async def amend(self, user_id: str, cmd: AmendOrder) -> Order:
        async with self._entry_uow() as uow:
            order, kind = await self._owned_order(uow, user_id, cmd.order_id)
            if not order.status.is_open:
                raise OrderNotOpen(f"order {cmd.order_id} is {order.status.value}; only open orders can be amended")
            command = attrs.evolve(cmd, account_id=order.account_id, symbol=order.symbol, category=order.category)
            command = await self._record(uow, command, kind)
        await self._send(command)
        return order

    async def set_trading_stop(self, user_id: str, cmd: SetTradingStop) -> None:
        self._catalog.get(cmd.symbol, Category.LINEAR)
        async with self._entry_uow() as uow:
            kind = await self._owners.check(uow, user_id, cmd.account_id)
            command = await self._record(uow, cmd, kind)
        await self._send(command)

    async def set_leverage(self, user_id: str, cmd: SetLeverage) -> None:
        self._catalog.get(cmd.symbol, Category.LINEAR).check_leverage(cmd.leverage)
        async with self._entry_uow() as uow:
            kind = await self._owners.check(uow, user_id, cmd.account_id)
            command = await self._record(uow, cmd, kind)
        await self._send(command)

    async def _record(self, uow: UnitOfWork, command: C, account_kind: str) -> C:
        """The command with its id, recorded in `pending_commands` (one INSERT) and committed.

        A replay account's command is left unrecorded: it goes on to its session's inbox, which
        keeps nothing on disk, so a record would only cover the first leg of its way.
        """
        if account_kind == "replay":
            return command
        recorded = attrs.evolve(command, command_id=self._ids())
        await uow.pending_commands.add(recorded, self._clock.now_ms())
        await uow.commit()
        return recorded

    async def _send(self, command: RecordedCommand) -> None:
        if not command.command_id:
            await self._queue.enqueue(command)  # not recorded: an outage is the caller's 503
            return
        # Recorded before queued, like an order: the trader has been answered, and the sweeper
        # queues recorded commands nobody applied.
        try:
            await self._queue.enqueue(command)
        except DependencyUnavailable as error:
            log.warning(
                "%s %s recorded but not queued (%s); the sweeper will queue it",
                type(command).__name__,
                command.command_id,
                error,
            )

    async def _first_with_link_id(self, cmd: PlaceOrder) -> Order | None:
        if not cmd.order_link_id:
            return None
        # The reads around recording need no transaction: an order found by its orderLinkId is
        # one that was committed.
        async with self._entry_uow() as uow:
            return await uow.orders.get_by_link_id(cmd.account_id, cmd.order_link_id)

    async def _owned_order(self, uow: UnitOfWork, user_id: str, order_id: str) -> tuple[Order, str]:
        """The order and its account's kind."""
        order = await uow.orders.get(order_id)
        if order is None:
            raise NotFound(f"order {order_id} not found")
        try:
            return order, await self._owners.check(uow, user_id, order.account_id)
        except NotFound:
            # Another user's order is missing as a whole: naming its account would tell its id.
            raise NotFound(f"order {order_id} not found") from None
