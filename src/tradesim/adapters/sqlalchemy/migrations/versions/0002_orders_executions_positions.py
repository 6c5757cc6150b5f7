"""Orders, executions and positions.

Revision ID: 0002
Revises: 0001
Create Date: 2024-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tradesim.adapters.sqlalchemy.types import ExactDecimal

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

HAS_LINK_ID = sa.text("order_link_id <> ''")
IS_OPEN = sa.text("status IN ('New', 'PartiallyFilled', 'Untriggered')")
UNACCEPTED = sa.text("accepted_time = 0")


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("side", sa.Text(), nullable=False),
        sa.Column("order_type", sa.Text(), nullable=False),
        sa.Column("qty", ExactDecimal(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("updated_time", sa.BigInteger(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("price", ExactDecimal(), nullable=True),
        sa.Column("time_in_force", sa.Text(), nullable=False),
        sa.Column("order_link_id", sa.Text(), nullable=False),
        sa.Column("reduce_only", sa.Boolean(), nullable=False),
        sa.Column("close_on_trigger", sa.Boolean(), nullable=False),
        sa.Column("trigger_price", ExactDecimal(), nullable=True),
        sa.Column("trigger_direction", sa.SmallInteger(), nullable=True),
        sa.Column("trigger_by", sa.Text(), nullable=False),
        sa.Column("take_profit", ExactDecimal(), nullable=True),
        sa.Column("stop_loss", ExactDecimal(), nullable=True),
        sa.Column("tp_trigger_by", sa.Text(), nullable=False),
        sa.Column("sl_trigger_by", sa.Text(), nullable=False),
        sa.Column("stop_order_type", sa.Text(), nullable=False),
        sa.Column("create_type", sa.Text(), nullable=False),
        sa.Column("cum_exec_qty", ExactDecimal(), nullable=False),
        sa.Column("cum_exec_value", ExactDecimal(), nullable=False),
        sa.Column("cum_exec_fee", ExactDecimal(), nullable=False),
        sa.Column("reject_reason", sa.Text(), nullable=False),
        sa.Column("reject_message", sa.Text(), nullable=False),
        sa.Column("cancel_type", sa.Text(), nullable=False),
        sa.Column("accepted_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name="pk_orders"),
    )
    op.create_index("ix_orders_account_id_created_time", "orders", ["account_id", "created_time"])
    op.create_index(
        "uq_orders_account_id_order_link_id",
        "orders",
        ["account_id", "order_link_id"],
        unique=True,
        postgresql_where=HAS_LINK_ID,
        sqlite_where=HAS_LINK_ID,
    )
    op.create_index("ix_orders_open", "orders", ["created_time"], postgresql_where=IS_OPEN, sqlite_where=IS_OPEN)
    op.create_index(
        "ix_orders_unaccepted", "orders", ["created_time"], postgresql_where=UNACCEPTED, sqlite_where=UNACCEPTED
    )
    op.create_table(
        "executions",
        sa.Column("exec_id", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("side", sa.Text(), nullable=False),
        sa.Column("exec_price", ExactDecimal(), nullable=False),
        sa.Column("exec_qty", ExactDecimal(), nullable=False),
        sa.Column("exec_fee", ExactDecimal(), nullable=False),
        sa.Column("fee_rate", ExactDecimal(), nullable=False),
        sa.Column("is_maker", sa.Boolean(), nullable=False),
        sa.Column("exec_time", sa.BigInteger(), nullable=False),
        sa.Column("order_type", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("exec_type", sa.Text(), nullable=False),
        sa.Column("closed_size", ExactDecimal(), nullable=False),
        sa.Column("exec_pnl", ExactDecimal(), nullable=False),
        sa.Column("order_link_id", sa.Text(), nullable=False),
        sa.Column("fee_coin", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("exec_id", name="pk_executions"),
    )
    op.create_index("ix_executions_account_id_exec_time", "executions", ["account_id", "exec_time"])
    op.create_index("ix_executions_order_id_exec_time", "executions", ["order_id", "exec_time"])
    op.create_table(
        "positions",
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("leverage", ExactDecimal(), nullable=False),
        sa.Column("margin_mode", sa.Text(), nullable=False),
        sa.Column("side", sa.Text(), nullable=True),
        sa.Column("size", ExactDecimal(), nullable=False),
        sa.Column("entry_value", ExactDecimal(), nullable=False),
        sa.Column("cum_realised_pnl", ExactDecimal(), nullable=False),
        sa.Column("take_profit", ExactDecimal(), nullable=True),
        sa.Column("stop_loss", ExactDecimal(), nullable=True),
        sa.Column("tp_trigger_by", sa.Text(), nullable=False),
        sa.Column("sl_trigger_by", sa.Text(), nullable=False),
        sa.Column("liq_price", ExactDecimal(), nullable=True),
        sa.Column("bust_price", ExactDecimal(), nullable=True),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("updated_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "symbol", name="pk_positions"),
    )


def downgrade() -> None:
    op.drop_table("positions")
    op.drop_table("executions")
    op.drop_table("orders")
