"""Repositories: collections of domain records. They never commit; the unit of work does."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Protocol

import attrs

from tradesim.domain.accounts import Account
from tradesim.domain.api_keys import ApiKey
from tradesim.domain.commands import RecordedCommand
from tradesim.domain.executions import Execution, LedgerEntry
from tradesim.domain.history import CandleFile
from tradesim.domain.journal import Attachment, JournalEntry
from tradesim.domain.market import Candle
from tradesim.domain.orders import Order
from tradesim.domain.outcomes import Outcome
from tradesim.domain.positions import Position
from tradesim.domain.replay_session import ReplaySession
from tradesim.domain.strategy_deployment import DeploymentStatus, StrategyDeployment
from tradesim.domain.users import RefreshToken, User


class UserRepository(Protocol):
    async def add(self, user: User) -> None:
        """Raises `DuplicateEmail` when the email is taken."""
        ...

    async def get(self, user_id: str) -> User | None: ...

    async def get_by_email(self, email: str) -> User | None: ...


class AccountRepository(Protocol):
    async def add(self, account: Account) -> None: ...

    async def get(self, account_id: str) -> Account | None: ...

    async def list_by_user(self, user_id: str) -> list[Account]: ...

    async def list_all(self) -> list[Account]: ...


class BalanceRepository(Protocol):
    """Current balance per (account, coin). Only ever moved by `apply`, with a ledger entry beside it."""

    async def get(self, account_id: str) -> dict[str, Decimal]: ...

    async def get_many(self, account_ids: Collection[str]) -> dict[str, dict[str, Decimal]]:
        """`get` for many accounts in one read: every id asked for is a key ({} when it holds nothing)."""
        ...

    async def apply(self, account_id: str, coin: str, delta: Decimal) -> Decimal:
        """Add `delta` atomically (safe against concurrent writers) and return the new balance."""
        ...

    async def apply_many(self, deltas: Mapping[tuple[str, str], Decimal]) -> dict[tuple[str, str], Decimal]:
        """`apply` for each (account, coin) in one statement; the new balances by (account, coin).

        Rows are moved in sorted key order, so that concurrent callers lock them in one order.
        """
        ...


class LedgerRepository(Protocol):
    async def add(self, entry: LedgerEntry) -> bool:
        """Insert; False (and no change) when an entry with this id exists already."""
        ...

    async def add_many(self, entries: Sequence[LedgerEntry]) -> set[str]:
        """`add` for many entries in one statement; the ids of those inserted.

        An entry whose id is stored already, or repeats an earlier one of `entries`, is skipped.
        """
        ...

    async def list_by_account(self, account_id: str, *, limit: int = 100) -> list[LedgerEntry]:
        """Newest first."""
        ...

    async def total(self, account_id: str, coin: str) -> Decimal: ...


class OrderRepository(Protocol):
    async def add_new_many(self, orders: Sequence[Order]) -> set[str]:
        """Insert, in one statement, the orders that take no unique key already taken (an
        `order_id`, or an `orderLinkId` on its account, stored or earlier in `orders`); the ids of
        those inserted. Nothing is inserted when it fails."""
        ...

    async def save(self, order: Order) -> None:
        """Insert or replace by `order_id`."""
        ...

    async def save_many(self, orders: Sequence[Order]) -> None:
        """`save` for many orders in one statement; of two with one `order_id`, the later wins."""
        ...

    async def get(self, order_id: str) -> Order | None: ...

    async def taken_in(self, order_ids: Collection[str]) -> set[str]:
        """Those of `order_ids` whose stored order an engine has already taken in (it has an
        `accepted_time`, or it has ended), in one read of three columns rather than whole orders:
        the worker's check against redeliveries, once per batch."""
        ...

    async def get_by_link_id(self, account_id: str, order_link_id: str) -> Order | None: ...

    async def list_by_account(self, account_id: str, *, open_only: bool = False, limit: int = 100) -> list[Order]:
        """Newest first."""
        ...

    async def list_open(self, account_ids: Sequence[str] | None = None) -> list[Order]:
        """Open orders (New, PartiallyFilled, Untriggered), for rebuilding an engine."""
        ...

    async def list_unaccepted(self, created_before: int, *, limit: int = 1000) -> list[Order]:
        """Orders recorded but not yet taken in by an engine (`accepted_time` 0), oldest first."""
        ...


class ExecutionRepository(Protocol):
    async def add(self, execution: Execution) -> bool:
        """Insert; False (and no change) when an execution with this id exists already."""
        ...

    async def add_many(self, executions: Sequence[Execution]) -> set[str]:
        """`add` for many executions in one statement; the exec ids of those inserted.

        An execution whose id is stored already, or repeats an earlier one, is skipped.
        """
        ...

    async def list_by_account(self, account_id: str, *, limit: int = 100) -> list[Execution]:
        """Newest first."""
        ...

    async def list_by_order(self, order_id: str) -> list[Execution]: ...


class PositionRepository(Protocol):
    async def save(self, position: Position) -> None:
        """Insert or replace by (account, symbol)."""
        ...

    async def save_many(self, positions: Sequence[Position]) -> None:
        """`save` for many positions in one statement; of two with one (account, symbol), the later wins."""
        ...

    async def get(self, account_id: str, symbol: str) -> Position | None: ...

    async def list_by_account(self, account_id: str) -> list[Position]: ...


@attrs.frozen
class BatchInputs:
    """What an engine needs read before it applies a batch of commands."""

    #: The orders of the batch an engine has taken in already (`OrderRepository.taken_in`).
    taken_in: frozenset[str]
    #: The balances of the accounts the batch names, each one asked for ({} when it holds nothing).
    balances: Mapping[str, Mapping[str, Decimal]]


class BatchInputRepository(Protocol):
    async def read(self, order_ids: Collection[str], account_ids: Collection[str]) -> BatchInputs:
        """`OrderRepository.taken_in(order_ids)` and `BalanceRepository.get_many(account_ids)`
        together, in one read where the store allows: a worker reads both before every batch."""
        ...


class OutcomeRepository(Protocol):
    async def record(self, outcome: Outcome) -> None:
        """Store what a batch of engine events left: the entries and executions not stored yet
        (one stored already is skipped, an entry together with its amount), each balance moved
        by the sum of its newly stored entries (rows locked in key order, so that concurrent
        writers cannot deadlock), the orders and positions in their given state. Inside the
        unit of work's transaction; on PostgreSQL it is one statement, all or nothing even in
        a single-statement unit of work (the composition root's `outcome_unit_of_work`)."""
        ...


class CandleRepository(Protocol):
    """The `market_candles` table: closed 1m candles written by the streamer."""

    async def upsert(self, candles: Sequence[Candle]) -> int:
        """Insert or replace by (category, symbol, interval, open_time); returns how many were written."""
        ...

    async def range(self, symbol: str, start_ms: int, end_ms: int, *, interval: str = "1m") -> list[Candle]:
        """Candles with start <= open_time < end, ascending."""
        ...


class CandleFileIndex(Protocol):
    """The `candle_files` table: which days of history exist in the object store."""

    async def record(self, entry: CandleFile) -> None:
        """Insert or replace by (category, symbol, day)."""
        ...

    async def get(self, symbol: str, day: date) -> CandleFile | None: ...

    async def list(self, symbol: str) -> list[CandleFile]: ...


class ReplayRepository(Protocol):
    """Bar Replay sessions (table `replay_sessions`).

    The lease columns (`owner`, `lease_until`) belong to `claim` and `release` alone: `add`
    writes them as given, `save` leaves them as they are, so a runner saving its progress can
    never overwrite another runner's claim.
    """

    async def add(self, session: ReplaySession) -> None: ...

    async def get(self, replay_id: str) -> ReplaySession | None: ...

    async def get_by_account(self, account_id: str) -> ReplaySession | None: ...

    async def save(self, session: ReplaySession) -> None:
        """Replace every field but `owner` and `lease_until`, by `replay_id`."""
        ...

    async def list_by_user(self, user_id: str, *, limit: int = 100) -> list[ReplaySession]:
        """Newest first (by `created_time`)."""
        ...

    async def list_unowned(self, now_ms: int, *, limit: int = 100) -> list[ReplaySession]:
        """Unfinished sessions whose lease has expired (`lease_until <= now_ms`), least recently updated first."""
        ...

    async def claim(self, replay_id: str, owner: str, now_ms: int, until_ms: int) -> bool:
        """Take or renew the lease, atomically against other runners.

        Succeeds (sets `owner` and `lease_until = until_ms`) when the session's lease has
        expired or `owner` already holds it; False when another owner holds a live lease or
        there is no such session. In SQL: one ``UPDATE ... WHERE replay_id = :id AND
        (owner = :owner OR lease_until <= :now)``.
        """
        ...

    async def release(self, replay_id: str, owner: str) -> None:
        """Give the lease up (owner '' and lease_until 0) if `owner` holds it."""
        ...


class StrategyDeploymentRepository(Protocol):
    """Live strategy deployments (table `strategy_deployments`).

    Nothing here overwrites a whole record: the api changes a status (`change_status`), the
    worker running a deployment records its decisions (`record_decision`), and the lease columns
    belong to `claim` and `release` alone; each is one conditional UPDATE, so a stop the api
    records is never undone by a worker saving its progress.
    """

    async def add(self, deployment: StrategyDeployment) -> None:
        """Raises `DeploymentExists` when the account runs a deployment on the symbol already,
        `Conflict` when the id is taken."""
        ...

    async def get(self, deployment_id: str) -> StrategyDeployment | None: ...

    async def list_by_user(self, user_id: str, *, limit: int = 100) -> list[StrategyDeployment]:
        """Newest first (by `created_time`)."""
        ...

    async def change_status(self, changed: StrategyDeployment, expected: DeploymentStatus) -> bool:
        """Write `changed`'s status, error and updated_time if the stored status is `expected`."""
        ...

    async def record_decision(self, deployment_id: str, owner: str, bar_close_ms: int, now_ms: int) -> bool:
        """Set `last_decision_time` if the deployment is running and `owner` holds its lease."""
        ...

    async def list_claimable(self, owner: str, now_ms: int, *, limit: int = 100) -> list[StrategyDeployment]:
        """Running deployments whose lease has expired or that `owner` holds, least recently updated first."""
        ...

    async def claim(self, deployment_id: str, owner: str, now_ms: int, until_ms: int) -> bool:
        """Take or renew the lease of a running deployment, atomically against other workers
        (as `ReplayRepository.claim`); False when another owner holds a live lease, or it is not running."""
        ...

    async def release(self, deployment_id: str, owner: str) -> None:
        """Give the lease up (owner '' and lease_until 0) if `owner` holds it."""
        ...


class PendingCommandRepository(Protocol):
    """Commands the api answered for and queued, until an engine applies them (an outbox).

    Removing a command's record belongs in the transaction that commits the command's outcome:
    the command is applied by the transaction that removed its record, and by no other. A copy
    that comes later (a redelivery, a sweeper's copy) finds no record and is skipped.
    """

    async def add(self, command: RecordedCommand, created_time: int) -> None:
        """Record `command` under its `command_id`.

        Raises:
            InvalidInput: `command_id` is empty. Conflict: a command with this id is recorded.
        """
        ...

    async def remove_many(self, command_ids: Collection[str]) -> set[str]:
        """Delete the records of `command_ids` in one statement; the ids that were recorded.

        A concurrent transaction removing the same ids waits for this one, then finds them gone
        (PostgreSQL's row locks; SQLite runs one writing transaction at a time).
        """
        ...

    async def list_waiting(self, created_before: int, *, limit: int = 1000) -> list[RecordedCommand]:
        """Commands recorded before `created_before` and still there, oldest first (the sweeper's scan)."""
        ...


class RefreshTokenRepository(Protocol):
    async def add(self, token: RefreshToken) -> None: ...

    async def get(self, token_id: str) -> RefreshToken | None: ...

    async def save(self, token: RefreshToken) -> None:
        """Replace by `token_id` (to mark it revoked or replaced)."""
        ...

    async def revoke_family(self, family_id: str) -> int:
        """Revoke every token of a login; returns how many were still live."""
        ...

    async def rotate(self, token_id: str, successor: RefreshToken) -> bool:
        """Mark `token_id` replaced by `successor` and insert `successor`, only while `token_id` is live.

        Atomic against concurrent rotations of the same token (a conditional update in SQL): of two
        transactions rotating one token, at most one commits a successor. Returns False, changing
        nothing, when the token is missing, revoked or already replaced. A rotation that loses a race
        at commit raises `Conflict`.
        """
        ...


class JournalRepository(Protocol):
    async def add(self, entry: JournalEntry) -> None: ...

    async def get(self, entry_id: str) -> JournalEntry | None:
        """With its attachments."""
        ...

    async def save(self, entry: JournalEntry) -> None:
        """Replace the entry's own fields by `entry_id` (attachments are managed separately)."""
        ...

    async def delete(self, entry_id: str) -> None:
        """Delete the entry and its attachment records (the blobs are the caller's)."""
        ...

    async def list_by_user(
        self, user_id: str, *, account_id: str | None = None, tag: str | None = None, limit: int = 100
    ) -> list[JournalEntry]:
        """Newest first (by `created_time`)."""
        ...

    async def add_attachment(self, attachment: Attachment) -> None: ...

    async def delete_attachment(self, attachment_id: str) -> None: ...


class ApiKeyRepository(Protocol):
    async def add(self, key: ApiKey) -> None:
        """Raises `Conflict` when its `api_key_id` or its `api_key` is taken."""
        ...

    async def get(self, api_key_id: str) -> ApiKey | None: ...

    async def get_by_key(self, api_key: str) -> ApiKey | None:
        """By the public key a client sends, revoked or not."""
        ...

    async def list_by_user(self, user_id: str) -> list[ApiKey]:
        """Revoked ones too, oldest first."""
        ...

    async def revoke(self, api_key_id: str, revoked_time: int) -> bool:
        """Mark the key revoked at `revoked_time`; False (and no change) when it is missing or
        revoked already."""
        ...
