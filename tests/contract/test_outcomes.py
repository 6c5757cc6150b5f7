"""Contract of `OutcomeRepository.record`, for every adapter in `UOW_BACKENDS`, each in the unit of
work the composition root records outcomes in (single-statement on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import attrs

from tests.contract import records
from tradesim.domain import OrderStatus
from tradesim.domain.outcomes import Outcome
from tradesim.ports.unit_of_work import UnitOfWork

UowFactory = Callable[[], UnitOfWork]


def _fill() -> Outcome:
    """What filling ord-1 leaves: its fee and a transfer in USDT, a BTC entry, the execution, the
    order as filled, the position it opened."""
    return Outcome(
        entries=(
            records.entry(1, "100"),
            records.entry(2, "-2.5"),
            records.entry(3, "0.5", coin="BTC"),
        ),
        executions=(records.execution(1),),
        orders=(attrs.evolve(records.order(), status=OrderStatus.FILLED, cum_exec_qty=Decimal("0.010")),),
        positions=(records.position(),),
    )


async def _record(factory: UowFactory, outcome: Outcome) -> None:
    async with factory() as uow:
        await uow.outcomes.record(outcome)
        await uow.commit()


async def test_an_outcome_is_stored_and_moves_each_balance_by_its_entries(outcome_uow_factory: UowFactory) -> None:
    await _record(outcome_uow_factory, _fill())
    async with outcome_uow_factory() as uow:
        assert await uow.balances.get("acc-1") == {"USDT": Decimal("97.5"), "BTC": Decimal("0.5")}
        assert {e.entry_id for e in await uow.ledger.list_by_account("acc-1")} == {"entry-1", "entry-2", "entry-3"}
        assert await uow.executions.list_by_order("ord-1") == [records.execution(1)]
        assert await uow.orders.get("ord-1") == _fill().orders[0]
        assert await uow.positions.get("acc-1", "BTCUSDT") == records.position()


async def test_an_outcome_adds_to_the_balances_stored(outcome_uow_factory: UowFactory) -> None:
    async with outcome_uow_factory() as uow:
        await uow.balances.apply("acc-1", "USDT", Decimal("1000"))
        await uow.commit()
    await _record(outcome_uow_factory, _fill())
    async with outcome_uow_factory() as uow:
        assert (await uow.balances.get("acc-1"))["USDT"] == Decimal("1097.5")


async def test_recording_again_moves_no_balance_twice_and_keeps_the_last_states(
    outcome_uow_factory: UowFactory,
) -> None:
    first = _fill()
    await _record(outcome_uow_factory, first)
    # A redelivery of the same fill, with one entry the first did not have and newer states.
    closed = attrs.evolve(records.position(), size=Decimal("0"), side=None, entry_value=Decimal("0"), liq_price=None)
    cancelled = attrs.evolve(first.orders[0], status=OrderStatus.CANCELLED)
    again = attrs.evolve(
        first,
        entries=(*first.entries, records.entry(4, "-1")),
        orders=(cancelled,),
        positions=(closed,),
    )
    await _record(outcome_uow_factory, again)
    async with outcome_uow_factory() as uow:
        assert await uow.balances.get("acc-1") == {"USDT": Decimal("96.5"), "BTC": Decimal("0.5")}
        assert await uow.ledger.total("acc-1", "USDT") == Decimal("96.5")
        assert await uow.executions.list_by_order("ord-1") == [records.execution(1)]
        assert await uow.orders.get("ord-1") == cancelled
        assert await uow.positions.get("acc-1", "BTCUSDT") == closed


async def test_an_outcome_touching_several_accounts_moves_each_its_own(outcome_uow_factory: UowFactory) -> None:
    outcome = Outcome(
        entries=(
            records.entry(1, "10", account_id="acc-2"),
            records.entry(2, "5", account_id="acc-1"),
            records.entry(3, "-3", account_id="acc-2"),
        ),
        orders=(records.order(1), records.order(2, account_id="acc-2")),
        positions=(records.position("acc-2", "ETHUSDT"), records.position("acc-1")),
    )
    await _record(outcome_uow_factory, outcome)
    async with outcome_uow_factory() as uow:
        assert await uow.balances.get_many(["acc-1", "acc-2"]) == {
            "acc-1": {"USDT": Decimal("5")},
            "acc-2": {"USDT": Decimal("7")},
        }
        assert [o.order_id for o in await uow.orders.list_by_account("acc-2")] == ["ord-2"]
        assert await uow.positions.get("acc-2", "ETHUSDT") == records.position("acc-2", "ETHUSDT")


async def test_an_empty_outcome_changes_nothing(outcome_uow_factory: UowFactory) -> None:
    await _record(outcome_uow_factory, Outcome())
    async with outcome_uow_factory() as uow:
        assert await uow.balances.get("acc-1") == {}
        assert await uow.orders.list_by_account("acc-1") == []
