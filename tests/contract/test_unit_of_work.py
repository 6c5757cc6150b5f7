"""Contract of the repositories and the unit of work, for every adapter in `UOW_BACKENDS`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import attrs
import pytest

from tests.contract import records
from tradesim.domain import OrderStatus
from tradesim.domain.errors import Conflict
from tradesim.domain.history import CandleFile
from tradesim.ports.errors import DuplicateEmail
from tradesim.ports.unit_of_work import UnitOfWork

UowFactory = Callable[[], UnitOfWork]


async def test_committed_writes_are_visible_to_later_transactions(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.users.add(records.user())
        await uow.accounts.add(records.account())
        await uow.orders.add_new_many([records.order()])
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.users.get("user-1") == records.user()
        assert await uow.accounts.get("acc-1") == records.account()
        assert await uow.orders.get("ord-1") == records.order()


async def test_leaving_without_commit_rolls_back(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.accounts.add(records.account())
        await uow.balances.apply("acc-1", "USDT", Decimal("100"))
    async with uow_factory() as uow:
        assert await uow.accounts.get("acc-1") is None
        assert await uow.balances.get("acc-1") == {}


async def test_an_exception_rolls_back_everything_in_the_transaction(uow_factory: UowFactory) -> None:
    with pytest.raises(RuntimeError):
        async with uow_factory() as uow:
            await uow.accounts.add(records.account())
            await uow.ledger.add(records.entry(1, "100"))
            raise RuntimeError("boom")
    async with uow_factory() as uow:
        assert await uow.accounts.get("acc-1") is None
        assert await uow.ledger.list_by_account("acc-1") == []


async def test_a_transaction_sees_its_own_writes(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.orders.add_new_many([records.order()])
        assert await uow.orders.get("ord-1") == records.order()
        assert await uow.balances.apply("acc-1", "USDT", Decimal("5.5")) == Decimal("5.5")
        assert await uow.balances.apply("acc-1", "USDT", Decimal("-1.25")) == Decimal("4.25")


async def test_duplicate_email_is_refused(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.users.add(records.user())
        await uow.commit()
    twin = attrs.evolve(records.user(2), email="TRADER1@example.com")
    with pytest.raises(DuplicateEmail):
        async with uow_factory() as uow:
            await uow.users.add(twin)
            await uow.commit()
    async with uow_factory() as uow:
        assert await uow.users.get_by_email("Trader1@Example.com") == records.user()


async def test_order_link_id_is_unique_per_account_only(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.orders.add_new_many([records.order(1, link="my-1")]) == {"ord-1"}
        assert await uow.orders.add_new_many([records.order(2, account_id="acc-2", link="my-1")]) == {"ord-2"}
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.orders.add_new_many([records.order(3, link="my-1")]) == set()
        await uow.commit()
    async with uow_factory() as uow:
        found = await uow.orders.get_by_link_id("acc-1", "my-1")
        assert found is not None
        assert found.order_id == "ord-1"
        assert await uow.orders.get("ord-3") is None


async def test_a_single_statement_unit_of_work_records_an_order_and_skips_a_repeated_link_id(
    single_statement_uow_factory: UowFactory,
) -> None:
    async with single_statement_uow_factory() as uow:
        assert await uow.orders.add_new_many([records.order(1, link="my-1")]) == {"ord-1"}
        await uow.commit()
    async with single_statement_uow_factory() as uow:
        assert await uow.orders.add_new_many([records.order(2, link="my-1")]) == set()
        # Still usable after the skip: the order entry path reads the first order next.
        first = await uow.orders.get_by_link_id("acc-1", "my-1")
        assert first == records.order(1, link="my-1")
        assert await uow.orders.get("ord-2") is None


async def test_orders_added_together_skip_those_whose_keys_are_taken(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.orders.add_new_many([records.order(1, link="my-1")])
        await uow.commit()
    async with uow_factory() as uow:
        inserted = await uow.orders.add_new_many(
            [
                records.order(2, link="my-1"),  # the link id is stored already
                records.order(3, link="my-3"),
                records.order(4, link="my-3"),  # repeats the one before it in the batch
                records.order(5, account_id="acc-2", link="my-1"),  # another account's link ids are its own
                records.order(6),  # no link id: never a conflict
                records.order(1, link="other"),  # the order id is taken
            ]
        )
        assert await uow.orders.add_new_many([]) == set()
        await uow.commit()
    assert inserted == {"ord-3", "ord-5", "ord-6"}
    async with uow_factory() as uow:
        assert [await uow.orders.get(f"ord-{n}") is not None for n in range(1, 7)] == [
            True,
            False,
            True,
            False,
            True,
            True,
        ]
        assert await uow.orders.get("ord-1") == records.order(1, link="my-1")
        assert await uow.orders.get("ord-3") == records.order(3, link="my-3")
        assert await uow.orders.get_by_link_id("acc-2", "my-1") == records.order(5, account_id="acc-2", link="my-1")


async def test_a_single_statement_unit_of_work_adds_orders_together(single_statement_uow_factory: UowFactory) -> None:
    async with single_statement_uow_factory() as uow:
        first = await uow.orders.add_new_many([records.order(1, link="my-1"), records.order(2, link="my-2")])
        assert first == {"ord-1", "ord-2"}
        assert await uow.orders.add_new_many([records.order(3, link="my-2"), records.order(4)]) == {"ord-4"}
        await uow.commit()
    async with single_statement_uow_factory() as uow:
        assert await uow.orders.get("ord-2") == records.order(2, link="my-2")
        assert await uow.orders.get("ord-3") is None
        assert await uow.orders.get("ord-4") == records.order(4)


async def test_order_save_replaces_and_lists_are_newest_first(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        for n in (1, 2, 3):
            await uow.orders.add_new_many([records.order(n)])
        await uow.orders.save(attrs.evolve(records.order(2), status=OrderStatus.CANCELLED))
        await uow.commit()
    async with uow_factory() as uow:
        assert [o.order_id for o in await uow.orders.list_by_account("acc-1")] == ["ord-3", "ord-2", "ord-1"]
        assert [o.order_id for o in await uow.orders.list_by_account("acc-1", open_only=True)] == ["ord-3", "ord-1"]
        assert [o.order_id for o in await uow.orders.list_by_account("acc-1", limit=1)] == ["ord-3"]
        assert [o.order_id for o in await uow.orders.list_open(["acc-1"])] == ["ord-1", "ord-3"]


async def test_unaccepted_orders_are_listed_for_the_sweeper(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.orders.add_new_many([records.order(1)])
        await uow.orders.add_new_many([attrs.evolve(records.order(2), accepted_time=records.T0 + 5)])
        await uow.orders.add_new_many([records.order(3, status=OrderStatus.REJECTED)])
        await uow.orders.add_new_many([records.order(9)])
        await uow.commit()
    async with uow_factory() as uow:
        pending = await uow.orders.list_unaccepted(created_before=records.T0 + 5)
    assert [o.order_id for o in pending] == ["ord-1"]


async def test_ledger_entries_are_idempotent_and_sum_per_coin(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.ledger.add(records.entry(1, "100"))
        assert await uow.ledger.add(records.entry(2, "-0.5"))
        assert await uow.ledger.add(records.entry(3, "0.25", coin="BTC"))
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.ledger.add(records.entry(1, "100"))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.ledger.total("acc-1", "USDT") == Decimal("99.5")
        assert await uow.ledger.total("acc-1", "BTC") == Decimal("0.25")
        assert [e.entry_id for e in await uow.ledger.list_by_account("acc-1")] == ["entry-3", "entry-2", "entry-1"]


async def test_decimals_come_back_exactly_and_sum_exactly(uow_factory: UowFactory) -> None:
    """No float anywhere: 0.1 + 0.2 is 0.3, tiny and huge amounts keep every digit and the scale."""
    # Within Decimal's default 28 significant digits, which bounds the domain's own arithmetic.
    amounts = ["0.1", "0.2", "0.00000001", "123456789012345.123456789", "-123456789012345"]
    async with uow_factory() as uow:
        for n, amount in enumerate(amounts):
            await uow.ledger.add(records.entry(n, amount))
            await uow.balances.apply("acc-1", "USDT", Decimal(amount))
        await uow.orders.add_new_many([attrs.evolve(records.order(), qty=Decimal("0.010"), price=Decimal("30000.10"))])
        await uow.commit()
    expected = sum((Decimal(a) for a in amounts), Decimal(0))
    assert expected == Decimal("0.423456799")
    async with uow_factory() as uow:
        assert await uow.ledger.total("acc-1", "USDT") == expected
        assert await uow.balances.get("acc-1") == {"USDT": expected}
        stored = {e.entry_id: e.amount for e in await uow.ledger.list_by_account("acc-1")}
        assert stored == {f"entry-{n}": Decimal(a) for n, a in enumerate(amounts)}
        order = await uow.orders.get("ord-1")
        assert order is not None
        assert (str(order.qty), str(order.price)) == ("0.010", "30000.10")


async def test_executions_are_idempotent_by_exec_id(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.executions.add(records.execution(1))
        assert await uow.executions.add(records.execution(2))
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.executions.add(records.execution(1))
        assert [e.exec_id for e in await uow.executions.list_by_account("acc-1")] == ["exec-2", "exec-1"]
        assert [e.exec_id for e in await uow.executions.list_by_order("ord-1")] == ["exec-1", "exec-2"]


async def test_concurrent_balance_changes_all_land(uow_factory: UowFactory) -> None:
    """Two transactions that overlap in time both add to the balance: no lost update.

    The second adds only once the first has added and not yet committed. (Were it free to add
    first and then wait for the first, a database that locks the row would deadlock the test.)
    """
    started = asyncio.Event()

    async def deposit(amount: str, first: bool) -> None:
        async with uow_factory() as uow:
            if not first:
                await started.wait()
            await uow.balances.apply("acc-1", "USDT", Decimal(amount))
            if first:
                started.set()
                await asyncio.sleep(0.05)
            await uow.commit()

    await asyncio.gather(deposit("10", True), deposit("2.5", False))
    async with uow_factory() as uow:
        assert await uow.balances.get("acc-1") == {"USDT": Decimal("12.5")}


async def test_concurrent_insert_of_the_same_ledger_entry_lands_once(uow_factory: UowFactory) -> None:
    """Two overlapping transactions insert the same entry (a fill delivered twice at once): it counts once.

    Backends resolve the race their own way: the second insert waits for the first transaction
    and then finds the entry (PostgreSQL's row lock, SQLite's file lock), or the later commit is
    refused with `Conflict` (memory). Either way one transaction commits and the entry and its
    balance change count once. (The second transaction cannot be made to wait for the first
    while the first waits for it: a database that locks would deadlock on purpose.)
    """
    first_inside = asyncio.Event()
    outcomes: list[str] = []

    async def record(first: bool) -> None:
        if not first:
            await first_inside.wait()
        try:
            async with uow_factory() as uow:
                added = await uow.ledger.add(records.entry(7, "3"))
                if added:
                    await uow.balances.apply("acc-1", "USDT", Decimal("3"))
                if first:
                    first_inside.set()
                    await asyncio.sleep(0.05)  # the second transaction runs into the same entry meanwhile
                await uow.commit()
                outcomes.append("committed" if added else "skipped")
        except Conflict:
            outcomes.append("conflict")

    await asyncio.gather(record(True), record(False))
    async with uow_factory() as uow:
        assert await uow.ledger.total("acc-1", "USDT") == Decimal("3")
        assert await uow.balances.get("acc-1") == {"USDT": Decimal("3")}
    assert "committed" in outcomes


async def test_positions_are_upserted_by_account_and_symbol(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.positions.save(records.position(size="0.010"))
        await uow.positions.save(records.position(size="0.025"))
        await uow.positions.save(records.position(symbol="ETHUSDT", size="1.00"))
        await uow.commit()
    async with uow_factory() as uow:
        btc = await uow.positions.get("acc-1", "BTCUSDT")
        assert btc is not None
        assert btc.size == Decimal("0.025")
        assert btc.liq_price == Decimal("27300.10")
        assert [p.symbol for p in await uow.positions.list_by_account("acc-1")] == ["BTCUSDT", "ETHUSDT"]


async def test_ledger_add_many_skips_entries_stored_or_repeated_and_reports_the_new(uow_factory: UowFactory) -> None:
    """A redelivered fill's entries among new ones: only the new are inserted, and said to be."""
    async with uow_factory() as uow:
        assert await uow.ledger.add_many([records.entry(1, "100")]) == {"entry-1"}
        assert await uow.ledger.add_many([]) == set()
        await uow.commit()
    async with uow_factory() as uow:
        batch = [records.entry(2, "-0.5"), records.entry(1, "100"), records.entry(3, "0.1"), records.entry(2, "-7")]
        assert await uow.ledger.add_many(batch) == {"entry-2", "entry-3"}
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.ledger.total("acc-1", "USDT") == Decimal("99.6")
        assert {e.entry_id: e.amount for e in await uow.ledger.list_by_account("acc-1")} == {
            "entry-1": Decimal("100"),
            "entry-2": Decimal("-0.5"),
            "entry-3": Decimal("0.1"),
        }


@pytest.mark.parametrize("new", [1, 2, 3, 6])
async def test_orders_add_new_many_skips_orders_stored_or_repeated_in_a_batch_of_any_size(
    uow_factory: UowFactory, new: int
) -> None:
    """The order entry's batches: a few orders go as one VALUES list on PostgreSQL, more as arrays."""
    async with uow_factory() as uow:
        assert await uow.orders.add_new_many([records.order(0)]) == {"ord-0"}
        await uow.commit()
    batch = [records.order(0), *(records.order(n) for n in range(1, new + 1)), records.order(new)]
    async with uow_factory() as uow:
        assert await uow.orders.add_new_many(batch) == {f"ord-{n}" for n in range(1, new + 1)}
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.orders.get(f"ord-{new}") == records.order(new)
        assert len(await uow.orders.list_by_account("acc-1")) == new + 1


async def test_executions_add_many_skips_exec_ids_stored_or_repeated(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.executions.add_many([records.execution(1)]) == {"exec-1"}
        await uow.commit()
    async with uow_factory() as uow:
        batch = [records.execution(1), records.execution(2), records.execution(2), records.execution(3)]
        assert await uow.executions.add_many(batch) == {"exec-2", "exec-3"}
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.executions.list_by_order("ord-1")
    assert stored == [records.execution(n) for n in (1, 2, 3)]
    assert str(stored[0].exec_fee) == "0.0165000550"


async def test_orders_save_many_keeps_the_last_state_and_exact_decimals(uow_factory: UowFactory) -> None:
    exact = attrs.evolve(records.order(2), qty=Decimal("0.010"), price=Decimal("30000.10"))
    async with uow_factory() as uow:
        await uow.orders.add_new_many([records.order(1)])
        await uow.commit()
    async with uow_factory() as uow:
        filled = attrs.evolve(records.order(1), status=OrderStatus.FILLED, cum_exec_qty=Decimal("0.010"))
        await uow.orders.save_many([attrs.evolve(records.order(1), status=OrderStatus.PARTIALLY_FILLED), exact, filled])
        await uow.orders.save_many([])
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.orders.get("ord-1") == filled
        stored = await uow.orders.get("ord-2")
        assert stored == exact
        assert (str(stored.qty), str(stored.price)) == ("0.010", "30000.10")


async def test_taken_in_names_the_orders_an_engine_accepted_or_ended(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.orders.save_many(
            [
                records.order(1),  # recorded by the api, waiting for an engine
                attrs.evolve(records.order(2), accepted_time=records.T0 + 5),
                attrs.evolve(records.order(3), status=OrderStatus.REJECTED),
                attrs.evolve(records.order(4), status=OrderStatus.UNTRIGGERED),
            ]
        )
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.orders.taken_in(["ord-1", "ord-2", "ord-3", "ord-4", "ord-missing", "ord-2"]) == {
            "ord-2",
            "ord-3",
        }
        assert await uow.orders.taken_in([]) == set()


async def test_batch_inputs_are_the_orders_taken_in_and_the_balances_in_one_read(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.orders.save_many(
            [
                records.order(1),  # recorded, waiting for an engine
                attrs.evolve(records.order(2), accepted_time=records.T0 + 5),
                attrs.evolve(records.order(3), status=OrderStatus.FILLED),
            ]
        )
        await uow.balances.apply_many(
            {
                ("acc-1", "USDT"): Decimal("10.50"),
                ("acc-1", "BTC"): Decimal("0.00000001"),
                ("acc-2", "USDT"): Decimal("7"),
            }
        )
        await uow.commit()
    async with uow_factory() as uow:
        inputs = await uow.batch_inputs.read(["ord-1", "ord-2", "ord-3", "ord-2", "ord-missing"], ["acc-1", "acc-none"])
        assert inputs.taken_in == {"ord-2", "ord-3"}
        assert inputs.balances == {"acc-1": {"USDT": Decimal("10.50"), "BTC": Decimal("0.00000001")}, "acc-none": {}}
        assert str(inputs.balances["acc-1"]["USDT"]) == "10.50"
        # The same as the two reads it stands for.
        assert inputs.taken_in == await uow.orders.taken_in(["ord-1", "ord-2", "ord-3", "ord-missing"])
        assert inputs.balances == await uow.balances.get_many(["acc-1", "acc-none"])
        nothing = await uow.batch_inputs.read([], [])
        assert (nothing.taken_in, nothing.balances) == (frozenset(), {})
        no_orders = await uow.batch_inputs.read([], ["acc-2"])
        assert (no_orders.taken_in, no_orders.balances) == (frozenset(), {"acc-2": {"USDT": Decimal("7")}})


async def test_positions_save_many_upserts_the_last_state_by_account_and_symbol(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.positions.save(records.position(size="0.010"))
        await uow.commit()
    async with uow_factory() as uow:
        await uow.positions.save_many(
            [
                records.position(size="0.020"),
                records.position(symbol="ETHUSDT", size="1.00"),
                records.position(size="0.025"),
            ]
        )
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.positions.list_by_account("acc-1") == [
            records.position(size="0.025"),
            records.position(symbol="ETHUSDT", size="1.00"),
        ]


async def test_balances_get_many_and_apply_many_are_exact_per_account_and_coin(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        await uow.balances.apply("acc-1", "USDT", Decimal("0.1"))
        await uow.commit()
    async with uow_factory() as uow:
        deltas = {
            ("acc-2", "USDT"): Decimal("5"),
            ("acc-1", "USDT"): Decimal("0.2"),
            ("acc-1", "BTC"): Decimal("0.00000001"),
        }
        assert await uow.balances.apply_many(deltas) == {
            ("acc-1", "USDT"): Decimal("0.3"),
            ("acc-1", "BTC"): Decimal("0.00000001"),
            ("acc-2", "USDT"): Decimal("5"),
        }
        assert await uow.balances.apply_many({}) == {}
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.balances.get_many(["acc-1", "acc-2", "acc-none"]) == {
            "acc-1": {"USDT": Decimal("0.3"), "BTC": Decimal("0.00000001")},
            "acc-2": {"USDT": Decimal("5")},
            "acc-none": {},
        }
        assert await uow.balances.get_many([]) == {}


async def test_concurrent_apply_many_on_the_same_rows_all_land_without_deadlock(uow_factory: UowFactory) -> None:
    """A batch moving two balances (listed in reverse order) overlaps one that moves them one at
    a time, in key order. Rows locked in key order, the batch waits for the first row holding
    nothing; had it taken the second row first, each would wait for the other (a deadlock)."""
    one, two = ("acc-1", "USDT"), ("acc-2", "USDT")
    started = asyncio.Event()

    async def one_at_a_time() -> None:
        async with uow_factory() as uow:
            await uow.balances.apply_many({one: Decimal("10")})
            started.set()
            await asyncio.sleep(0.05)  # the batch runs into the first row meanwhile
            await uow.balances.apply_many({two: Decimal("1")})
            await uow.commit()

    async def both_at_once() -> None:
        await started.wait()
        async with uow_factory() as uow:
            await uow.balances.apply_many({two: Decimal("2.5"), one: Decimal("-3")})
            await uow.commit()

    await asyncio.gather(one_at_a_time(), both_at_once())
    async with uow_factory() as uow:
        assert await uow.balances.get_many(["acc-1", "acc-2"]) == {
            "acc-1": {"USDT": Decimal("7")},
            "acc-2": {"USDT": Decimal("3.5")},
        }


async def test_batches_larger_than_a_statement_takes_are_read_and_written_whole(uow_factory: UowFactory) -> None:
    """More rows than SQLite's bound-variable limit of older builds (999) allows in one statement."""
    many = 2100
    entries = [records.entry(n, "0.01", account_id=f"acc-{n % 7}") for n in range(many)]
    async with uow_factory() as uow:
        assert len(await uow.ledger.add_many(entries)) == many
        await uow.orders.save_many([attrs.evolve(records.order(n), accepted_time=1) for n in range(many)])
        await uow.commit()
    async with uow_factory() as uow:
        assert len(await uow.ledger.add_many(entries)) == 0
        taken_in = await uow.orders.taken_in([f"ord-{n}" for n in range(many + 5)])
        assert taken_in == {f"ord-{n}" for n in range(many)}
        assert await uow.orders.get("ord-2099") == attrs.evolve(records.order(2099), accepted_time=1)
        balances = await uow.balances.get_many([f"acc-{n}" for n in range(many)])
        assert len(balances) == many


async def test_candles_upsert_and_range_is_half_open_and_ascending(uow_factory: UowFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.candles.upsert([records.candle(m) for m in (2, 0, 1, 3)]) == 4
        assert await uow.candles.upsert([records.candle(1, close="29995.5")]) == 1
        await uow.commit()
    start = records.candle(0).open_time
    async with uow_factory() as uow:
        found = await uow.candles.range("BTCUSDT", start, start + 3 * 60_000)
    assert [c.open_time - start for c in found] == [0, 60_000, 120_000]
    assert found[1].close == Decimal("29995.5")
    assert found[0].turnover == Decimal("370395.12")


async def test_candle_file_index_records_days(uow_factory: UowFactory) -> None:
    first = CandleFile("BTCUSDT", date(2024, 1, 2), "file:///x/02.parquet", 1440, "ab" * 32)
    async with uow_factory() as uow:
        await uow.candle_files.record(first)
        await uow.candle_files.record(CandleFile("BTCUSDT", date(2024, 1, 1), "file:///x/01.parquet", 1440, "cd" * 32))
        await uow.candle_files.record(attrs.evolve(first, rows=1439))
        await uow.commit()
    async with uow_factory() as uow:
        listed = await uow.candle_files.list("BTCUSDT")
        assert [(f.day.day, f.rows) for f in listed] == [(1, 1440), (2, 1439)]
        assert await uow.candle_files.get("BTCUSDT", date(2024, 1, 3)) is None


async def test_refresh_token_families_are_revoked_together(uow_factory: UowFactory) -> None:
    from tradesim.domain.users import RefreshToken

    tokens = [
        RefreshToken("t1", "user-1", "fam-a", expires_at=records.T0 + 10, created_time=records.T0),
        RefreshToken("t2", "user-1", "fam-a", expires_at=records.T0 + 20, created_time=records.T0 + 1),
        RefreshToken("t3", "user-1", "fam-b", expires_at=records.T0 + 20, created_time=records.T0 + 2),
    ]
    async with uow_factory() as uow:
        for token in tokens:
            await uow.refresh_tokens.add(token)
        await uow.refresh_tokens.save(attrs.evolve(tokens[0], replaced_by="t2"))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.refresh_tokens.revoke_family("fam-a") == 2
        await uow.commit()
    async with uow_factory() as uow:
        t1, t2, t3 = [await uow.refresh_tokens.get(t) for t in ("t1", "t2", "t3")]
        assert t1 is not None
        assert t1.revoked
        assert t1.replaced_by == "t2"
        assert t2 is not None
        assert t2.revoked
        assert t3 is not None
        assert not t3.revoked
        assert await uow.refresh_tokens.revoke_family("fam-a") == 0


async def test_refresh_token_rotation_is_conditional_and_wins_once(uow_factory: UowFactory) -> None:
    from tradesim.domain.users import RefreshToken

    def token(token_id: str) -> RefreshToken:
        return RefreshToken(token_id, "user-1", "fam-r", expires_at=records.T0 + 10, created_time=records.T0)

    async with uow_factory() as uow:
        await uow.refresh_tokens.add(token("r1"))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.refresh_tokens.rotate("r1", token("r2"))
        assert not await uow.refresh_tokens.rotate("r1", token("r3")), "a replaced token does not rotate again"
        assert not await uow.refresh_tokens.rotate("missing", token("r4"))
        await uow.commit()
    async with uow_factory() as uow:
        r1, r2 = await uow.refresh_tokens.get("r1"), await uow.refresh_tokens.get("r2")
        assert r1 is not None
        assert r1.replaced_by == "r2"
        assert r2 is not None
        assert r2.family_id == "fam-r"
        assert await uow.refresh_tokens.get("r3") is None

    outcomes: list[str] = []

    async def rotate(successor: str) -> None:
        # Two logins refreshing with the same token at once, each in its own transaction: a locking
        # database makes the second wait and then find the token replaced; the memory store fails
        # the second commit.
        try:
            async with uow_factory() as uow:
                rotated = await uow.refresh_tokens.rotate("r2", token(successor))
                await asyncio.sleep(0)
                await uow.commit()
                outcomes.append("rotated" if rotated else "refused")
        except Conflict:
            outcomes.append("conflict")

    await asyncio.gather(rotate("r5"), rotate("r6"))
    assert outcomes.count("rotated") == 1
    async with uow_factory() as uow:
        r2 = await uow.refresh_tokens.get("r2")
        assert r2 is not None
        assert r2.replaced_by in ("r5", "r6")


async def test_journal_entries_with_attachments_tags_and_filters(uow_factory: UowFactory) -> None:
    from tradesim.domain.journal import Attachment, JournalEntry

    first = JournalEntry(
        "j1",
        "user-1",
        "Breakout long",
        notes="Waited for the retest.",
        tags=["Breakout", "btc"],
        account_id="acc-1",
        order_id="ord-1",
        created_time=records.T0,
    )
    second = JournalEntry(
        "j2", "user-1", "Asia session", tags=["review"], account_id="acc-2", created_time=records.T0 + 5
    )
    other = JournalEntry("j3", "user-2", "Not yours", created_time=records.T0 + 9)
    shot = Attachment("a1", "j1", "journal/user-1/j1/a1.png", "image/png", 2048, records.T0 + 1, "chart.png")
    async with uow_factory() as uow:
        for entry in (first, second, other):
            await uow.journal.add(entry)
        await uow.journal.add_attachment(shot)
        await uow.commit()
    async with uow_factory() as uow:
        got = await uow.journal.get("j1")
        assert got is not None
        assert got.tags == ("breakout", "btc")
        assert got.attachments == (shot,)
        assert [e.entry_id for e in await uow.journal.list_by_user("user-1")] == ["j2", "j1"]
        assert [e.entry_id for e in await uow.journal.list_by_user("user-1", account_id="acc-1")] == ["j1"]
        assert [e.entry_id for e in await uow.journal.list_by_user("user-1", tag="REVIEW")] == ["j2"]
        await uow.journal.save(attrs.evolve(first, notes="Edited.", updated_time=records.T0 + 7))
        await uow.commit()
    async with uow_factory() as uow:
        edited = await uow.journal.get("j1")
        assert edited is not None
        assert edited.notes == "Edited."
        assert edited.attachments == (shot,)
        await uow.journal.delete_attachment("a1")
        await uow.journal.delete("j2")
        await uow.commit()
    async with uow_factory() as uow:
        kept = await uow.journal.get("j1")
        assert kept is not None
        assert kept.attachments == ()
        assert await uow.journal.get("j2") is None
