"""Every table of the schema, for the migrations' autogenerate and the schema checks."""

from __future__ import annotations

from tradesim.adapters.sqlalchemy import accounts, journal, market, orders, positions, users
from tradesim.adapters.sqlalchemy.metadata import metadata

__all__ = ["accounts", "journal", "market", "metadata", "orders", "positions", "users"]
