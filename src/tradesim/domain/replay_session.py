"""A Bar Replay session: its record, the controls a trader sends it, and its state machine.

A session plays one symbol's stored 1m bars from `cursor` (the open time of the next bar) at
`speed` bars per second, on an account of its own. `clock` is the replay time the session's
engine runs on. Which (state, action) pairs are allowed is one explicit table; anything else
is a `ReplayConflict`, never silently ignored.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Final

import attrs

from tradesim.domain.enums import Category
from tradesim.domain.errors import Conflict, InvalidInput, RuleViolation
from tradesim.domain.market import Candle
from tradesim.domain.numbers import to_decimal

MIN_SPEED: Final = Decimal("0.1")
#: Bars per second. A browser cannot follow more than this many pushes, and 1000 bars/s
#: already plays a day of 1m bars in under 1.5 s.
MAX_SPEED: Final = Decimal(1000)
MINUTE_MS: Final = 60_000


class ReplayState(StrEnum):
    PAUSED = "paused"
    PLAYING = "playing"
    FINISHED = "finished"


class ReplayAction(StrEnum):
    PLAY = "play"
    PAUSE = "pause"
    STEP = "step"
    SEEK = "seek"
    SPEED = "speed"


class ReplayConflict(Conflict):
    """The action does not apply in the session's current state (say, stepping while playing)."""

    code = "REPLAY_STATE_CONFLICT"


class NoHistory(RuleViolation):
    """No stored candles where the replay should play; the message says how to get them."""

    code = "NO_HISTORY"


class NotReplaySymbol(RuleViolation):
    """An order of a replay account on a symbol (or category) its session does not play: it would never get a price."""

    code = "NOT_REPLAY_SYMBOL"


#: (state, action) -> state after it. PLAY while playing and PAUSE while paused are allowed
#: no-ops, so that a retried request is harmless; a finished replay only seeks or changes speed.
TRANSITIONS: Final[dict[tuple[ReplayState, ReplayAction], ReplayState]] = {
    (ReplayState.PAUSED, ReplayAction.PLAY): ReplayState.PLAYING,
    (ReplayState.PLAYING, ReplayAction.PLAY): ReplayState.PLAYING,
    (ReplayState.PLAYING, ReplayAction.PAUSE): ReplayState.PAUSED,
    (ReplayState.PAUSED, ReplayAction.PAUSE): ReplayState.PAUSED,
    (ReplayState.PAUSED, ReplayAction.STEP): ReplayState.PAUSED,
    (ReplayState.PAUSED, ReplayAction.SEEK): ReplayState.PAUSED,
    (ReplayState.PLAYING, ReplayAction.SEEK): ReplayState.PLAYING,
    (ReplayState.FINISHED, ReplayAction.SEEK): ReplayState.PAUSED,
    (ReplayState.PAUSED, ReplayAction.SPEED): ReplayState.PAUSED,
    (ReplayState.PLAYING, ReplayAction.SPEED): ReplayState.PLAYING,
    (ReplayState.FINISHED, ReplayAction.SPEED): ReplayState.FINISHED,
}

_WHY_NOT: Final = {
    ReplayAction.STEP: "pause the replay before stepping",
    ReplayAction.PLAY: "the replay reached the end of stored history; seek to an earlier time",
    ReplayAction.PAUSE: "the replay reached the end of stored history",
}


def check_speed(value: object) -> Decimal:
    speed = to_decimal(value, "speed")
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise InvalidInput(f"speed must be between {MIN_SPEED} and {MAX_SPEED} bars per second, got {speed}")
    return speed


def minute_floor(ms: int) -> int:
    return ms - ms % MINUTE_MS


@attrs.frozen(slots=True)
class ReplayControl:
    """One control request: `to` (epoch ms) goes with SEEK, `speed` with SPEED."""

    action: ReplayAction
    to: int | None = None
    speed: Decimal | None = None

    @classmethod
    def parse(cls, action: object, *, to: object = None, speed: object = None) -> ReplayControl:
        """Build from request fields. Raises `InvalidInput` naming what is wrong."""
        try:
            kind = ReplayAction(str(action)) if isinstance(action, str) else None
        except ValueError:
            kind = None
        if kind is None:
            names = ", ".join(a.value for a in ReplayAction)
            raise InvalidInput(f"action must be one of {names}, got {action!r}")
        if kind is ReplayAction.SEEK:
            if isinstance(to, bool) or not isinstance(to, int) or to < 0:
                raise InvalidInput("seek needs `to`: a time in epoch milliseconds")
            return cls(kind, to=to)
        if kind is ReplayAction.SPEED:
            if speed is None:
                raise InvalidInput("speed needs `speed`: bars per second, as a decimal string")
            return cls(kind, speed=check_speed(speed))
        return cls(kind)


@attrs.frozen(slots=True)
class ReplaySession:
    """The stored record of a session (the engine state lives in its account's orders and positions).

    cursor: open time of the next bar to play. clock: replay time (ms) the engine runs on,
    the end of the last bar played. id_seq: how many ids the session's engine has drawn, so
    ids stay unique across restarts. owner / lease_until: which runner process holds the
    session, and until when (only the repository's claim and release change them).
    """

    replay_id: str
    user_id: str
    account_id: str
    symbol: str
    start_time: int
    cursor: int
    speed: Decimal
    state: ReplayState = ReplayState.PAUSED
    clock: int = 0
    last_bar_time: int | None = None
    bars_played: int = 0
    id_seq: int = 0
    category: Category = Category.LINEAR
    created_time: int = 0
    updated_time: int = 0
    owner: str = ""
    lease_until: int = 0

    @classmethod
    def new(
        cls, replay_id: str, user_id: str, account_id: str, symbol: str, start: int, speed: object, now: int
    ) -> ReplaySession:
        if start < 0:
            raise InvalidInput("start must be a time in epoch milliseconds")
        cursor = minute_floor(start)
        return cls(
            replay_id=replay_id,
            user_id=user_id,
            account_id=account_id,
            symbol=symbol,
            start_time=start,
            cursor=cursor,
            speed=check_speed(speed),
            clock=cursor - 1,
            created_time=now,
            updated_time=now,
        )

    def request(self, control: ReplayControl) -> ReplaySession:
        """The session after `control` as far as the record goes (state, speed, seek target).

        Playing the bars a STEP or PLAY calls for is the runner's job. Raises `ReplayConflict`.
        """
        after = TRANSITIONS.get((self.state, control.action))
        if after is None:
            why = _WHY_NOT.get(control.action, "not allowed now")
            raise ReplayConflict(f"cannot {control.action.value} a {self.state.value} replay: {why}")
        changed = attrs.evolve(self, state=after)
        if control.action is ReplayAction.SEEK:
            assert control.to is not None
            cursor = minute_floor(control.to)
            changed = attrs.evolve(changed, cursor=cursor, clock=cursor - 1)
        elif control.action is ReplayAction.SPEED:
            assert control.speed is not None
            changed = attrs.evolve(changed, speed=control.speed)
        return changed

    def played(self, candle: Candle, *, id_seq: int) -> ReplaySession:
        """After bar `candle` has been played through the engine."""
        return attrs.evolve(
            self,
            cursor=candle.open_time + MINUTE_MS,
            clock=candle.close_time,
            last_bar_time=candle.open_time,
            bars_played=self.bars_played + 1,
            id_seq=id_seq,
        )

    def finished(self) -> ReplaySession:
        return attrs.evolve(self, state=ReplayState.FINISHED)

    def check_tradable(self, symbol: str, category: Category) -> None:
        """Raises `NotReplaySymbol` unless the session's account may trade `symbol` in `category`."""
        if (symbol, category) != (self.symbol, self.category):
            raise NotReplaySymbol(
                f"replay {self.replay_id} plays {self.symbol} ({self.category.value}); "
                f"its account trades only that, not {symbol} ({category.value})"
            )


@attrs.frozen(slots=True)
class ReplayBar:
    """A bar a session just played, for the ``replay.{replayId}`` WebSocket topic."""

    replay_id: str
    candle: Candle

    @property
    def topic(self) -> str:
        return replay_topic(self.replay_id)

    def kline(self) -> dict[str, object]:
        """The bar shaped like Bybit's kline push (`interval` in Bybit's spelling, decimals as strings)."""
        c = self.candle
        return {
            "start": c.open_time,
            "end": c.close_time,
            "interval": _BYBIT_INTERVAL.get(c.interval, c.interval),
            "open": format(c.open, "f"),
            "high": format(c.high, "f"),
            "low": format(c.low, "f"),
            "close": format(c.close, "f"),
            "volume": format(c.volume, "f"),
            "confirm": c.closed,
        }

    def message(self) -> dict[str, object]:
        return {"topic": self.topic, "data": [self.kline()]}


_BYBIT_INTERVAL: Final = {"1m": "1", "3m": "3", "5m": "5", "15m": "15", "1h": "60"}


def replay_topic(replay_id: str) -> str:
    return f"replay.{replay_id}"
