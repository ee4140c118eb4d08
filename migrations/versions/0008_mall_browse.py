"""Mall browsing in the chat: photos, favourites, questions, pending chat prompts

Revision ID: 0008b
Revises: 0011a
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008b"
down_revision: str | None = "0011a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "photo",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("subject", sa.String(length=32), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("telegram_file_id", sa.String(length=200), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_photo")),
        sa.UniqueConstraint("subject", name=op.f("uq_photo_subject")),
    )
    op.create_table(
        "favourite",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("subscriber_id", ID, nullable=False),
        sa.Column("item_id", ID, nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"], name=op.f("fk_favourite_item_id_item")),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscriber.id"],
            name=op.f("fk_favourite_subscriber_id_subscriber"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_favourite")),
        sa.UniqueConstraint(
            "subscriber_id", "item_id", name=op.f("uq_favourite_subscriber_id_item_id")
        ),
    )
    op.create_table(
        "question",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("item_id", ID, nullable=False),
        sa.Column("subscriber_id", ID, nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("asked_at", sa.BigInteger(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_by", sa.String(length=64), nullable=True),
        sa.Column("answered_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"], name=op.f("fk_question_item_id_item")),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscriber.id"],
            name=op.f("fk_question_subscriber_id_subscriber"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question")),
    )
    op.create_index(op.f("ix_question_item_id_answered_at"), "question", ["item_id", "answered_at"])
    op.create_index(op.f("ix_question_subscriber_id_id"), "question", ["subscriber_id", "id"])
    op.create_index(op.f("ix_question_answered_at"), "question", ["answered_at"])
    op.create_table(
        "chat_prompt",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("arg", sa.String(length=32), server_default="", nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_chat_prompt")),
    )


def downgrade() -> None:
    op.drop_table("chat_prompt")
    op.drop_index(op.f("ix_question_answered_at"), table_name="question")
    op.drop_index(op.f("ix_question_subscriber_id_id"), table_name="question")
    op.drop_index(op.f("ix_question_item_id_answered_at"), table_name="question")
    op.drop_table("question")
    op.drop_table("favourite")
    op.drop_table("photo")
