"""The audit log: every verification attempt and review decision (who, what, when, result).

Rows are written in the same transaction as the decision they record; a refused
attempt changes nothing else, but its audit row is kept (callers return refusals
as values instead of raising, so the row is committed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from core.platform.schema import audit_log

ACTOR_KINDS = ("staff", "terminal", "bot", "operator", "subscriber", "system")


@dataclass(frozen=True)
class AuditRow:
    actor_kind: str
    actor: str
    action: str
    subject: str
    result: str
    at: int
    details: dict[str, Any]


def record(
    conn: Connection,
    *,
    actor_kind: str,
    actor: str,
    action: str,
    subject: str,
    result: str,
    now: int,
    details: dict[str, Any] | None = None,
) -> None:
    if actor_kind not in ACTOR_KINDS:
        raise ValueError(f"unknown actor kind {actor_kind!r}")
    conn.execute(
        audit_log.insert().values(
            actor_kind=actor_kind,
            actor=actor[:64],
            action=action[:32],
            subject=subject[:64],
            result=result[:32],
            at=now,
            details=json.dumps(details or {}, ensure_ascii=False, separators=(",", ":")),
        )
    )


def entries(conn: Connection, subject: str | None = None, limit: int = 100) -> list[AuditRow]:
    query = select(
        audit_log.c.actor_kind,
        audit_log.c.actor,
        audit_log.c.action,
        audit_log.c.subject,
        audit_log.c.result,
        audit_log.c.at,
        audit_log.c.details,
    ).order_by(audit_log.c.id)
    if subject is not None:
        query = query.where(audit_log.c.subject == subject)
    return [
        AuditRow(r[0], r[1], r[2], r[3], r[4], int(r[5]), json.loads(r[6]))
        for r in conn.execute(query.limit(limit)).all()
    ]


@dataclass(frozen=True)
class LoggedAction:
    id: int
    actor_kind: str
    actor: str
    action: str
    subject: str
    result: str
    at: int
    details: dict[str, Any]


def page(
    conn: Connection,
    *,
    subject: str | None,
    offset: int,
    limit: int,
    actor: str | None = None,
    action: str | None = None,
    since: int | None = None,
    until: int | None = None,
) -> list[LoggedAction]:
    """The log newest first, rows ``offset`` to ``offset + limit``, filtered by any of: the
    exact ``subject``, ``actor`` and ``action``, and ``since <= at < until`` (UTC epoch)."""
    query = select(
        audit_log.c.id,
        audit_log.c.actor_kind,
        audit_log.c.actor,
        audit_log.c.action,
        audit_log.c.subject,
        audit_log.c.result,
        audit_log.c.at,
        audit_log.c.details,
    ).order_by(audit_log.c.id.desc())
    if subject is not None:
        query = query.where(audit_log.c.subject == subject)
    if actor is not None:
        query = query.where(audit_log.c.actor == actor)
    if action is not None:
        query = query.where(audit_log.c.action == action)
    if since is not None:
        query = query.where(audit_log.c.at >= since)
    if until is not None:
        query = query.where(audit_log.c.at < until)
    rows = conn.execute(query.offset(offset).limit(limit))
    return [LoggedAction(int(r[0]), *r[1:6], int(r[6]), json.loads(r[7])) for r in rows]
