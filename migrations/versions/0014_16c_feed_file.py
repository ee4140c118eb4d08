"""The feed inbox's claims: one row per billing file dropped into POINTSHALL_FEED_INBOX

Revision ID: 0014_16c
Revises: 0013m
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_16c"
down_revision: str | None = "0013m"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "feed_file",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=False),
        sa.Column("claimed_at", sa.BigInteger(), nullable=False),
        sa.Column("finished_at", sa.BigInteger(), nullable=True),
        sa.Column("import_id", ID, nullable=True),
        sa.Column("moved_to", sa.String(length=300), nullable=True),
        sa.Column("detail", sa.String(length=300), server_default="", nullable=False),
        sa.CheckConstraint(
            "status IN ('importing', 'processed', 'rejected')", name=op.f("ck_feed_file_status")
        ),
        sa.ForeignKeyConstraint(
            ["import_id"], ["feed_import.id"], name=op.f("fk_feed_file_import_id_feed_import")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_file")),
        sa.UniqueConstraint("name", "sha256", name=op.f("uq_feed_file_name_sha256")),
    )
    op.create_index(
        op.f("ix_feed_file_status_claimed_at"), "feed_file", ["status", "claimed_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_feed_file_status_claimed_at"), table_name="feed_file")
    op.drop_table("feed_file")
