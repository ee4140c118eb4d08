"""Merchant console logins: SMS codes sent to merchant staff phones

Revision ID: 0012w
Revises: 0006t
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012w"
down_revision: str | None = "0006t"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "staff_login",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("msisdn", sa.String(length=16), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("sent_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_login")),
    )
    op.create_index(
        op.f("ix_staff_login_msisdn_sent_at"), "staff_login", ["msisdn", "sent_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_staff_login_msisdn_sent_at"), table_name="staff_login")
    op.drop_table("staff_login")
