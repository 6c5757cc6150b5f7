"""The replay session's state machine and its bar message."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradesim.domain.errors import InvalidInput
from tradesim.domain.market import Candle
from tradesim.domain.replay_session import (
    TRANSITIONS,
    ReplayAction,
    ReplayBar,
    ReplayConflict,
    ReplayControl,
    ReplaySession,
    ReplayState,
)

T0 = 1_670_000_000_000  # not on a minute boundary


def new() -> ReplaySession:
    return ReplaySession.new("rep-1", "user-1", "acc-1", "BTCUSDT", T0 + 1234, "5", now=T0)


def test_a_new_session_is_paused_at_the_minute_of_its_start() -> None:
    session = new()
    assert session.state is ReplayState.PAUSED
    assert session.cursor == T0 + 1234 - (T0 + 1234) % 60_000
    assert session.clock == session.cursor - 1
    assert session.speed == Decimal(5)


@pytest.mark.parametrize("speed", ["0", "0.05", "1001", "-1", 2.5, "fast"])
def test_speed_must_be_a_decimal_within_bounds(speed: object) -> None:
    with pytest.raises(InvalidInput):
        ReplaySession.new("rep-1", "user-1", "acc-1", "BTCUSDT", T0, speed, now=T0)


def test_controls_follow_the_table() -> None:
    session = new()
    playing = session.request(ReplayControl(ReplayAction.PLAY))
    assert playing.state is ReplayState.PLAYING
    assert playing.request(ReplayControl(ReplayAction.PLAY)).state is ReplayState.PLAYING
    with pytest.raises(ReplayConflict, match="pause the replay before stepping"):
        playing.request(ReplayControl(ReplayAction.STEP))
    faster = playing.request(ReplayControl.parse("speed", speed="100"))
    assert (faster.state, faster.speed) == (ReplayState.PLAYING, Decimal(100))
    target = 1_670_003_659_999  # 17:40:59.999 UTC
    moved = faster.request(ReplayControl.parse("seek", to=target))
    assert moved.state is ReplayState.PLAYING
    assert (moved.cursor, moved.clock) == (1_670_003_640_000, 1_670_003_639_999)


def test_a_finished_replay_only_seeks_or_changes_speed() -> None:
    done = new().finished()
    for action in (ReplayAction.PLAY, ReplayAction.PAUSE):
        with pytest.raises(ReplayConflict):
            done.request(ReplayControl(action))
    assert done.request(ReplayControl(ReplayAction.SEEK, to=T0)).state is ReplayState.PAUSED
    assert all(
        state is not ReplayState.FINISHED or action in (ReplayAction.SEEK, ReplayAction.SPEED)
        for state, action in TRANSITIONS
    )


@pytest.mark.parametrize(
    ("action", "fields"),
    [("rewind", {}), ("seek", {}), ("seek", {"to": "1700000000000"}), ("seek", {"to": True}), ("speed", {}), (1, {})],
)
def test_malformed_controls_are_refused(action: object, fields: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        ReplayControl.parse(action, **fields)


def test_bar_message_is_shaped_like_bybits_kline_push() -> None:
    candle = Candle(
        "BTCUSDT",
        1_672_324_800_000,
        Decimal("16649.5"),
        Decimal("16677"),
        Decimal("16608"),
        Decimal("16677.00"),
        Decimal("2.081"),
    )
    assert ReplayBar("rep-1", candle).message() == {
        "topic": "replay.rep-1",
        "data": [
            {
                "start": 1_672_324_800_000,
                "end": 1_672_324_859_999,
                "interval": "1",
                "open": "16649.5",
                "high": "16677",
                "low": "16608",
                "close": "16677.00",
                "volume": "2.081",
                "confirm": True,
            }
        ],
    }
