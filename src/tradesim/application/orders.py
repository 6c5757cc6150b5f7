"""Order entry on the api side: check, record (an order as New, any other command in
`pending_commands`), queue. Never matches anything itself."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import TypeVar

import attrs

from tradesim.application.directory import AccountDirectory
from tradesim.application.order_entry import OrderRecorder
from tradesim.domain.accounts import AccountKind
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
from tradesim.ports.prices import PriceSource
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
        directory: AccountDirectory | None = None,
        prices: PriceSource | None = None,
    ) -> None:
        """`entry_uow_factory`: a single-statement factory (`ports.unit_of_work`) for the reads of
        an order or a list of them, which need no snapshot shared between statements (an account's
        owner never changes); defaults to `uow_factory`. `record_uow_factory`: the same kind, for
        recording new orders, one INSERT per batch, one batch at a time (`OrderRecorder`);
        defaults to `entry_uow_factory`. `directory`: the process's account directory (default: one
        of its own). `prices`: what orders are checked against (None: only the price a caller gives
        `place`, as a library user without a market would)."""
        self._uow = uow_factory
        self._entry_uow = entry_uow_factory or uow_factory
        self._queue = queue
        self._catalog = catalog
        self._clock = clock
        self._ids = ids
        self._directory = directory or AccountDirectory(self._entry_uow)
        self._prices = prices
        self._recorder = OrderRecorder(record_uow_factory or self._entry_uow, queue)

    async def place(self, user_id: str, cmd: PlaceOrder, *, last_price: Decimal | None = None) -> PlacedOrder:
        """Validate against the instrument rules, record the order as New (or Untriggered), queue it.

        The order is checked against its account's last price (`PriceSource`: the live market's or
        its replay's); `last_price`, when given, is used instead.

        Raises:
            NotFound: the account is missing or belongs to someone else.
            RuleViolation / InvalidInput: the typed rule the order breaks; nothing is recorded.
        """
        instrument = self._catalog.get(cmd.symbol, cmd.category)
        await self._directory.owned(user_id, cmd.account_id)
        if last_price is None and self._prices is not None:
            last_price = await self._prices.last_price(cmd.account_id, cmd.symbol, cmd.category)
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

    async def find_by_link_id(self, user_id: str, account_id: str, order_link_id: str) -> Order | None:
        """The account's order with this `orderLinkId` (client id), if any. Raises `NotFound` for
        another user's account."""
        async with self._entry_uow() as uow:
            await self._directory.owned(user_id, account_id, uow)
            return await uow.orders.get_by_link_id(account_id, order_link_id)

    async def list(self, user_id: str, account_id: str, *, open_only: bool = False, limit: int = 100) -> list[Order]:
        async with self._entry_uow() as uow:
            await self._directory.owned(user_id, account_id, uow)
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
            entry = await self._directory.owned(user_id, cmd.account_id, uow)
            command = await self._record(uow, cmd, entry.kind)
        await self._send(command)

    async def set_leverage(self, user_id: str, cmd: SetLeverage) -> None:
        self._catalog.get(cmd.symbol, Category.LINEAR).check_leverage(cmd.leverage)
        async with self._entry_uow() as uow:
            entry = await self._directory.owned(user_id, cmd.account_id, uow)
            command = await self._record(uow, cmd, entry.kind)
        await self._send(command)

    async def _record(self, uow: UnitOfWork, command: C, account_kind: AccountKind) -> C:
        """The command with its id, recorded in `pending_commands` (one INSERT) and committed.

        A replay account's command is left unrecorded: it goes on to its session's inbox, which
        keeps nothing on disk, so a record would only cover the first leg of its way.
        """
        if account_kind is AccountKind.REPLAY:
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

    async def _owned_order(self, uow: UnitOfWork, user_id: str, order_id: str) -> tuple[Order, AccountKind]:
        """The order and its account's kind."""
        order = await uow.orders.get(order_id)
        if order is None:
            raise NotFound(f"order {order_id} not found")
        try:
            return order, (await self._directory.owned(user_id, order.account_id, uow)).kind
        except NotFound:
            # Another user's order is missing as a whole: naming its account would tell its id.
            raise NotFound(f"order {order_id} not found") from None
