"""Several replicas as one service (issue 15 §4): ``send_rate``, one row per outbound rate
shared by every replica (the next free send slot), and ``job_run``, one row per scheduled
job and period, so each job runs once a period however many replicas schedule it.

Revision ID: 0017_15b
Revises: 0016_13a
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_15b"
down_revision: str | None = "0016_13a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "send_rate",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("next_slot_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_send_rate")),
    )
    op.create_table(
        "job_run",
        sa.Column("job", sa.String(length=40), nullable=False),
        sa.Column("period_start", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("finished_at", sa.BigInteger(), nullable=True),
        sa.Column("changed", sa.BigInteger(), nullable=True),
        sa.Column("runner", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("job", "period_start", name=op.f("pk_job_run")),
    )


def downgrade() -> None:
    op.drop_table("job_run")
    op.drop_table("send_rate")
