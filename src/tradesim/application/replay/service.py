"""What the api does with replays: create one (with its own account), read it, control it.

Errors are typed for the route layer to map: `InvalidInput` (400: a malformed field),
`UnknownSymbol` / `NoHistory` (422), `NotFound` (404: missing or another user's),
`ReplayConflict` (409: not allowed in the session's state).

Controls go to whichever runner holds the session through a `ReplayDispatch`: the in-process
`ReplayRunner` itself under `serve` (the answer is the session after the control), or an
`InboxDispatch` where runners live in workers (the answer is the session as the control
will leave it; the bars arrive on the WebSocket).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from decimal import Decimal
from typing import Protocol

import attrs

from tradesim.application.accounts import AccountService
from tradesim.application.limits import Quota
from tradesim.application.replay.cache import BarCache
from tradesim.application.replay.prices import ReplayPrices
from tradesim.domain.accounts import AccountKind
from tradesim.domain.bars import day_of
from tradesim.domain.commands import Command
from tradesim.domain.enums import Category
from tradesim.domain.errors import InvalidInput, NotFound
from tradesim.domain.instruments import InstrumentCatalog
from tradesim.domain.market import Candle
from tradesim.domain.numbers import money_str
from tradesim.domain.replay_session import (
    MINUTE_MS,
    NoHistory,
    ReplayAction,
    ReplayBar,
    ReplayControl,
    ReplaySession,
    ReplayState,
    check_speed,
)
from tradesim.ports.clock import Clock
from tradesim.ports.replay import ReplayInbox
from tradesim.ports.unit_of_work import UnitOfWorkFactory


class ReplayDispatch(Protocol):
    """Where controls and trading commands for a session go: its runner, near or far."""

    async def control(self, session: ReplaySession, control: ReplayControl) -> ReplaySession: ...

    async def submit(self, replay_id: str, command: Command) -> None: ...


class InboxDispatch:
    """For an api process whose runners live in workers: messages go through the inbox."""

    def __init__(self, inbox: ReplayInbox) -> None:
        self._inbox = inbox

    async def control(self, session: ReplaySession, control: ReplayControl) -> ReplaySession:
        expected = session.request(control)  # refuse here what the runner would refuse
        await self._inbox.put(session.replay_id, control)
        return expected

    async def submit(self, replay_id: str, command: Command) -> None:
        await self._inbox.put(replay_id, command)


@attrs.frozen
class ReplayView:
    """A session as the api shows it. last_candle: the bar it played last, if that is the bar just
    before its cursor (None before the first bar and right after a seek). last_price: what its
    orders are checked and filled at now (the close of the last stored bar before the cursor)."""

    session: ReplaySession
    last_candle: Candle | None = None
    last_price: Decimal | None = None

    def to_json(self) -> dict[str, object]:
        """The `GET /api/v1/replays/{replayId}` body: decimals as strings ('' when absent), times as epoch ms."""
        s = self.session
        return {
            "replayId": s.replay_id,
            "accountId": s.account_id,
            "symbol": s.symbol,
            "category": s.category.value,
            "state": s.state.value,
            "start": s.start_time,
            "clock": s.clock,
            "cursor": s.cursor,
            "speed": format(s.speed, "f"),
            "barsPlayed": s.bars_played,
            "lastCandle": None if self.last_candle is None else ReplayBar(s.replay_id, self.last_candle).kline(),
            "lastPrice": "" if self.last_price is None else money_str(self.last_price),
            "createdTime": s.created_time,
            "updatedTime": s.updated_time,
        }


class ReplayService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        accounts: AccountService,
        cache: BarCache,
        dispatch: ReplayDispatch,
        catalog: InstrumentCatalog,
        clock: Clock,
        ids: Callable[[], str],
        playing_quota: Quota | None = None,
    ) -> None:
        """`playing_quota`: how many of a user's sessions may play at once (each playing one costs the
        runner's time for as long as it plays); None: no limit (the library's use)."""
        self._uow = uow_factory
        self._playing_quota = playing_quota
        self._accounts = accounts
        self._cache = cache
        self._dispatch = dispatch
        self._catalog = catalog
        self._clock = clock
        self._ids = ids
        self._prices = ReplayPrices(cache)

    async def create(
        self,
        user_id: str,
        symbol: object,
        start: object,
        speed: object = "1",
        *,
        starting_balance: object = None,
        require_user: bool = False,
    ) -> ReplayView:
        """A paused session at `start` (epoch ms) on a new replay account of the user (who must exist,
        with `require_user`).

        Raises: InvalidInput, UnknownSymbol, NoHistory (nothing stored at or after `start`), Unauthenticated.
        """
        if not isinstance(symbol, str) or not symbol.strip():
            raise InvalidInput("symbol is required, e.g. BTCUSDT")
        symbol = symbol.strip().upper()
        self._catalog.get(symbol, Category.LINEAR)
        if isinstance(start, bool) or not isinstance(start, int) or start < 0:
            raise InvalidInput("start must be a time in epoch milliseconds")
        check_speed(speed)
        await self._require_history(symbol, start)
        account = await self._accounts.open(
            user_id,
            f"Replay {symbol} from {day_of(start).isoformat()}",
            starting_balance,
            kind=AccountKind.REPLAY,
            require_user=require_user,
        )
        session = ReplaySession.new(
            self._ids(), user_id, account.account_id, symbol, start, speed, self._clock.now_ms()
        )
        async with self._uow() as uow:
            await uow.replays.add(session)
            await uow.commit()
        return await self._view(session)

    async def get(self, user_id: str, replay_id: str) -> ReplayView:
        return await self._view(await self.owned(user_id, replay_id))

    async def list(self, user_id: str, *, limit: int = 100) -> list[ReplayView]:
        """Newest first; the views carry no last candle or price (`get` one for those)."""
        async with self._uow() as uow:
            return [ReplayView(s) for s in await uow.replays.list_by_user(user_id, limit=limit)]

    async def control(
        self, user_id: str, replay_id: str, action: object, *, to: object = None, speed: object = None
    ) -> ReplayView:
        """play | pause | step | seek (`to`, epoch ms) | speed (`speed`, bars per second).

        Raises: InvalidInput, NotFound, ReplayConflict, NoHistory (seeking past stored history).
        """
        control = ReplayControl.parse(action, to=to, speed=speed)
        session = await self.owned(user_id, replay_id)
        if control.action is ReplayAction.PLAY and session.state is not ReplayState.PLAYING:
            await self._check_playing_quota(user_id)
        if control.action is ReplayAction.SEEK:
            assert control.to is not None
            await self._require_history(session.symbol, control.to)
        updated = await self._dispatch.control(session, control)
        return await self._view(updated)

    async def _check_playing_quota(self, user_id: str) -> None:
        if self._playing_quota is None:
            return
        async with self._uow() as uow:
            sessions = await uow.replays.list_by_user(user_id, limit=10_000)
        self._playing_quota.check(sum(s.state is ReplayState.PLAYING for s in sessions))

    async def owned(self, user_id: str, replay_id: str) -> ReplaySession:
        """The stored session if it is the user's; `NotFound` for a missing one and another user's alike."""
        async with self._uow() as uow:
            session = await uow.replays.get(replay_id)
        if session is None or session.user_id != user_id:
            raise NotFound(f"replay {replay_id} not found")
        return session

    async def _require_history(self, symbol: str, start: int) -> None:
        async with self._uow() as uow:
            days = sorted(f.day for f in await uow.candle_files.list(symbol))
        first = day_of(start)
        if bisect_left(days, first) == len(days):
            raise NoHistory(
                f"no {symbol} history is stored on or after {first.isoformat()}"
                + (f" (stored: {days[0]} to {days[-1]})" if days else "")
                + f"; load it with `tradesim history backfill --symbol {symbol} --start {first} --end <date>`"
            )

    async def _view(self, session: ReplaySession) -> ReplayView:
        async with self._uow() as uow:
            price = await self._prices.last_price(uow, session)
        return ReplayView(session, await self._last_candle(session), price)

    async def _last_candle(self, session: ReplaySession) -> Candle | None:
        if session.last_bar_time is None or session.last_bar_time + MINUTE_MS != session.cursor:
            return None  # nothing played yet, or a seek moved the cursor away from it
        bars = await self._cache.day(session.symbol, day_of(session.last_bar_time))
        if bars is None:
            return None
        index = bars.index_from(session.last_bar_time)
        return bars.candle(index) if index < len(bars) and bars.open_time[index] == session.last_bar_time else None
