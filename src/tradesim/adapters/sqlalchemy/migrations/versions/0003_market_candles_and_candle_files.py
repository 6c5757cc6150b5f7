"""Market candles (monthly partitions on PostgreSQL) and the candle-file index.

Revision ID: 0003
Revises: 0002
Create Date: 2024-11-25

On PostgreSQL, `market_candles` is partitioned by RANGE on `open_time` (epoch ms), one
partition per UTC month named `market_candles_yYYYYmMM`, without a default partition (a
default partition holding rows of a month would stop that month's partition from ever being
created). `tradesim_ensure_candle_partitions(from_ms, to_ms)` creates the months covering a
range: the adapter calls it before writing to a month it has not seen, and this migration
calls it for the current and the next month. No extension is needed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tradesim.adapters.sqlalchemy.types import ExactDecimal

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ENSURE_PARTITIONS = """
CREATE OR REPLACE FUNCTION tradesim_ensure_candle_partitions(from_ms bigint, to_ms bigint)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    v_month timestamp := date_trunc('month', to_timestamp(from_ms / 1000.0) AT TIME ZONE 'UTC');
    v_last timestamp := date_trunc('month', to_timestamp(to_ms / 1000.0) AT TIME ZONE 'UTC');
    v_name text;
    created integer := 0;
BEGIN
    IF v_last > v_month + interval '1200 months' THEN
        RAISE EXCEPTION 'refusing to create more than 1200 monthly partitions (% to %)', from_ms, to_ms;
    END IF;
    -- One creator at a time: two writers reaching a new month together must not collide.
    PERFORM pg_advisory_xact_lock(hashtext('tradesim_ensure_candle_partitions'));
    WHILE v_month <= v_last LOOP
        v_name := 'market_candles_y' || to_char(v_month, 'YYYY') || 'm' || to_char(v_month, 'MM');
        IF to_regclass(v_name) IS NULL THEN
            -- Create, then ATTACH: attaching takes a lock that readers and writers of the parent
            -- do not wait for (CREATE TABLE ... PARTITION OF would block them all).
            EXECUTE format('CREATE TABLE %I (LIKE market_candles INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', v_name);
            EXECUTE format(
                'ALTER TABLE market_candles ATTACH PARTITION %I FOR VALUES FROM (%s) TO (%s)',
                v_name,
                (extract(epoch FROM v_month AT TIME ZONE 'UTC') * 1000)::bigint,
                (extract(epoch FROM (v_month + interval '1 month') AT TIME ZONE 'UTC') * 1000)::bigint
            );
            created := created + 1;
        END IF;
        v_month := v_month + interval '1 month';
    END LOOP;
    RETURN created;
END;
$$
"""

ENSURE_THIS_AND_NEXT_MONTH = """
SELECT tradesim_ensure_candle_partitions(
    (extract(epoch FROM now()) * 1000)::bigint,
    (extract(epoch FROM now() + interval '1 month') * 1000)::bigint
)
"""


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "market_candles",
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("interval", sa.Text(), nullable=False),
        sa.Column("open_time", sa.BigInteger(), nullable=False),
        sa.Column("open", ExactDecimal(), nullable=False),
        sa.Column("high", ExactDecimal(), nullable=False),
        sa.Column("low", ExactDecimal(), nullable=False),
        sa.Column("close", ExactDecimal(), nullable=False),
        sa.Column("volume", ExactDecimal(), nullable=False),
        sa.Column("turnover", ExactDecimal(), nullable=True),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("symbol", "interval", "open_time", "category", name="pk_market_candles"),
        postgresql_partition_by="RANGE (open_time)",
    )
    if postgres:
        op.execute(ENSURE_PARTITIONS)
        op.execute(ENSURE_THIS_AND_NEXT_MONTH)
    op.create_table(
        "candle_files",
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("checksum", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("symbol", "day", "category", name="pk_candle_files"),
    )


def downgrade() -> None:
    op.drop_table("candle_files")
    op.drop_table("market_candles")  # its partitions go with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS tradesim_ensure_candle_partitions(bigint, bigint)")
