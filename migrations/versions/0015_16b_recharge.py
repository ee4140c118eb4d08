"""Phone credit delivered (issue 16 §2): the top-up's delivery state and its history

A top-up is now submitted to the recharge provider by the ``recharge`` job: it gets
``updated_at``, ``attempts``, ``next_attempt_at`` (when the job next looks at it),
the provider's id and the last error, a check on its statuses, and a history
(``topup_event``). Top-ups waiting since before this migration are due at once.

Revision ID: 0015_16b
Revises: 0014_16c
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_16b"
down_revision: str | None = "0014_16c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
STATUSES = "status IN ('requested', 'unknown', 'submitted', 'succeeded', 'failed', 'stalled')"

topup = sa.table(
    "topup",
    sa.column("status", sa.String),
    sa.column("created_at", sa.BigInteger),
    sa.column("updated_at", sa.BigInteger),
    sa.column("next_attempt_at", sa.BigInteger),
)


def upgrade() -> None:
    with op.batch_alter_table("topup", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("updated_at", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("next_attempt_at", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("provider_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.String(length=200), nullable=True))
        batch_op.create_check_constraint(op.f("ck_topup_status"), STATUSES)
        batch_op.create_index(
            batch_op.f("ix_topup_status_next_attempt_at"), ["status", "next_attempt_at"]
        )
    conn = op.get_bind()
    conn.execute(topup.update().values(updated_at=topup.c.created_at))
    conn.execute(
        topup.update()
        .where(topup.c.status == "requested")
        .values(next_attempt_at=topup.c.created_at)
    )
    op.create_table(
        "topup_event",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("topup_id", ID, nullable=False),
        sa.Column("from_status", sa.String(length=10), nullable=False),
        sa.Column("to_status", sa.String(length=10), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("detail", sa.String(length=200), server_default="", nullable=False),
        sa.ForeignKeyConstraint(
            ["topup_id"], ["topup.id"], name=op.f("fk_topup_event_topup_id_topup")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topup_event")),
    )
    with op.batch_alter_table("topup_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_topup_event_topup_id"), ["topup_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("topup_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_topup_event_topup_id"))
    op.drop_table("topup_event")
    with op.batch_alter_table("topup", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_topup_status_next_attempt_at"))
        batch_op.drop_constraint(op.f("ck_topup_status"), type_="check")
        batch_op.drop_column("last_error")
        batch_op.drop_column("provider_id")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("updated_at")
