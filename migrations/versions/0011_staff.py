"""Operator staff with bearer tokens, proposed points adjustments, pictures (admin API);
ad.target_kind widened to fit 'announcement'

Revision ID: 0011a
Revises: 0006t
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011a"
down_revision: str | None = "0010p"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # ad.target_kind was VARCHAR(10), too short for its own allowed value "announcement".
    with op.batch_alter_table("ad") as batch:
        batch.alter_column(
            "target_kind", existing_type=sa.String(length=10), type_=sa.String(length=12)
        )
    op.create_table(
        "staff",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("disabled_at", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "role IN ('business_admin', 'admin', 'finance', 'support')",
            name=op.f("ck_staff_role"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("name", name=op.f("uq_staff_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_token_hash")),
    )
    op.create_table(
        "adjustment",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("subscriber_id", ID, nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("proposed_by", sa.String(length=64), nullable=False),
        sa.Column("proposed_at", sa.BigInteger(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.BigInteger(), nullable=True),
        sa.Column("entry_id", ID, nullable=True),
        sa.CheckConstraint("points <> 0", name=op.f("ck_adjustment_points_not_zero")),
        sa.CheckConstraint(
            "status IN ('proposed', 'approved', 'rejected')", name=op.f("ck_adjustment_status")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entry.id"], name=op.f("fk_adjustment_entry_id_entry")
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscriber.id"],
            name=op.f("fk_adjustment_subscriber_id_subscriber"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adjustment")),
    )
    op.create_index(op.f("ix_adjustment_status_id"), "adjustment", ["status", "id"], unique=False)
    op.create_table(
        "picture",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_picture")),
    )
    op.create_table(
        "ad_image",
        sa.Column("ad_id", ID, nullable=False),
        sa.Column("image", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(["ad_id"], ["ad.id"], name=op.f("fk_ad_image_ad_id_ad")),
        sa.PrimaryKeyConstraint("ad_id", name=op.f("pk_ad_image")),
    )


def downgrade() -> None:
    op.drop_table("ad_image")
    op.drop_table("picture")
    op.drop_index(op.f("ix_adjustment_status_id"), table_name="adjustment")
    op.drop_table("adjustment")
    op.drop_table("staff")
    with op.batch_alter_table("ad") as batch:
        batch.alter_column(
            "target_kind", existing_type=sa.String(length=12), type_=sa.String(length=10)
        )
