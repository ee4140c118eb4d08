"""Payments (§3.5.6): methods per item and order, the payment saga and its steps

Revision ID: 0010p
Revises: 0006t
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010p"
down_revision: str | None = "0012w"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column(
        "item",
        sa.Column("pay_methods", sa.String(length=64), server_default="points", nullable=False),
    )
    op.add_column("item", sa.Column("price_cents", sa.BigInteger(), nullable=True))
    op.add_column(
        "orders",
        sa.Column("pay_method", sa.String(length=12), server_default="points", nullable=False),
    )
    op.create_table(
        "payment_saga",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("order_id", ID, nullable=False),
        sa.Column("method", sa.String(length=12), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("charge_id", sa.String(length=64), nullable=True),
        sa.Column("pay_url", sa.String(length=300), nullable=True),
        sa.Column("refund_id", sa.String(length=64), nullable=True),
        sa.Column("note", sa.String(length=200), server_default="", nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_payment_saga_amount_positive")),
        sa.CheckConstraint("points >= 0", name=op.f("ck_payment_saga_points_not_negative")),
        sa.CheckConstraint(
            "status IN ('started', 'charge_pending', 'cash_captured', 'completed', "
            "'refunding', 'refunded', 'cancelled')",
            name=op.f("ck_payment_saga_status"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_payment_saga_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_saga")),
        sa.UniqueConstraint("charge_id", name=op.f("uq_payment_saga_charge_id")),
        sa.UniqueConstraint("order_id", name=op.f("uq_payment_saga_order_id")),
    )
    op.create_index(
        op.f("ix_payment_saga_status_updated_at"), "payment_saga", ["status", "updated_at"]
    )
    op.create_table(
        "payment_step",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("saga_id", ID, nullable=False),
        sa.Column("step", sa.String(length=24), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=200), server_default="", nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["saga_id"], ["payment_saga.id"], name=op.f("fk_payment_step_saga_id_payment_saga")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_step")),
        sa.UniqueConstraint("saga_id", "step", name=op.f("uq_payment_step_saga_id_step")),
    )


def downgrade() -> None:
    op.drop_table("payment_step")
    op.drop_index(op.f("ix_payment_saga_status_updated_at"), table_name="payment_saga")
    op.drop_table("payment_saga")
    op.drop_column("orders", "pay_method")
    with op.batch_alter_table("item") as batch:
        batch.drop_column("price_cents")
        batch.drop_column("pay_methods")
