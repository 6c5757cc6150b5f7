"""The bounded memory keeps what was used last and lets the least recently used go."""

from __future__ import annotations

from tradesim.application.remembered import Remembered


def test_the_least_recently_used_entry_goes_first_when_full() -> None:
    remembered: Remembered[str, str] = Remembered(2)
    remembered.remember("a", "owner-a")
    remembered.remember("b", "owner-b")
    assert remembered.get("a") == "owner-a"  # read: now the most recent
    remembered.remember("c", "owner-c")
    assert (remembered.get("b"), remembered.get("a"), remembered.get("c")) == (None, "owner-a", "owner-c")
    assert len(remembered) == 2


def test_a_forgotten_entry_is_gone_and_falsy_values_are_kept() -> None:
    remembered: Remembered[str, str] = Remembered(10)
    remembered.remember("live-account", "")
    assert remembered.get("live-account") == ""
    assert "live-account" in remembered
    remembered.forget("live-account")
    assert remembered.get("live-account") is None
    remembered.forget("never-there")
