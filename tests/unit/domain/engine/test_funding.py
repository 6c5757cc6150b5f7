"""Funding, from the ticker and from the SettleFunding command."""

from decimal import Decimal

from tests.unit.domain.conftest import T0, Sim, ledger
from tradesim.domain import (
    LedgerKind,
    SettleFunding,
)

D = Decimal
HOUR = 3_600_000


def test_funding_settles_once_at_the_announced_time_longs_pay_when_positive() -> None:
    sim = Sim()
    sim.open("long")
    sim.open("short")
    funding_at = T0 + 8 * HOUR
    sim.tick("30000", bid="30000", ask="30000", funding_rate="0.0001", next_funding_time=funding_at)
    sim.buy("0.01", account="long")
    sim.sell("0.02", account="short")
    sim.clock.set(funding_at - 1)
    assert ledger(sim.tick("30500", funding_rate="0.0001", next_funding_time=funding_at)) == []
    sim.clock.set(funding_at)
    events = sim.tick("30500", mark="30400", funding_rate="0.0001", next_funding_time=funding_at)
    # size x mark x rate: long pays 0.01 x 30,400 x 0.0001 = 0.0304; short receives 0.02 x 30,400 x 0.0001 = 0.0608.
    assert {(e.account_id, e.kind, e.amount) for e in ledger(events)} == {
        ("long", LedgerKind.FUNDING, D("-0.0304")),
        ("short", LedgerKind.FUNDING, D("0.0608")),
    }
    # The next ticker, still announcing the time already settled, settles nothing.
    sim.advance(1000)
    assert ledger(sim.tick("30500", funding_rate="0.0001", next_funding_time=funding_at)) == []
    # The next period, with a negative rate: shorts pay, longs receive.
    nxt = funding_at + 8 * HOUR
    sim.tick("30500", funding_rate="-0.0002", next_funding_time=nxt)
    sim.clock.set(nxt)
    events = sim.tick("30000", funding_rate="-0.0002", next_funding_time=nxt + 8 * HOUR)
    # long receives 0.01 x 30,000 x 0.0002 = 0.06; short pays 0.02 x 30,000 x 0.0002 = 0.12.
    assert {(e.account_id, e.amount) for e in ledger(events)} == {("long", D("0.06")), ("short", D("-0.12"))}
    # Funding is realised PnL of the position.
    assert sim.position("long").cum_realised_pnl == D("-0.165") - D("0.0304") + D("0.06")


def test_settle_funding_command_for_replays() -> None:
    sim = Sim()
    sim.open()
    sim.tick("30000", bid="30000", ask="30000")
    sim.sell("0.01")
    events = sim.handle(SettleFunding("BTCUSDT", D("0.0001"), D(30000), funding_time=T0 + HOUR))
    # The short receives 0.01 x 30,000 x 0.0001 = 0.03.
    assert [(e.kind, e.amount) for e in ledger(events)] == [(LedgerKind.FUNDING, D("0.03"))]


def test_settle_funding_for_a_time_already_settled_changes_nothing() -> None:
    sim = Sim()
    sim.open()
    funding_at = T0 + HOUR
    sim.tick("30000", bid="30000", ask="30000", funding_rate="0.0001", next_funding_time=funding_at)
    sim.sell("0.01")
    settle = SettleFunding("BTCUSDT", D("0.0001"), D(30000), funding_time=funding_at)
    assert len(ledger(sim.handle(settle))) == 1
    # The same funding time again, by command or by the ticker that announced it, pays nothing more.
    assert sim.handle(settle) == []
    sim.clock.set(funding_at)
    assert ledger(sim.tick("30000", funding_rate="0.0001", next_funding_time=funding_at + 8 * HOUR)) == []
    assert sim.view().wallet_balance == D(10000) - D("0.165") + D("0.03")


def test_funding_is_settled_even_when_the_ticker_after_the_funding_time_arrives_late() -> None:
    sim = Sim()
    sim.open()
    funding_at = T0 + HOUR
    sim.tick("30000", bid="30000", ask="30000", funding_rate="0.0001", next_funding_time=funding_at)
    sim.buy("0.01")
    sim.clock.set(funding_at + 40_000)
    # Stamped at the funding time but handled 40 s later, beyond the 30 s staleness limit: too old to
    # trade on, yet the funding it marks is due: 0.01 x 30,000 x 0.0001 = 0.03 paid by the long.
    late = sim.tick("30000", ts=funding_at, funding_rate="0.0001", next_funding_time=funding_at + 8 * HOUR)
    assert [(e.kind, e.amount) for e in ledger(late)] == [(LedgerKind.FUNDING, D("-0.03"))]
    assert ledger(sim.tick("30000", funding_rate="0.0001", next_funding_time=funding_at + 8 * HOUR)) == []
