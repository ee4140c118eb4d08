"""The newest outbound messages, for an operator (codes and passwords in them masked)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from core.platform.schema import outbox


@dataclass(frozen=True)
class OutboxLine:
    id: int
    recipient: str
    status: str
    created_at: int
    text: str


def newest(conn: Connection, *, recipient: str | None = None, limit: int = 10) -> list[OutboxLine]:
    """Up to ``limit`` messages, newest first, to ``recipient`` if given."""
    query = select(
        outbox.c.id, outbox.c.recipient, outbox.c.status, outbox.c.created_at, outbox.c.text
    ).order_by(outbox.c.id.desc())
    if recipient is not None:
        query = query.where(outbox.c.recipient == recipient)
    return [
        OutboxLine(int(r[0]), r[1], r[2], int(r[3]), r[4])
        for r in conn.execute(query.limit(max(1, limit))).all()
    ]
