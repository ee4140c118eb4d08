"""Operator staff (issue 8): a name, a role, and a bearer token stored only as a keyed hash.

Roles: ``business_admin`` (catalogue, content, first review of merchants, goods
review, moderation, logistics), ``admin`` (everything operational, final review,
staff), ``finance`` (statements, reports, adjustment approval, ledger reading),
``support`` (subscriber lookup, replies, adjustment proposals). The token is made
once, shown once and never stored; a disabled member's token stops working.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, select, update

from core.backoffice.errors import UnknownRole
from core.platform import audit
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
    """Create staff member ``name`` with ``role``; returns it and its token (shown once)."""
    if role not in OPERATOR_ROLES:
        raise UnknownRole(role)
    if conn.execute(select(staff.c.id).where(staff.c.name == name)).first() is not None:
        raise AlreadyExists("staff", name)
    token = new_token()
    conn.execute(
        staff.insert().values(
            name=name, role=role, token_hash=keyring.digest(PURPOSE, token), created_at=now
        )
    )
    audit.record(
        conn,
        actor_kind="operator",
        actor=by,
        action="staff_add",
        subject=f"staff:{name}",
        result=role,
        now=now,
    )
    return find(conn, name), token


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
    """Disable ``name``: its token stops working at once. Disabling twice changes nothing."""
    member = find(conn, name)
    conn.execute(
        update(staff)
        .where(and_(staff.c.name == name, staff.c.disabled_at.is_(None)))
        .values(disabled_at=now)
    )
    audit.record(
        conn,
        actor_kind="operator",
        actor=by,
        action="staff_disable",
        subject=f"staff:{name}",
        result="disabled",
        now=now,
        details={"role": member.role},
    )
    return find(conn, name)


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
