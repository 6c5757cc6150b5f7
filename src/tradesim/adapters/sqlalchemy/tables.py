"""Every table of the schema, for the migrations' autogenerate and the schema checks."""

from __future__ import annotations

from tradesim.adapters.sqlalchemy import (
    accounts,
    api_keys,
    journal,
    market,
    orders,
    pending_commands,
    positions,
    replays,
    strategy_deployments,
    strategy_runs,
    users,
)
from tradesim.adapters.sqlalchemy.metadata import metadata

__all__ = [
    "accounts",
    "api_keys",
    "include_name",
    "journal",
    "market",
    "metadata",
    "orders",
    "pending_commands",
    "positions",
    "replays",
    "strategy_deployments",
    "strategy_runs",
    "users",
]


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """For comparing the database with `metadata`: the monthly partitions of `market_candles`
    are made at run time, not by migrations, so they are not part of the declared schema."""
    return not (type_ == "table" and name is not None and name.startswith("market_candles_"))
