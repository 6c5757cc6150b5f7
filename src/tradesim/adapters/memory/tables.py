"""The committed state of the in-memory database."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs

from tradesim.domain.accounts import Account
from tradesim.domain.api_keys import ApiKey
from tradesim.domain.commands import RecordedCommand
from tradesim.domain.executions import Execution, LedgerEntry
from tradesim.domain.history import CandleFile
from tradesim.domain.journal import Attachment, JournalEntry
from tradesim.domain.market import Candle
from tradesim.domain.orders import Order
from tradesim.domain.positions import Position
from tradesim.domain.replay_session import ReplaySession
from tradesim.domain.strategy_deployment import StrategyDeployment
from tradesim.domain.strategy_runs import StrategyRun
from tradesim.domain.users import RefreshToken, User


@attrs.define
class Tables:
    users: dict[str, User] = attrs.field(factory=dict)
    accounts: dict[str, Account] = attrs.field(factory=dict)
    balances: dict[tuple[str, str], Decimal] = attrs.field(factory=dict)
    ledger: dict[str, LedgerEntry] = attrs.field(factory=dict)
    orders: dict[str, Order] = attrs.field(factory=dict)
    executions: dict[str, Execution] = attrs.field(factory=dict)
    positions: dict[tuple[str, str], Position] = attrs.field(factory=dict)
    candles: dict[tuple[str, str, str, int], Candle] = attrs.field(factory=dict)
    candle_files: dict[tuple[str, str, date], CandleFile] = attrs.field(factory=dict)
    refresh_tokens: dict[str, RefreshToken] = attrs.field(factory=dict)
    journal: dict[str, JournalEntry] = attrs.field(factory=dict)
    attachments: dict[str, Attachment] = attrs.field(factory=dict)
    replays: dict[str, ReplaySession] = attrs.field(factory=dict)
    #: command id -> (the command, when it was recorded)
    pending_commands: dict[str, tuple[RecordedCommand, int]] = attrs.field(factory=dict)
    api_keys: dict[str, ApiKey] = attrs.field(factory=dict)
    strategy_runs: dict[str, StrategyRun] = attrs.field(factory=dict)
    deployments: dict[str, StrategyDeployment] = attrs.field(factory=dict)

    def copy(self) -> Tables:
        # Records are immutable, so copying the dicts isolates a transaction completely.
        return Tables(**{f.name: dict(getattr(self, f.name)) for f in attrs.fields(Tables)})


class MemoryDatabase:
    """Shared by every unit of work made from it.

    `available = False` simulates an outage; `commits_fail = True` an outage that starts in the
    middle of a transaction (it opens, then the commit fails).
    """

    def __init__(self) -> None:
        self.tables = Tables()
        self.available = True
        self.commits_fail = False
