"""Live strategy deployments with their worker leases.

Revision ID: 0009
Revises: 0007 (the integrator points it at 0008, the strategy runs, at merge)
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "strategy_deployments",
        sa.Column("deployment_id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("strategy", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("timeframe", sa.Text(), nullable=False),
        sa.Column("hyperparameters", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("last_decision_time", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("updated_time", sa.BigInteger(), nullable=False),
        sa.Column("owner", sa.Text(), server_default="", nullable=False),
        sa.Column("lease_until", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("deployment_id", name="pk_strategy_deployments"),
    )
    op.create_index("ix_strategy_deployments_user_id_created_time", "strategy_deployments", ["user_id", "created_time"])
    op.create_index("ix_strategy_deployments_status_lease_until", "strategy_deployments", ["status", "lease_until"])
    running = sa.text("status = 'running'")
    op.create_index(
        "uq_strategy_deployments_running",
        "strategy_deployments",
        ["account_id", "symbol"],
        unique=True,
        postgresql_where=running,
        sqlite_where=running,
    )


def downgrade() -> None:
    op.drop_table("strategy_deployments")
