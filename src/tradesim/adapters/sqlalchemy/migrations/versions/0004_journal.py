"""The trade journal: entries, their tags and attachments.

Revision ID: 0004
Revises: 0003
Create Date: 2024-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journal_entries",
        sa.Column("entry_id", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("session_start", sa.BigInteger(), nullable=True),
        sa.Column("session_end", sa.BigInteger(), nullable=True),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("updated_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name="pk_journal_entries"),
    )
    op.create_index("ix_journal_entries_user_id_created_time", "journal_entries", ["user_id", "created_time"])
    op.create_table(
        "journal_entry_tags",
        sa.Column("entry_id", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("tag", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", "position", name="pk_journal_entry_tags"),
    )
    op.create_index("ix_journal_entry_tags_tag_entry_id", "journal_entry_tags", ["tag", "entry_id"])
    op.create_table(
        "journal_attachments",
        sa.Column("attachment_id", sa.Text(), nullable=False),
        sa.Column("entry_id", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("attachment_id", name="pk_journal_attachments"),
    )
    op.create_index("ix_journal_attachments_entry_id", "journal_attachments", ["entry_id"])


def downgrade() -> None:
    op.drop_table("journal_attachments")
    op.drop_table("journal_entry_tags")
    op.drop_table("journal_entries")
