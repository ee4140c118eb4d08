"""merchant-submitted goods wait for review before they are listed

Revision ID: 0004
Revises: 0003m
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003m"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("review_note", sa.String(length=200), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_item_review"), "review IN ('pending', 'approved', 'rejected')"
        )


def downgrade() -> None:
    with op.batch_alter_table("item", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_item_review"), type_="check")
        batch_op.drop_column("review_note")
        batch_op.drop_column("review")
