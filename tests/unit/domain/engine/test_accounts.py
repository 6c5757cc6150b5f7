"""Accounts in the engine: opening, transfers, leverage."""

from decimal import Decimal

import pytest

from tests.unit.domain.conftest import Sim, ledger, one
from tradesim.domain import (
    CommandRejected,
    LedgerKind,
    MarginMode,
    PositionChanged,
    SetLeverage,
    Transfer,
)
from tradesim.domain.errors import (
    DuplicateAccount,
    InsufficientBalance,
    InvalidInput,
    LeverageOutOfRange,
    PositionOpen,
)

D = Decimal


def test_deposits_and_withdrawals_are_ledger_entries(sim: Sim) -> None:
    events = sim.handle(Transfer("acc", D("250.5"), "dep-1"))
    assert [(e.kind, e.amount, e.balance_after, e.ref_id) for e in ledger(events)] == [
        (LedgerKind.TRANSFER, D("250.5"), D("10250.5"), "dep-1")
    ]
    events = sim.handle(Transfer("acc", D("-10250.5"), "wd-1"))
    assert ledger(events)[0].balance_after == 0
    rejected = one(sim.handle(Transfer("acc", D("-0.01"), "wd-2")), CommandRejected)
    assert isinstance(rejected.error, InsufficientBalance)
    assert rejected.error.message == "cannot withdraw 0.01 USDT: only 0 USDT is available"
    zero = one(sim.handle(Transfer("acc", D(0), "nothing")), CommandRejected)
    assert isinstance(zero.error, InvalidInput)


def test_opening_the_same_account_twice_is_refused(sim: Sim) -> None:
    with pytest.raises(DuplicateAccount, match=r"^account 'acc' already exists$"):
        sim.open()


def test_leverage_changes_only_when_flat_and_within_the_instruments_range(sim: Sim) -> None:
    sim.tick("30000", bid="29999.9", ask="30000.1")
    for bad in ("0", "101"):
        rejected = one(sim.handle(SetLeverage("acc", "BTCUSDT", D(bad))), CommandRejected)
        assert isinstance(rejected.error, LeverageOutOfRange)
        assert rejected.error.message == f"leverage {bad} is outside BTCUSDT's range 1..100"
    changed = one(sim.handle(SetLeverage("acc", "BTCUSDT", D(25), MarginMode.ISOLATED)), PositionChanged).position
    assert (changed.leverage, changed.margin_mode) == (D(25), MarginMode.ISOLATED)
    # 0.01 at 30,000.1 with 25x: IM 300.001 / 25 = 12.00004.
    sim.buy("0.01")
    assert sim.view().position_im == D("12.00004")

    rejected = one(sim.handle(SetLeverage("acc", "BTCUSDT", D(5))), CommandRejected)
    assert isinstance(rejected.error, PositionOpen)
    assert rejected.error.message == (
        "close the BTCUSDT position and cancel its open orders before changing leverage or margin mode"
    )
    sim.sell("0.01")
    sim.buy("0.01", price="29000")  # a resting order blocks it too
    assert isinstance(one(sim.handle(SetLeverage("acc", "BTCUSDT", D(5))), CommandRejected).error, PositionOpen)
    assert sim.position().leverage == D(25)
