"""Chat mall, buying and after-sales: cart lines, order notes and checkouts, address labels,
outbox attachments, goods reviews, messages to the operator and their replies

The ``favourite`` table the cart moves items to comes from 0008b.

Revision ID: 0009c
Revises: 0008b
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009c"
down_revision: str | None = "0008b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("note", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("checkout_no", sa.String(length=20), nullable=True))
        batch.create_index(batch.f("ix_orders_checkout_no"), ["checkout_no"], unique=False)
    with op.batch_alter_table("address") as batch:
        batch.add_column(sa.Column("label", sa.String(length=32), nullable=True))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("attachment", sa.String(length=200), nullable=True))
    op.create_table(
        "cart_line",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("subscriber_id", ID, nullable=False),
        sa.Column("item_id", ID, nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("qty > 0", name=op.f("ck_cart_line_qty_positive")),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"], name=op.f("fk_cart_line_item_id_item")),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscriber.id"],
            name=op.f("fk_cart_line_subscriber_id_subscriber"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cart_line")),
        sa.UniqueConstraint(
            "subscriber_id", "item_id", name=op.f("uq_cart_line_subscriber_id_item_id")
        ),
    )
    op.create_table(
        "goods_review",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("order_id", ID, nullable=False),
        sa.Column("subscriber_id", ID, nullable=False),
        sa.Column("item_id", ID, nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=500), server_default="", nullable=False),
        sa.Column("status", sa.String(length=10), server_default="visible", nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name=op.f("ck_goods_review_score")),
        sa.CheckConstraint("status IN ('visible', 'hidden')", name=op.f("ck_goods_review_status")),
        sa.ForeignKeyConstraint(
            ["item_id"], ["item.id"], name=op.f("fk_goods_review_item_id_item")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_goods_review_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscriber.id"],
            name=op.f("fk_goods_review_subscriber_id_subscriber"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goods_review")),
        sa.UniqueConstraint("order_id", name=op.f("uq_goods_review_order_id")),
    )
    op.create_index(
        op.f("ix_goods_review_item_id_status"), "goods_review", ["item_id", "status"], unique=False
    )
    op.create_table(
        "message",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("subscriber_id", ID, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("reply_to", sa.String(length=32), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=10), server_default="open", nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("status IN ('open', 'replied')", name=op.f("ck_message_status")),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscriber.id"],
            name=op.f("fk_message_subscriber_id_subscriber"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message")),
    )
    op.create_index(
        op.f("ix_message_subscriber_id_id"), "message", ["subscriber_id", "id"], unique=False
    )
    op.create_index(op.f("ix_message_status_id"), "message", ["status", "id"], unique=False)
    op.create_table(
        "message_reply",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("message_id", ID, nullable=False),
        sa.Column("staff", sa.String(length=64), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["message.id"], name=op.f("fk_message_reply_message_id_message")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_reply")),
    )
    op.create_index(
        op.f("ix_message_reply_message_id"), "message_reply", ["message_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_message_reply_message_id"), table_name="message_reply")
    op.drop_table("message_reply")
    op.drop_index(op.f("ix_message_status_id"), table_name="message")
    op.drop_index(op.f("ix_message_subscriber_id_id"), table_name="message")
    op.drop_table("message")
    op.drop_index(op.f("ix_goods_review_item_id_status"), table_name="goods_review")
    op.drop_table("goods_review")
    op.drop_table("cart_line")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("attachment")
    with op.batch_alter_table("address") as batch:
        batch.drop_column("label")
    with op.batch_alter_table("orders") as batch:
        batch.drop_index(batch.f("ix_orders_checkout_no"))
        batch.drop_column("checkout_no")
        batch.drop_column("note")
