"""Operator staff (issue 8): a name, a role, and a bearer token stored only as a keyed hash.

Roles: ``business_admin`` (catalogue, content, first review of merchants, goods
review, moderation, logistics), ``admin`` (everything operational, final review,
staff), ``finance`` (statements, reports, adjustment approval, ledger reading),
``support`` (subscriber lookup, replies, adjustment proposals). The token is made
once, shown once and never stored; a disabled member's token stops working.

This module holds the members and their storage. ``add`` and ``disable`` here are the
*primitives*: they record the change (``core.backoffice.staff_history``) and audit it but
check nobody's role or limits; they are for setting up an installation, demo data and
tests. People change staff through ``core.backoffice.staffing`` (``create``,
``change_role``, ``enable``, ``disable``, ``approve``, ``reject``), which enforces who may
do it, the daily limit and the second admin (issue 13 §3).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, select, update

from core.backoffice import staff_history
from core.backoffice.errors import UnknownRole
from core.platform import audit, web_sessions
from core.platform.codes import Keyring
from core.platform.errors import AlreadyExists, NotFound
from core.platform.schema import OPERATOR_ROLES, staff

TOKEN_PREFIX = "psa_"
TOKEN_BYTES = 32
PURPOSE = "staff-token"


@dataclass(frozen=True)
class OperatorStaff:
    id: int
    name: str
    role: str
    created_at: int
    disabled_at: int | None

    @property
    def active(self) -> bool:
        return self.disabled_at is None


_COLUMNS = (staff.c.id, staff.c.name, staff.c.role, staff.c.created_at, staff.c.disabled_at)


def _member(row: Any) -> OperatorStaff:
    sid, name, role, created, disabled = row
    return OperatorStaff(
        int(sid), name, role, int(created), None if disabled is None else int(disabled)
    )


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def add(
    conn: Connection, keyring: Keyring, name: str, role: str, *, by: str, now: int
) -> tuple[OperatorStaff, str]:
    """Create staff member ``name`` with ``role``; returns it and its token (shown once).

    A primitive: no role or limit is checked (``staffing.create`` checks them). The
    creation is recorded as a staff change made by ``by`` and audited.
    """
    if role not in OPERATOR_ROLES:
        raise UnknownRole(role)
    token = new_token()
    member = insert(conn, name, role, keyring.digest(PURPOSE, token), now)
    staff_history.record(conn, name=name, kind="create", role=role, status="done", by=by, now=now)
    audit_change(conn, by, "staff_add", name, role, now)
    return member, token


def insert(conn: Connection, name: str, role: str, token_hash: str, now: int) -> OperatorStaff:
    """Insert the member's row (its token given as a keyed hash); ``AlreadyExists`` if taken."""
    if conn.execute(select(staff.c.id).where(staff.c.name == name)).first() is not None:
        raise AlreadyExists("staff", name)
    conn.execute(staff.insert().values(name=name, role=role, token_hash=token_hash, created_at=now))
    return find(conn, name)


def audit_change(
    conn: Connection,
    by: str,
    action: str,
    name: str,
    result: str,
    now: int,
    details: dict[str, Any] | None = None,
) -> None:
    """One audit row for a change to member ``name``."""
    audit.record(
        conn,
        actor_kind="operator",
        actor=by,
        action=action,
        subject=f"staff:{name}",
        result=result,
        now=now,
        details=details,
    )


def find(conn: Connection, name: str) -> OperatorStaff:
    row = conn.execute(select(*_COLUMNS).where(staff.c.name == name)).first()
    if row is None:
        raise NotFound("staff", name)
    return _member(row)


def by_id(conn: Connection, staff_id: int) -> OperatorStaff | None:
    """Staff member ``staff_id`` (disabled or not), or None."""
    row = conn.execute(select(*_COLUMNS).where(staff.c.id == staff_id)).first()
    return None if row is None else _member(row)


def members(conn: Connection) -> list[OperatorStaff]:
    return [_member(r) for r in conn.execute(select(*_COLUMNS).order_by(staff.c.name))]


def disable(conn: Connection, name: str, *, by: str, now: int) -> OperatorStaff:
    """Disable ``name``: its token stops working and its console sessions end at once.
    Disabling twice changes nothing. A primitive (``staffing.disable`` checks who)."""
    member = find(conn, name)
    changed = conn.execute(
        update(staff)
        .where(and_(staff.c.name == name, staff.c.disabled_at.is_(None)))
        .values(disabled_at=now)
    ).rowcount
    if changed:
        staff_history.record(
            conn, name=name, kind="disable", role=member.role, status="done", by=by, now=now
        )
        web_sessions.end_all(conn, kind="operator", who=str(member.id), now=now)
    audit_change(conn, by, "staff_disable", name, "disabled", now, {"role": member.role})
    return find(conn, name)


def set_role(conn: Connection, name: str, role: str) -> OperatorStaff:
    """Give member ``name`` ``role`` (the change itself is recorded by the caller)."""
    if role not in OPERATOR_ROLES:
        raise UnknownRole(role)
    conn.execute(update(staff).where(staff.c.name == name).values(role=role))
    return find(conn, name)


def set_enabled(conn: Connection, name: str) -> OperatorStaff:
    """Enable member ``name`` again (the change itself is recorded by the caller)."""
    conn.execute(update(staff).where(staff.c.name == name).values(disabled_at=None))
    return find(conn, name)


def active_admins(conn: Connection) -> list[OperatorStaff]:
    """The active members with the ``admin`` role."""
    return [m for m in members(conn) if m.active and m.role == "admin"]


def authenticate(conn: Connection, keyring: Keyring, token: str) -> OperatorStaff | None:
    """The active staff member holding ``token``, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 128:
        return None
    row = conn.execute(
        select(*_COLUMNS, staff.c.token_hash).where(
            staff.c.token_hash.in_(keyring.digests(PURPOSE, token))
        )
    ).first()
    if row is None or not keyring.matches(row[5], PURPOSE, token):
        return None
    member = _member(row[:5])
    return member if member.active else None
