"""Strategy backtest runs, leased to workers like replay sessions.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tradesim.adapters.sqlalchemy.types import ExactDecimal

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "strategy_runs",
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("strategy", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("timeframe", sa.Text(), nullable=False),
        sa.Column("start_time", sa.BigInteger(), nullable=False),
        sa.Column("end_time", sa.BigInteger(), nullable=False),
        sa.Column("starting_balance", ExactDecimal(), nullable=False),
        sa.Column("leverage", sa.Integer(), nullable=False),
        sa.Column("hyperparameters", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("progress", ExactDecimal(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("updated_time", sa.BigInteger(), nullable=False),
        sa.Column("owner", sa.Text(), server_default="", nullable=False),
        sa.Column("lease_until", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("run_id", name="pk_strategy_runs"),
    )
    op.create_index("ix_strategy_runs_user_id_created_time", "strategy_runs", ["user_id", "created_time"])
    op.create_index("ix_strategy_runs_status_lease_until", "strategy_runs", ["status", "lease_until"])


def downgrade() -> None:
    op.drop_table("strategy_runs")
