"""Contract of `PendingCommandRepository` (the outbox of recorded commands), for every adapter in `UOW_BACKENDS`."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from tests.contract import records
from tradesim.domain.commands import AmendOrder, CancelOrder, SetLeverage, SetTradingStop
from tradesim.domain.enums import Category, MarginMode, TriggerBy
from tradesim.domain.errors import Conflict, InvalidInput
from tradesim.ports.unit_of_work import UnitOfWork

UowFactory = Callable[[], UnitOfWork]
T0 = records.T0


async def test_every_recorded_kind_comes_back_as_it_was_recorded(uow_factory: UowFactory) -> None:
    recorded = [
        CancelOrder("acc-1", "ord-1", "ETHUSDT", Category.SPOT, command_id="cmd-1"),
        AmendOrder("acc-1", "ord-2", "BTCUSDT", qty=Decimal("0.020"), price=Decimal("30000.5"), command_id="cmd-2"),
        SetTradingStop(
            "acc-1",
            "BTCUSDT",
            take_profit=Decimal("0"),
            stop_loss=Decimal("25000.10"),
            sl_trigger_by=TriggerBy.MARK_PRICE,
            command_id="cmd-3",
        ),
        SetLeverage("acc-2", "BTCUSDT", Decimal("12.5"), MarginMode.ISOLATED, command_id="cmd-4"),
    ]
    async with uow_factory() as uow:
        for n, command in enumerate(recorded):
            await uow.pending_commands.add(command, T0 + n)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.pending_commands.list_waiting(T0 + 10) == recorded


async def test_waiting_commands_are_listed_oldest_first_up_to_the_bound(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.pending_commands.add(records.cancel(3), T0 + 3)
        await uow.pending_commands.add(records.cancel(1), T0 + 1)
        await uow.pending_commands.add(records.cancel(2), T0 + 1)
        await uow.pending_commands.add(records.cancel(9), T0 + 9)
        await uow.commit()
    async with uow_factory() as uow:
        waiting = await uow.pending_commands.list_waiting(created_before=T0 + 9)
        first = await uow.pending_commands.list_waiting(created_before=T0 + 9, limit=1)
    assert [c.command_id for c in waiting] == ["cmd-1", "cmd-2", "cmd-3"]
    assert [c.command_id for c in first] == ["cmd-1"]


async def test_remove_many_answers_which_were_recorded_and_a_second_removal_finds_none(
    uow_factory: UowFactory,
) -> None:
    async with uow_factory() as uow:
        for n in (1, 2, 3):
            await uow.pending_commands.add(records.cancel(n), T0 + n)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.pending_commands.remove_many(["cmd-1", "cmd-3", "cmd-7", "cmd-1"]) == {"cmd-1", "cmd-3"}
        # Inside the same transaction they are gone already: a second copy in one batch is skipped.
        assert await uow.pending_commands.remove_many(["cmd-1"]) == set()
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.pending_commands.remove_many(["cmd-1", "cmd-3"]) == set()
        assert [c.command_id for c in await uow.pending_commands.list_waiting(T0 + 10)] == ["cmd-2"]
        assert await uow.pending_commands.remove_many([]) == set()


async def test_a_removal_rolled_back_leaves_the_command_recorded(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.pending_commands.add(records.cancel(1), T0)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.pending_commands.remove_many(["cmd-1"]) == {"cmd-1"}
    async with uow_factory() as uow:
        assert await uow.pending_commands.remove_many(["cmd-1"]) == {"cmd-1"}


async def test_a_command_without_an_id_or_with_a_recorded_id_is_refused(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.pending_commands.add(records.cancel(1), T0)
        await uow.commit()
    with pytest.raises(InvalidInput, match="command_id"):
        async with uow_factory() as uow:
            await uow.pending_commands.add(CancelOrder("acc-1", "ord-2", "BTCUSDT"), T0)
    with pytest.raises(Conflict, match="cmd-1"):
        async with uow_factory() as uow:
            await uow.pending_commands.add(records.cancel(1, order_n=2), T0 + 1)
            await uow.commit()
    async with uow_factory() as uow:
        assert await uow.pending_commands.list_waiting(T0 + 10) == [records.cancel(1)]


async def test_the_single_statement_unit_of_work_records_a_command(single_statement_uow_factory: UowFactory) -> None:
    async with single_statement_uow_factory() as uow:
        await uow.pending_commands.add(records.cancel(1), T0)
        await uow.commit()
    async with single_statement_uow_factory() as uow:
        assert await uow.pending_commands.list_waiting(T0 + 1) == [records.cancel(1)]
