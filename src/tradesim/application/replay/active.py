"""One loaded replay session: its matching engine on a replay clock, its place in history, its persistence.

Every bar becomes four ticks (`bar_ticks`, the intra-bar rule of DESIGN.md section 5); before
each tick the engine's `ManualClock` is set to the tick's time, so staleness limits and
timestamps behave as they do live. The engine is the same `MatchingEngine`, with the same
order rules, as live trading; only its clock and its prices differ.

What survives a restart: the account (balances, positions, open orders) is written with every
batch of engine events, in the same transaction as the session record (cursor, clock, id
sequence). Bars that produce no events change nothing worth storing, so the session record
is saved with them only now and then (`checkpoint`); after a crash those bars simply play
again, to the same (empty) effect.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from decimal import Decimal

import attrs

from tradesim.application.engine_step import EngineStep
from tradesim.application.replay.timeline import Position, Timeline
from tradesim.domain.commands import Command
from tradesim.domain.engine import EngineConfig, MatchingEngine
from tradesim.domain.events import EngineEvent
from tradesim.domain.instruments import InstrumentCatalog
from tradesim.domain.market import Candle
from tradesim.domain.replay import ManualClock, bar_ticks
from tradesim.domain.replay_session import ReplayBar, ReplaySession, ReplayState
from tradesim.ports.clock import Clock
from tradesim.ports.messaging import EventBus
from tradesim.ports.replay import ReplayBarBus
from tradesim.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory

NS = 1_000_000_000


class SessionIds:
    """Ids for orders the engine creates itself (a position's TP/SL): ``{replayId}-{n}``, unique across restarts."""

    def __init__(self, replay_id: str, drawn: int) -> None:
        self._prefix = replay_id
        self.drawn = drawn

    def __call__(self) -> str:
        self.drawn += 1
        return f"{self._prefix}-{self.drawn}"


@attrs.define
class Ports:
    """What every active replay of a runner shares."""

    uow: UnitOfWorkFactory
    bars: ReplayBarBus
    events: EventBus
    catalog: InstrumentCatalog
    wall: Clock
    engine_config: EngineConfig | None = None


class ActiveReplay:
    def __init__(self, session: ReplaySession, timeline: Timeline, ports: Ports) -> None:
        self.session = session
        self.timeline = timeline
        self._ports = ports
        self.clock = ManualClock(session.clock)
        self.ids = SessionIds(session.replay_id, session.id_seq)
        self.engine = MatchingEngine(ports.catalog, self.clock, ports.engine_config, ids=self.ids)
        #: Dedupe, apply, record (with the session record), publish: as the live worker does.
        self._step = EngineStep(self.engine, ports.uow, ports.events)
        self._position: Position | None = None
        #: Held by whoever works on the session (the runner's round, a control, a command), so that
        #: work which waits on the store or the buses never interleaves with other work on it.
        self.lock = asyncio.Lock()
        self._unsaved = False
        self._origin_ns = 0
        self._paced = 0

    @property
    def replay_id(self) -> str:
        return self.session.replay_id

    @property
    def playing(self) -> bool:
        return self.session.state is ReplayState.PLAYING

    # -- loading --------------------------------------------------------------------------------

    async def restore(self) -> None:
        """Rebuild the engine from the stored account, then show it the last price it had seen."""
        await self._step.reload([self.session.account_id])
        await self._prime()

    async def _prime(self) -> None:
        """Feed the close of the bar before the cursor, so that orders placed while paused have a price.

        The orders resting now were all there when that tick was first played, so it fills
        nothing; if it does (an order placed after it, marketable at its price), that is what
        live trading would have done too.
        """
        self._position = None
        last = await self.timeline.before(self.session.cursor)
        if last is None:
            return
        close = bar_ticks(last)[-1]

        def primed() -> list[EngineEvent]:
            self.clock.set(max(self.session.clock, close.ts))
            events = self.engine.on_ticker(close)
            self.clock.set(self.session.clock)
            return events

        self._saved(await self._step.market(primed, save=self._save))

    # -- playing --------------------------------------------------------------------------------

    async def play(self, limit: int) -> int:
        """Play up to `limit` bars; returns how many. Runs out of history into FINISHED."""
        played = 0
        while played < limit:
            position = await self._next_position()
            if position is None:
                self.session = self.session.finished()
                await self.checkpoint(force=True)
                break
            self._position = position
            await self._play_bar(position.candle)
            played += 1
            if position.index == 0:
                self.timeline.prefetch_after(position.bars.day)
        return played

    async def _next_position(self) -> Position | None:
        cursor = self.session.cursor
        if self._position is not None and self._position.open_time < cursor:
            following = await self.timeline.next(self._position)
            if following is not None and following.open_time >= cursor:
                return following
        return await self.timeline.at_or_after(cursor)

    async def _play_bar(self, candle: Candle) -> None:
        def played() -> list[EngineEvent]:
            events: list[EngineEvent] = []
            for tick in bar_ticks(candle):
                self.clock.set(tick.ts)
                events.extend(self.engine.on_ticker(tick))
            self.session = self.session.played(candle, id_seq=self.ids.drawn)
            self._unsaved = True
            return events

        # The bar goes out before the fills it caused, as a chart shows the bar a marker sits on.
        bar = ReplayBar(self.replay_id, candle)
        self._saved(await self._step.market(played, save=self._save, then=lambda: self._ports.bars.publish(bar)))

    # -- controls and commands ------------------------------------------------------------------

    async def set_state(self, session: ReplaySession, now_ns: int) -> None:
        """Take the record after a control (PLAY, PAUSE, SPEED); the pace restarts from now."""
        self.session = session
        self.restart_pace(now_ns)
        await self.checkpoint(force=True)

    async def seek(self, session: ReplaySession, now_ns: int) -> None:
        """Jump to `session.cursor`: the next bar played is the first at or after it."""
        self.session = session
        self.clock.set(session.clock)
        await self._prime()
        self.restart_pace(now_ns)
        await self.checkpoint(force=True)

    async def handle(self, command: Command) -> list[EngineEvent]:
        """A trading command for the session's account, exactly as the live worker takes one."""
        if getattr(command, "account_id", None) != self.session.account_id:
            return []
        return self._saved(await self._step.commands([command], save=self._save))

    # -- persistence ----------------------------------------------------------------------------

    async def _save(self, uow: UnitOfWork) -> None:
        """The session record, in the engine step's transaction: the account and the cursor agree."""
        self.session = attrs.evolve(self.session, id_seq=self.ids.drawn, updated_time=self._ports.wall.now_ms())
        await uow.replays.save(self.session)

    def _saved(self, events: Sequence[EngineEvent]) -> list[EngineEvent]:
        """What a step returned: events mean it committed them with the session record."""
        if events:
            self._unsaved = False
        return list(events)

    async def checkpoint(self, *, force: bool = False) -> None:
        if not (self._unsaved or force):
            return
        self.session = attrs.evolve(self.session, id_seq=self.ids.drawn, updated_time=self._ports.wall.now_ms())
        async with self._ports.uow() as uow:
            await uow.replays.save(self.session)
            await uow.commit()
        self._unsaved = False

    # -- pace -----------------------------------------------------------------------------------

    def restart_pace(self, now_ns: int) -> None:
        self._origin_ns = now_ns
        self._paced = 0

    def due(self, now_ns: int) -> int:
        """Bars owed by now at the session's speed since the pace last restarted (exact, no float)."""
        if not self.playing:
            return 0
        owed = int(self.session.speed * Decimal(now_ns - self._origin_ns)) // NS
        return max(0, owed - self._paced)

    def paced(self, bars: int) -> None:
        self._paced += bars
