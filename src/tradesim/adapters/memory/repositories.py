"""Repositories over `Tables`. Each write applies to the transaction's copy and is logged for commit."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date
from decimal import Decimal

import attrs

from tradesim.adapters.memory.tables import Tables
from tradesim.domain.accounts import Account
from tradesim.domain.enums import OrderStatus
from tradesim.domain.errors import Conflict
from tradesim.domain.executions import Execution, LedgerEntry
from tradesim.domain.history import CandleFile
from tradesim.domain.journal import Attachment, JournalEntry
from tradesim.domain.market import Candle
from tradesim.domain.numbers import ZERO
from tradesim.domain.orders import Order
from tradesim.domain.outcomes import Outcome, balance_moves
from tradesim.domain.positions import Position
from tradesim.domain.users import RefreshToken, User
from tradesim.ports.errors import DuplicateEmail
from tradesim.ports.repositories import BatchInputs

Op = Callable[[Tables], None]


class _Repo:
    def __init__(self, work: Tables, log: list[Op]) -> None:
        self._work = work
        self._log = log

    def _write(self, op: Op) -> None:
        op(self._work)
        self._log.append(op)


class MemoryUserRepository(_Repo):
    async def add(self, user: User) -> None:
        def op(t: Tables) -> None:
            if any(u.email == user.email for u in t.users.values()):
                raise DuplicateEmail(f"an account with email {user.email} already exists")
            t.users[user.user_id] = user

        self._write(op)

    async def get(self, user_id: str) -> User | None:
        return self._work.users.get(user_id)

    async def get_by_email(self, email: str) -> User | None:
        wanted = email.lower()
        return next((u for u in self._work.users.values() if u.email == wanted), None)


class MemoryAccountRepository(_Repo):
    async def add(self, account: Account) -> None:
        self._write(lambda t: t.accounts.__setitem__(account.account_id, account))

    async def get(self, account_id: str) -> Account | None:
        return self._work.accounts.get(account_id)

    async def list_by_user(self, user_id: str) -> list[Account]:
        return sorted((a for a in self._work.accounts.values() if a.user_id == user_id), key=lambda a: a.created_time)

    async def list_all(self) -> list[Account]:
        return sorted(self._work.accounts.values(), key=lambda a: a.created_time)


class MemoryBalanceRepository(_Repo):
    async def get(self, account_id: str) -> dict[str, Decimal]:
        return {coin: v for (acct, coin), v in self._work.balances.items() if acct == account_id}

    async def get_many(self, account_ids: Collection[str]) -> dict[str, dict[str, Decimal]]:
        found: dict[str, dict[str, Decimal]] = {account_id: {} for account_id in account_ids}
        for (account_id, coin), amount in self._work.balances.items():
            if account_id in found:
                found[account_id][coin] = amount
        return found

    async def apply(self, account_id: str, coin: str, delta: Decimal) -> Decimal:
        def op(t: Tables) -> None:
            t.balances[(account_id, coin)] = t.balances.get((account_id, coin), ZERO) + delta

        self._write(op)
        return self._work.balances[(account_id, coin)]

    async def apply_many(self, deltas: Mapping[tuple[str, str], Decimal]) -> dict[tuple[str, str], Decimal]:
        return {(a, c): await self.apply(a, c, deltas[(a, c)]) for a, c in sorted(deltas)}


class MemoryLedgerRepository(_Repo):
    async def add(self, entry: LedgerEntry) -> bool:
        if entry.entry_id in self._work.ledger:
            return False

        def op(t: Tables) -> None:
            if entry.entry_id in t.ledger:
                raise Conflict(f"ledger entry {entry.entry_id} was written by a concurrent transaction")
            t.ledger[entry.entry_id] = entry

        self._write(op)
        return True

    async def add_many(self, entries: Sequence[LedgerEntry]) -> set[str]:
        return {e.entry_id for e in entries if await self.add(e)}

    async def list_by_account(self, account_id: str, *, limit: int = 100) -> list[LedgerEntry]:
        entries = [e for e in self._work.ledger.values() if e.account_id == account_id]
        return list(reversed(entries))[:limit]

    async def total(self, account_id: str, coin: str) -> Decimal:
        return sum(
            (e.amount for e in self._work.ledger.values() if e.account_id == account_id and e.coin == coin), ZERO
        )


class MemoryBatchInputRepository:
    def __init__(self, orders: MemoryOrderRepository, balances: MemoryBalanceRepository) -> None:
        self._orders = orders
        self._balances = balances

    async def read(self, order_ids: Collection[str], account_ids: Collection[str]) -> BatchInputs:
        taken_in = await self._orders.taken_in(order_ids)
        return BatchInputs(frozenset(taken_in), await self._balances.get_many(account_ids))


class MemoryOrderRepository(_Repo):
    async def add_new_many(self, orders: Sequence[Order]) -> set[str]:
        inserted: set[str] = set()

        def op(t: Tables) -> None:
            links = {(o.account_id, o.order_link_id) for o in t.orders.values() if o.order_link_id}
            for order in orders:
                link = (order.account_id, order.order_link_id)
                if order.order_id in t.orders or (order.order_link_id and link in links):
                    continue
                t.orders[order.order_id] = order
                inserted.add(order.order_id)
                if order.order_link_id:
                    links.add(link)

        self._write(op)
        return inserted

    async def save(self, order: Order) -> None:
        self._write(lambda t: t.orders.__setitem__(order.order_id, order))

    async def save_many(self, orders: Sequence[Order]) -> None:
        for order in orders:
            await self.save(order)

    async def get(self, order_id: str) -> Order | None:
        return self._work.orders.get(order_id)

    async def taken_in(self, order_ids: Collection[str]) -> set[str]:
        stored = (self._work.orders.get(i) for i in order_ids)
        return {o.order_id for o in stored if o is not None and (o.accepted_time or o.status.is_terminal)}

    async def get_by_link_id(self, account_id: str, order_link_id: str) -> Order | None:
        return next(
            (o for o in self._work.orders.values() if o.account_id == account_id and o.order_link_id == order_link_id),
            None,
        )

    async def list_by_account(self, account_id: str, *, open_only: bool = False, limit: int = 100) -> list[Order]:
        orders = [
            o for o in self._work.orders.values() if o.account_id == account_id and (not open_only or o.status.is_open)
        ]
        orders.sort(key=lambda o: (o.created_time, o.order_id), reverse=True)
        return orders[:limit]

    async def list_open(self, account_ids: Sequence[str] | None = None) -> list[Order]:
        wanted = set(account_ids) if account_ids is not None else None
        return sorted(
            (o for o in self._work.orders.values() if o.status.is_open and (wanted is None or o.account_id in wanted)),
            key=lambda o: (o.created_time, o.order_id),
        )

    async def list_unaccepted(self, created_before: int, *, limit: int = 1000) -> list[Order]:
        pending = (OrderStatus.NEW, OrderStatus.UNTRIGGERED)
        found = [
            o
            for o in self._work.orders.values()
            if o.accepted_time == 0 and o.status in pending and o.created_time < created_before
        ]
        return sorted(found, key=lambda o: (o.created_time, o.order_id))[:limit]


class MemoryExecutionRepository(_Repo):
    async def add(self, execution: Execution) -> bool:
        if execution.exec_id in self._work.executions:
            return False

        def op(t: Tables) -> None:
            if execution.exec_id in t.executions:
                raise Conflict(f"execution {execution.exec_id} was written by a concurrent transaction")
            t.executions[execution.exec_id] = execution

        self._write(op)
        return True

    async def add_many(self, executions: Sequence[Execution]) -> set[str]:
        return {e.exec_id for e in executions if await self.add(e)}

    async def list_by_account(self, account_id: str, *, limit: int = 100) -> list[Execution]:
        found = [e for e in self._work.executions.values() if e.account_id == account_id]
        found.sort(key=lambda e: (e.exec_time, e.exec_id), reverse=True)
        return found[:limit]

    async def list_by_order(self, order_id: str) -> list[Execution]:
        found = [e for e in self._work.executions.values() if e.order_id == order_id]
        return sorted(found, key=lambda e: (e.exec_time, e.exec_id))


class MemoryPositionRepository(_Repo):
    async def save(self, position: Position) -> None:
        self._write(lambda t: t.positions.__setitem__((position.account_id, position.symbol), position))

    async def save_many(self, positions: Sequence[Position]) -> None:
        for position in positions:
            await self.save(position)

    async def get(self, account_id: str, symbol: str) -> Position | None:
        return self._work.positions.get((account_id, symbol))

    async def list_by_account(self, account_id: str) -> list[Position]:
        return sorted((p for (a, _), p in self._work.positions.items() if a == account_id), key=lambda p: p.symbol)


class MemoryCandleRepository(_Repo):
    async def upsert(self, candles: Sequence[Candle]) -> int:
        def op(t: Tables) -> None:
            for c in candles:
                t.candles[(c.category.value, c.symbol, c.interval, c.open_time)] = c

        self._write(op)
        return len(candles)

    async def range(self, symbol: str, start_ms: int, end_ms: int, *, interval: str = "1m") -> list[Candle]:
        found = [
            c
            for (_, s, i, t), c in self._work.candles.items()
            if s == symbol and i == interval and start_ms <= t < end_ms
        ]
        return sorted(found, key=lambda c: c.open_time)


class MemoryCandleFileIndex(_Repo):
    async def record(self, entry: CandleFile) -> None:
        self._write(lambda t: t.candle_files.__setitem__((entry.category, entry.symbol, entry.day), entry))

    async def get(self, symbol: str, day: date) -> CandleFile | None:
        return next((f for (_, s, d), f in self._work.candle_files.items() if s == symbol and d == day), None)

    async def list(self, symbol: str) -> list[CandleFile]:
        return sorted((f for (_, s, _d), f in self._work.candle_files.items() if s == symbol), key=lambda f: f.day)


class MemoryRefreshTokenRepository(_Repo):
    async def add(self, token: RefreshToken) -> None:
        self._write(lambda t: t.refresh_tokens.__setitem__(token.token_id, token))

    async def get(self, token_id: str) -> RefreshToken | None:
        return self._work.refresh_tokens.get(token_id)

    async def save(self, token: RefreshToken) -> None:
        self._write(lambda t: t.refresh_tokens.__setitem__(token.token_id, token))

    async def revoke_family(self, family_id: str) -> int:
        live = [k for k, v in self._work.refresh_tokens.items() if v.family_id == family_id and not v.revoked]

        def op(t: Tables) -> None:
            for key, token in list(t.refresh_tokens.items()):
                if token.family_id == family_id and not token.revoked:
                    t.refresh_tokens[key] = attrs.evolve(token, revoked=True)

        self._write(op)
        return len(live)

    async def rotate(self, token_id: str, successor: RefreshToken) -> bool:
        def live(t: Tables) -> bool:
            current = t.refresh_tokens.get(token_id)
            return current is not None and not current.revoked and not current.replaced_by

        if not live(self._work):
            return False

        def op(t: Tables) -> None:
            if not live(t):
                raise Conflict(f"refresh token {token_id} was rotated or revoked by a concurrent transaction")
            t.refresh_tokens[token_id] = attrs.evolve(t.refresh_tokens[token_id], replaced_by=successor.token_id)
            t.refresh_tokens[successor.token_id] = successor

        self._write(op)
        return True


class MemoryJournalRepository(_Repo):
    async def add(self, entry: JournalEntry) -> None:
        self._write(lambda t: t.journal.__setitem__(entry.entry_id, attrs.evolve(entry, attachments=())))

    async def get(self, entry_id: str) -> JournalEntry | None:
        entry = self._work.journal.get(entry_id)
        return None if entry is None else self._with_attachments(entry)

    async def save(self, entry: JournalEntry) -> None:
        self._write(lambda t: t.journal.__setitem__(entry.entry_id, attrs.evolve(entry, attachments=())))

    async def delete(self, entry_id: str) -> None:
        def op(t: Tables) -> None:
            t.journal.pop(entry_id, None)
            for key in [k for k, a in t.attachments.items() if a.entry_id == entry_id]:
                del t.attachments[key]

        self._write(op)

    async def list_by_user(
        self, user_id: str, *, account_id: str | None = None, tag: str | None = None, limit: int = 100
    ) -> list[JournalEntry]:
        found = [
            e
            for e in self._work.journal.values()
            if e.user_id == user_id
            and (account_id is None or e.account_id == account_id)
            and (tag is None or tag.lower() in e.tags)
        ]
        found.sort(key=lambda e: (e.created_time, e.entry_id), reverse=True)
        return [self._with_attachments(e) for e in found[:limit]]

    async def add_attachment(self, attachment: Attachment) -> None:
        self._write(lambda t: t.attachments.__setitem__(attachment.attachment_id, attachment))

    async def delete_attachment(self, attachment_id: str) -> None:
        def op(t: Tables) -> None:
            t.attachments.pop(attachment_id, None)

        self._write(op)

    def _with_attachments(self, entry: JournalEntry) -> JournalEntry:
        attached = sorted(
            (a for a in self._work.attachments.values() if a.entry_id == entry.entry_id),
            key=lambda a: (a.created_time, a.attachment_id),
        )
        return attrs.evolve(entry, attachments=tuple(attached))


class MemoryOutcomeRepository(_Repo):
    async def record(self, outcome: Outcome) -> None:
        work, log = self._work, self._log
        stored = await MemoryLedgerRepository(work, log).add_many(outcome.entries)
        await MemoryExecutionRepository(work, log).add_many(outcome.executions)
        moves = balance_moves(e for e in outcome.entries if e.entry_id in stored)
        await MemoryBalanceRepository(work, log).apply_many(moves)
        await MemoryOrderRepository(work, log).save_many(outcome.orders)
        await MemoryPositionRepository(work, log).save_many(outcome.positions)
