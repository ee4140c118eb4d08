"""Separation of duties and guessing limits (issue 13 §3, §4)

``staff_change`` records every creation, role change, re-enabling and disabling of an
operator staff member (existing members get their creation, with whoever the audit log
says made them); ``adjustment.staff_seq`` the newest staff change when an adjustment was
proposed; ``throttle_event`` counts code requests and tries; ``web_session`` holds console
sessions server-side; ``pos_lockout`` the wrong points passwords per terminal and subscriber;
``staff_login.session_hash`` binds a console login code to the browser session that asked.

Revision ID: 0019_13b
Revises: 0018_15a
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_13b"
down_revision: str | None = "0018_15a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

staff = sa.table(
    "staff",
    sa.column("name", sa.String),
    sa.column("role", sa.String),
    sa.column("created_at", sa.BigInteger),
    sa.column("disabled_at", sa.BigInteger),
)
audit_log = sa.table(
    "audit_log",
    sa.column("id", ID),
    sa.column("actor", sa.String),
    sa.column("action", sa.String),
    sa.column("subject", sa.String),
)
staff_change = sa.table(
    "staff_change",
    sa.column("name", sa.String),
    sa.column("kind", sa.String),
    sa.column("role", sa.String),
    sa.column("status", sa.String),
    sa.column("requested_by", sa.String),
    sa.column("requested_at", sa.BigInteger),
)


def _backfill(conn: sa.Connection) -> None:
    """One ``create`` (and ``disable``) change per existing member, oldest first."""
    members = conn.execute(
        sa.select(staff.c.name, staff.c.role, staff.c.created_at, staff.c.disabled_at).order_by(
            staff.c.created_at, staff.c.name
        )
    ).all()
    for name, role, created_at, disabled_at in members:
        actions = {
            action: actor
            for actor, action in conn.execute(
                sa.select(audit_log.c.actor, audit_log.c.action)
                .where(audit_log.c.subject == f"staff:{name}")
                .order_by(audit_log.c.id)
            ).all()
        }
        common = {"name": name, "role": role, "status": "done"}
        conn.execute(
            staff_change.insert().values(
                **common,
                kind="create",
                requested_by=actions.get("staff_add", "unknown"),
                requested_at=created_at,
            )
        )
        if disabled_at is not None:
            conn.execute(
                staff_change.insert().values(
                    **common,
                    kind="disable",
                    requested_by=actions.get("staff_disable", "unknown"),
                    requested_at=disabled_at,
                )
            )


def upgrade() -> None:
    op.create_table(
        "staff_change",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.BigInteger(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('create', 'role', 'enable', 'disable')", name=op.f("ck_staff_change_kind")
        ),
        sa.CheckConstraint(
            "status IN ('done', 'pending', 'approved', 'rejected')",
            name=op.f("ck_staff_change_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_change")),
    )
    op.create_index(op.f("ix_staff_change_name_id"), "staff_change", ["name", "id"])
    op.create_index(
        op.f("ix_staff_change_requested_by_requested_at"),
        "staff_change",
        ["requested_by", "requested_at"],
    )
    op.create_index(op.f("ix_staff_change_status_id"), "staff_change", ["status", "id"])
    _backfill(op.get_bind())

    with op.batch_alter_table("adjustment") as batch:
        batch.add_column(sa.Column("staff_seq", sa.BigInteger(), nullable=True))

    op.create_table(
        "throttle_event",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_throttle_event")),
    )
    op.create_index(
        op.f("ix_throttle_event_kind_subject_at"), "throttle_event", ["kind", "subject", "at"]
    )
    op.create_index(op.f("ix_throttle_event_at"), "throttle_event", ["at"])

    op.create_table(
        "web_session",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("who", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("ended_at", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("kind IN ('merchant', 'operator')", name=op.f("ck_web_session_kind")),
        sa.PrimaryKeyConstraint("id_hash", name=op.f("pk_web_session")),
    )
    op.create_index(op.f("ix_web_session_kind_who"), "web_session", ["kind", "who"])

    op.create_table(
        "pos_lockout",
        sa.Column("terminal_ref", ID, nullable=False),
        sa.Column("subscriber_id", ID, nullable=False),
        sa.Column("wrong", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locks", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_until", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["terminal_ref"], ["terminal.id"], name=op.f("fk_pos_lockout_terminal_ref_terminal")
        ),
        sa.ForeignKeyConstraint(
            ["subscriber_id"],
            ["subscriber.id"],
            name=op.f("fk_pos_lockout_subscriber_id_subscriber"),
        ),
        sa.PrimaryKeyConstraint("terminal_ref", "subscriber_id", name=op.f("pk_pos_lockout")),
    )
    op.create_index(op.f("ix_pos_lockout_subscriber_id"), "pos_lockout", ["subscriber_id"])

    with op.batch_alter_table("staff_login") as batch:
        batch.add_column(sa.Column("session_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff_login") as batch:
        batch.drop_column("session_hash")
    op.drop_index(op.f("ix_pos_lockout_subscriber_id"), table_name="pos_lockout")
    op.drop_table("pos_lockout")
    op.drop_index(op.f("ix_web_session_kind_who"), table_name="web_session")
    op.drop_table("web_session")
    op.drop_index(op.f("ix_throttle_event_at"), table_name="throttle_event")
    op.drop_index(op.f("ix_throttle_event_kind_subject_at"), table_name="throttle_event")
    op.drop_table("throttle_event")
    with op.batch_alter_table("adjustment") as batch:
        batch.drop_column("staff_seq")
    op.drop_index(op.f("ix_staff_change_status_id"), table_name="staff_change")
    op.drop_index(op.f("ix_staff_change_requested_by_requested_at"), table_name="staff_change")
    op.drop_index(op.f("ix_staff_change_name_id"), table_name="staff_change")
    op.drop_table("staff_change")
