"""Telegram chats bound to subscribers, and the pending SMS-code logins

Revision ID: 0006t
Revises: 0003o
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006t"
down_revision: str | None = "0003o"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "chat_binding",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("subscriber_id", ID, nullable=False),
        sa.Column("bound_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscriber.id"],
            name=op.f("fk_chat_binding_subscriber_id_subscriber"),
        ),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_chat_binding")),
    )
    op.create_index(
        op.f("ix_chat_binding_subscriber_id"), "chat_binding", ["subscriber_id"], unique=False
    )
    op.create_table(
        "chat_login",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("msisdn", sa.String(length=16), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("sent_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_chat_login")),
    )
    op.create_index(op.f("ix_chat_login_msisdn"), "chat_login", ["msisdn"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_chat_login_msisdn"), table_name="chat_login")
    op.drop_table("chat_login")
    op.drop_index(op.f("ix_chat_binding_subscriber_id"), table_name="chat_binding")
    op.drop_table("chat_binding")
