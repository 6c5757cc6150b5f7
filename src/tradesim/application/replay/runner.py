"""The replay runner: many sessions in one process, played at their speeds, held by lease.

`tradesim serve` runs one in-process; in production every worker runs one. A runner holds a
session by a lease in the `replay_sessions` table (`ReplayRepository.claim`) and renews it
while it runs the session. It adopts the sessions that need a runner and have none (lease
lapsed): those playing, and those with messages waiting in the inbox. So the sessions of a
runner that died are picked up by the others (or by itself after a restart, if it comes back
under the same `owner` name, as `serve` does) and go on from their stored state. A session
left paused and untouched for `release_idle_s` is saved and let go, to free its memory; the
next message for it brings it back.

Messages reach a session through the `ReplayInbox` (controls from the api, trading commands
from the order router) or, in-process, by calling `control` / `submit` directly. Either way, work
on one session is serialised by its lock: a control or a command arriving while the loop plays
the session's due bars waits for them, exactly as one taken from the inbox at the next round.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from tradesim.application.replay.active import ActiveReplay, Ports
from tradesim.application.replay.cache import BarCache
from tradesim.application.replay.timeline import Timeline
from tradesim.domain.commands import Command
from tradesim.domain.errors import Conflict, NotFound, TradesimError
from tradesim.domain.replay_session import ReplayAction, ReplayControl, ReplaySession, ReplayState
from tradesim.ports.errors import DependencyUnavailable
from tradesim.ports.replay import ReplayInbox

log = logging.getLogger(__name__)


class ReplayElsewhere(Conflict):
    """Another runner holds the session (its lease has not lapsed); send the message through the inbox."""

    code = "REPLAY_ELSEWHERE"


class ReplayRunner:
    def __init__(
        self,
        ports: Ports,
        cache: BarCache,
        inbox: ReplayInbox,
        *,
        owner: str,
        lease_ms: int = 30_000,
        max_sessions: int = 1000,
        max_bars_per_round: int = 2000,
        tick_s: float = 0.02,
        idle_s: float = 1.0,
        checkpoint_s: float = 1.0,
        release_idle_s: float = 600.0,
        adopt_s: float = 1.0,
        monotonic_ns: Callable[[], int] = time.monotonic_ns,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._ports = ports
        self._cache = cache
        self._inbox = inbox
        self.owner = owner
        self._lease_ms = lease_ms
        self._max_sessions = max_sessions
        self._max_bars = max_bars_per_round
        self._tick_s = tick_s
        self._idle_s = idle_s
        self._checkpoint_ns = int(checkpoint_s * 1e9)
        self._release_idle_ns = int(release_idle_s * 1e9)
        self._adopt_ns = int(adopt_s * 1e9)
        self._next_adopt_ns = 0
        self._last_touched: dict[str, int] = {}
        self._monotonic_ns = monotonic_ns
        self._sleep = sleep
        self.active: dict[str, ActiveReplay] = {}
        self._next_lease_ns = 0
        self._next_checkpoint_ns = 0

    # -- the ReplayDispatch interface (in-process) ----------------------------------------------

    async def control(self, session: ReplaySession, control: ReplayControl) -> ReplaySession:
        """Apply a control now and return the session as it stands after it.

        Raises `ReplayConflict` (not allowed in this state), `ReplayElsewhere`, `NotFound`.
        """
        async with self._holding(session.replay_id) as active:
            await self._apply(active, control)
            return active.session

    async def submit(self, replay_id: str, command: Command) -> None:
        async with self._holding(replay_id) as active:
            await active.handle(command)

    @contextlib.asynccontextmanager
    async def _holding(self, replay_id: str) -> AsyncIterator[ActiveReplay]:
        """The held session, its lock taken (after the work on it in progress, such as a round's bars)."""
        while True:
            active = await self.acquire(replay_id)
            await active.lock.acquire()
            if self.active.get(replay_id) is active:
                break
            active.lock.release()  # released or replaced while we waited: take the current one
        try:
            self._touch(replay_id)
            yield active
        finally:
            active.lock.release()

    # -- ownership ------------------------------------------------------------------------------

    async def acquire(self, replay_id: str) -> ActiveReplay:
        """The session, loaded and restored from the store if this runner does not hold it yet."""
        active = self.active.get(replay_id)
        if active is not None:
            return active
        now = self._ports.wall.now_ms()
        try:
            async with self._ports.uow() as uow:
                claimed = await uow.replays.claim(replay_id, self.owner, now, now + self._lease_ms)
                session = await uow.replays.get(replay_id)
                await uow.commit()
        except Conflict as error:  # another runner claimed it between our read and our commit
            raise ReplayElsewhere(f"replay {replay_id} was just claimed by another runner") from error
        if session is None:
            raise NotFound(f"replay {replay_id} not found")
        if not claimed:
            raise ReplayElsewhere(f"replay {replay_id} is run by {session.owner}")
        active = ActiveReplay(session, Timeline(session.symbol, self._cache, self._ports.uow), self._ports)
        await active.restore()
        active.restart_pace(self._monotonic_ns())
        self.active[replay_id] = active
        self._touch(replay_id)
        return active

    def _touch(self, replay_id: str) -> None:
        self._last_touched[replay_id] = self._monotonic_ns()

    async def release(self, replay_id: str) -> None:
        """Save the session and give its lease up (another runner may take it at once)."""
        active = self.active.pop(replay_id, None)
        self._last_touched.pop(replay_id, None)
        if active is None:
            return
        await active.checkpoint(force=True)
        async with self._ports.uow() as uow:
            await uow.replays.release(replay_id, self.owner)
            await uow.commit()

    async def close(self) -> None:
        for replay_id in list(self.active):
            try:
                await self.release(replay_id)
            except Exception:
                log.exception("could not save replay %s on shutdown", replay_id)

    # -- the loop -------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Play until `stop` is set, then save every session and release its lease."""
        try:
            while not stop.is_set():
                try:
                    await self.round()
                    wait = self._tick_s if any(a.playing for a in self.active.values()) else self._idle_s
                    await self._inbox.wait(list(self.active), wait)
                except DependencyUnavailable as error:
                    # The sessions stay held and resume from where they were once the store answers.
                    log.warning("replay runner %s: dependency down (%s); retrying", self.owner, error)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self._idle_s)
        finally:
            await self.close()

    async def round(self) -> int:
        """One pass: messages, due bars, checkpoints, leases. Returns how many bars were played."""
        now = self._monotonic_ns()
        for replay_id in list(self.active):
            await self._guarded(replay_id, self._drain)
        played = 0
        for replay_id, active in list(self.active.items()):
            if active.due(now):
                result = await self._guarded(replay_id, functools.partial(self._play_due, now_ns=now))
                played += result if isinstance(result, int) else 0
        if now >= self._next_checkpoint_ns:
            self._next_checkpoint_ns = now + self._checkpoint_ns
            for replay_id in list(self.active):
                await self._guarded(replay_id, ActiveReplay.checkpoint)
        if now >= self._next_lease_ns:
            self._next_lease_ns = now + self._lease_ms * 1_000_000 // 3
            await self._renew()
        if now >= self._next_adopt_ns:
            self._next_adopt_ns = now + self._adopt_ns
            await self._adopt()
        return played

    async def play_now(self, replay_id: str, bars: int) -> int:
        """Play `bars` bars of a held session at once, ignoring its speed (tests and benchmarks)."""
        return await self.active[replay_id].play(bars)

    async def _play_due(self, active: ActiveReplay, *, now_ns: int) -> int:
        # Counted again under the lock: a control that held it (a pause, a new speed) may have changed it.
        due = min(active.due(now_ns), self._max_bars)
        if not due:
            return 0
        active.paced(due)
        return await active.play(due)

    async def _drain(self, active: ActiveReplay) -> None:
        messages = await self._inbox.take(active.replay_id)
        if messages:
            self._touch(active.replay_id)
        for message in messages:
            if isinstance(message, ReplayControl):
                try:
                    await self._apply(active, message)
                except Conflict as error:
                    log.info("replay %s: %s", active.replay_id, error.message)
            else:
                await active.handle(message)

    async def _apply(self, active: ActiveReplay, control: ReplayControl) -> None:
        session = active.session.request(control)
        now = self._monotonic_ns()
        if control.action is ReplayAction.SEEK:
            await active.seek(session, now)
        elif control.action is ReplayAction.STEP:
            await active.play(1)
            await active.checkpoint(force=True)
        else:
            await active.set_state(session, now)

    async def _guarded(self, replay_id: str, work: Callable[[ActiveReplay], Awaitable[object]]) -> object:
        """Run `work` on a session; a failure unloads that session only (the store is the truth)."""
        active = self.active.get(replay_id)
        if active is None:
            return None
        try:
            async with active.lock:
                if self.active.get(replay_id) is not active:
                    return None  # released while we waited for it
                return await work(active)
        except TradesimError as error:
            log.warning("replay %s: %s", replay_id, error.message)
        except Exception:
            log.exception("replay %s failed; unloading it to reload from the store", replay_id)
            self.active.pop(replay_id, None)
            try:
                async with self._ports.uow() as uow:
                    await uow.replays.release(replay_id, self.owner)
                    await uow.commit()
            except Exception:
                log.exception("could not release replay %s", replay_id)
        return None

    async def _renew(self) -> None:
        now = self._ports.wall.now_ms()
        until = now + self._lease_ms
        idle_since = self._monotonic_ns() - self._release_idle_ns
        for replay_id, active in list(self.active.items()):
            if not active.playing and self._last_touched.get(replay_id, 0) < idle_since:
                await self._guarded(replay_id, lambda a: self.release(a.replay_id))
        for replay_id in list(self.active):
            try:
                async with self._ports.uow() as uow:
                    kept = await uow.replays.claim(replay_id, self.owner, now, until)
                    await uow.commit()
            except Exception:
                log.exception("could not renew the lease of replay %s", replay_id)
                continue
            if not kept:
                log.warning("replay %s was taken over by another runner; dropping it here", replay_id)
                self.active.pop(replay_id, None)

    async def _adopt(self) -> None:
        now = self._ports.wall.now_ms()
        room = self._max_sessions - len(self.active)
        if room <= 0:
            return
        async with self._ports.uow() as uow:
            orphans = await uow.replays.list_unowned(now, limit=room)
        waiting = set(await self._inbox.waiting())
        for session in orphans:
            if session.replay_id in self.active or session.state is ReplayState.FINISHED:
                continue
            if session.state is not ReplayState.PLAYING and session.replay_id not in waiting:
                continue  # paused with nothing to do: no runner needed until a message comes
            try:
                await self.acquire(session.replay_id)
            except ReplayElsewhere:
                continue  # another runner was quicker
            except Exception:
                log.exception("could not adopt replay %s", session.replay_id)
                continue
            await self._guarded(session.replay_id, self._drain)
