"""settlement: merchant contract rates, settlement lines frozen at consumption, statements

Revision ID: 0005s
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005s"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "merchant_rate",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("merchant_id", ID, nullable=False),
        sa.Column("cents", sa.BigInteger(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("set_at", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("cents >= 0", name=op.f("ck_merchant_rate_cents_not_negative")),
        sa.CheckConstraint("points > 0", name=op.f("ck_merchant_rate_points_positive")),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchant.id"], name=op.f("fk_merchant_rate_merchant_id_merchant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchant_rate")),
    )
    op.create_index(op.f("ix_merchant_rate_merchant_id_id"), "merchant_rate", ["merchant_id", "id"])
    op.create_table(
        "statement",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("merchant_id", ID, nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("cutoff", sa.BigInteger(), nullable=False),
        sa.Column("lines", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("points", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "status IN ('draft', 'confirmed', 'disputed', 'approved', 'paid')",
            name=op.f("ck_statement_status"),
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchant.id"], name=op.f("fk_statement_merchant_id_merchant")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement")),
        sa.UniqueConstraint("merchant_id", "period", name=op.f("uq_statement_merchant_id_period")),
    )
    op.create_index(op.f("ix_statement_period"), "statement", ["period"])
    op.create_table(
        "settlement_line",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("merchant_id", ID, nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("ref", sa.String(length=160), nullable=False),
        sa.Column("order_id", ID, nullable=True),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("rate_cents", sa.BigInteger(), nullable=False),
        sa.Column("rate_points", sa.BigInteger(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("consumed_at", sa.BigInteger(), nullable=False),
        sa.Column("statement_id", ID, nullable=True),
        sa.CheckConstraint("source IN ('voucher', 'pos')", name=op.f("ck_settlement_line_source")),
        sa.CheckConstraint("points > 0", name=op.f("ck_settlement_line_points_positive")),
        sa.CheckConstraint(
            "amount_cents >= 0", name=op.f("ck_settlement_line_amount_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchant.id"], name=op.f("fk_settlement_line_merchant_id_merchant")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_settlement_line_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["statement.id"],
            name=op.f("fk_settlement_line_statement_id_statement"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_line")),
        sa.UniqueConstraint("ref", name=op.f("uq_settlement_line_ref")),
    )
    op.create_index(
        op.f("ix_settlement_line_merchant_id_statement_id_consumed_at"),
        "settlement_line",
        ["merchant_id", "statement_id", "consumed_at"],
    )
    op.create_index(op.f("ix_settlement_line_statement_id"), "settlement_line", ["statement_id"])
    op.create_index(op.f("ix_settlement_line_consumed_at"), "settlement_line", ["consumed_at"])


def downgrade() -> None:
    op.drop_table("settlement_line")
    op.drop_table("statement")
    op.drop_table("merchant_rate")
