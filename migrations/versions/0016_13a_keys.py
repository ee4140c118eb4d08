"""Secrets at rest (issue 13 §1–2): sealed outbox secrets, terminals' root key id, old texts
scrubbed

``outbox.sealed`` holds a message that carries a secret, encrypted; ``terminal.key_id``
names the root key a terminal's HMAC key is derived from (``k0``: the key the database
held before key ids). Texts already stored are scrubbed once: standalone runs of 6 or 8
digits (codes, points passwords, voucher passwords) in inbound texts and replies, and in
the texts of outbound messages that carried a code or a password, become asterisks; a
code in an outbound message's idempotency key is replaced by the row's id.

Revision ID: 0016_13a
Revises: 0015_16b
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0016_13a"
down_revision: str | None = "0015_16b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
BATCH = 2000
SECRET = re.compile(r"(?<![0-9])([0-9]{6}|[0-9]{8})(?![0-9])")
KEYED_CODE = re.compile(r"^((?:password-otp|chat-login):[^:]*:[^:]*):[0-9]+$")
OUTBOX_WITH_SECRETS = (
    "voucher:",
    "tg-voucher:",
    "checkout:",
    "password-otp:",
    "chat-login:",
    "console-login:",
)

inbound = sa.table("inbound", sa.column("id", ID), sa.column("text"), sa.column("reply"))
outbox = sa.table("outbox", sa.column("id", ID), sa.column("idempotency_key"), sa.column("text"))


def _masked(text: str | None) -> str | None:
    return None if text is None else SECRET.sub(lambda m: "*" * len(m.group(1)), text)


def _scrub(
    table: sa.TableClause, columns: Sequence[str], fix: Callable[[sa.Row[Any]], dict[str, object]]
) -> None:
    conn = op.get_bind()
    after = 0
    while True:
        rows = conn.execute(
            sa.select(table.c.id, *(table.c[c] for c in columns))
            .where(table.c.id > after)
            .order_by(table.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            values = fix(row)
            if values:
                conn.execute(sa.update(table).where(table.c.id == row[0]).values(**values))
        after = int(rows[-1][0])


def _inbound(row: sa.Row[Any]) -> dict[str, object]:
    _, text, reply = row
    values: dict[str, object] = {}
    if (masked := _masked(text)) != text:
        values["text"] = masked
    if (masked := _masked(reply)) != reply:
        values["reply"] = masked
    return values


def _outbox(row: sa.Row[Any]) -> dict[str, object]:
    oid, key, text = row
    if not key.startswith(OUTBOX_WITH_SECRETS):
        return {}
    values: dict[str, object] = {}
    masked = _masked(text)
    if masked != text:
        values["text"] = masked
    keyed = KEYED_CODE.match(key)
    if keyed:
        values["idempotency_key"] = f"{keyed.group(1)}:#{oid}"
    return values


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("sealed", sa.Text(), nullable=True))
    with op.batch_alter_table("terminal") as batch:
        batch.add_column(
            sa.Column("key_id", sa.String(length=8), server_default="k0", nullable=False)
        )
    _scrub(inbound, ("text", "reply"), _inbound)
    _scrub(outbox, ("idempotency_key", "text"), _outbox)


def downgrade() -> None:
    with op.batch_alter_table("terminal") as batch:
        batch.drop_column("key_id")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("sealed")
