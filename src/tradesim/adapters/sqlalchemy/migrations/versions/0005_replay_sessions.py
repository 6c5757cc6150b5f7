"""Bar Replay sessions with their runner leases.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tradesim.adapters.sqlalchemy.types import ExactDecimal

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "replay_sessions",
        sa.Column("replay_id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("start_time", sa.BigInteger(), nullable=False),
        sa.Column("cursor", sa.BigInteger(), nullable=False),
        sa.Column("clock", sa.BigInteger(), nullable=False),
        sa.Column("last_bar_time", sa.BigInteger(), nullable=True),
        sa.Column("speed", ExactDecimal(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("bars_played", sa.BigInteger(), nullable=False),
        sa.Column("id_seq", sa.BigInteger(), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("updated_time", sa.BigInteger(), nullable=False),
        sa.Column("owner", sa.Text(), server_default="", nullable=False),
        sa.Column("lease_until", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("replay_id", name="pk_replay_sessions"),
        sa.UniqueConstraint("account_id", name="uq_replay_sessions_account_id"),
    )
    op.create_index("ix_replay_sessions_user_id_created_time", "replay_sessions", ["user_id", "created_time"])
    op.create_index("ix_replay_sessions_state_lease_until", "replay_sessions", ["state", "lease_until"])


def downgrade() -> None:
    op.drop_table("replay_sessions")
