"""Outbound messages (DESIGN.md §10): written in the same transaction as the change they
report, sent later by the drain loop. A message is identified by its idempotency key,
so the same notice can never be queued twice.

Marketing messages to an opted-out subscriber are recorded as ``suppressed`` and
never sent; service messages (OTPs, vouchers, order notices) always go.
"""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, select

from core.prepared import Prepared
from core.schema import outbox, subscriber
from core.sql import insert_ignoring

KINDS = ("service", "marketing")

_OPTED_OUT = Prepared(
    select(subscriber.c.id, subscriber.c.opted_out).where(subscriber.c.msisdn == bindparam("m"))
)


def enqueue(
    conn: Connection,
    *,
    key: str,
    recipient: str,
    text: str,
    now: int,
    kind: str = "service",
    channel: str = "sms",
) -> bool:
    """Queue ``text`` for ``recipient``; False if a message with ``key`` was queued before."""
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    subscriber_id: int | None = None
    status = "pending"
    if channel == "sms":
        row = _OPTED_OUT.first(conn, m=recipient)
        if row is not None:
            subscriber_id = int(row[0])
            if kind == "marketing" and bool(row[1]):
                status = "suppressed"
    inserted = conn.execute(
        insert_ignoring(conn, outbox, "idempotency_key")
        .values(
            idempotency_key=key,
            channel=channel,
            recipient=recipient,
            subscriber_id=subscriber_id,
            kind=kind,
            text=text,
            status=status,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        .returning(outbox.c.id)
    ).scalar_one_or_none()
    return inserted is not None
