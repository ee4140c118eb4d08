"""The history of operator staff changes (issue 13 §3): who created, re-enabled, disabled or
changed the role of whom, and when; pending ones wait for a second admin.

Every change to a member is a ``staff_change`` row, written in the transaction that makes
it. A change is ``done`` (made at once), or ``pending`` until a second admin ``approved`` or
``rejected`` it. The rows are what the separation-of-duties rules read
(``core.backoffice.duties``): a *grant* is a creation, a role change or a re-enabling that
took effect; row ids are a sequence, so "before the proposal" is a comparison of ids and
does not depend on clocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, func, select, update

from core.platform.errors import NotFound
from core.platform.schema import staff_change

GRANTS = ("create", "role", "enable")
"""Changes that give someone power: what the limits and the independence rules count."""
EFFECTIVE = ("done", "approved")
DAY = 24 * 3600


@dataclass(frozen=True)
class StaffChange:
    id: int
    name: str
    kind: str
    role: str | None
    status: str
    requested_by: str
    requested_at: int
    decided_by: str | None
    decided_at: int | None

    @property
    def grant(self) -> bool:
        return self.kind in GRANTS and self.status in EFFECTIVE

    def granted_by(self) -> set[str]:
        """Everyone who made this change happen (the requester and any approver)."""
        return {self.requested_by} | ({self.decided_by} if self.decided_by else set())


_COLUMNS = (
    staff_change.c.id,
    staff_change.c.name,
    staff_change.c.kind,
    staff_change.c.role,
    staff_change.c.status,
    staff_change.c.requested_by,
    staff_change.c.requested_at,
    staff_change.c.decided_by,
    staff_change.c.decided_at,
)


def _view(r: Any) -> StaffChange:
    return StaffChange(
        int(r[0]),
        r[1],
        r[2],
        r[3],
        r[4],
        r[5],
        int(r[6]),
        r[7],
        None if r[8] is None else int(r[8]),
    )


def record(
    conn: Connection,
    *,
    name: str,
    kind: str,
    role: str | None,
    status: str,
    by: str,
    now: int,
    token_hash: str | None = None,
) -> int:
    """Write one change of member ``name`` requested by ``by``; return its id (the sequence)."""
    return int(
        conn.execute(
            staff_change.insert()
            .values(
                name=name,
                kind=kind,
                role=role,
                status=status,
                requested_by=by[:64],
                requested_at=now,
                token_hash=token_hash,
            )
            .returning(staff_change.c.id)
        ).scalar_one()
    )


def find(conn: Connection, change_id: int) -> StaffChange:
    """Change ``change_id``; raises ``NotFound``."""
    row = conn.execute(select(*_COLUMNS).where(staff_change.c.id == change_id)).first()
    if row is None:
        raise NotFound("staff change", str(change_id))
    return _view(row)


def token_hash_of(conn: Connection, change_id: int) -> str | None:
    """The keyed hash of a pending creation's token."""
    value = conn.execute(
        select(staff_change.c.token_hash).where(staff_change.c.id == change_id)
    ).scalar_one_or_none()
    return None if value is None else str(value)


def decide(conn: Connection, change_id: int, status: str, *, by: str, now: int) -> bool:
    """Move a pending change to ``status``; False when it was no longer pending."""
    done = conn.execute(
        update(staff_change)
        .where(and_(staff_change.c.id == change_id, staff_change.c.status == "pending"))
        .values(status=status, decided_by=by[:64], decided_at=now, token_hash=None)
    )
    return int(done.rowcount) == 1


def pending(conn: Connection) -> list[StaffChange]:
    """Changes waiting for a second admin, oldest first."""
    rows = conn.execute(
        select(*_COLUMNS).where(staff_change.c.status == "pending").order_by(staff_change.c.id)
    )
    return [_view(r) for r in rows]


def pending_creation(conn: Connection, name: str) -> StaffChange | None:
    """A creation of ``name`` still waiting for approval, if any."""
    row = conn.execute(
        select(*_COLUMNS).where(
            and_(
                staff_change.c.name == name,
                staff_change.c.kind == "create",
                staff_change.c.status == "pending",
            )
        )
    ).first()
    return None if row is None else _view(row)


def of_member(conn: Connection, name: str) -> list[StaffChange]:
    """Every change of member ``name``, oldest first."""
    rows = conn.execute(
        select(*_COLUMNS).where(staff_change.c.name == name).order_by(staff_change.c.id)
    )
    return [_view(r) for r in rows]


def listing(conn: Connection, *, offset: int = 0, limit: int = 50) -> list[StaffChange]:
    """Every change, newest first."""
    rows = conn.execute(
        select(*_COLUMNS).order_by(staff_change.c.id.desc()).offset(offset).limit(limit)
    )
    return [_view(r) for r in rows]


def grants_made_alone(conn: Connection, by: str, now: int) -> int:
    """How many grants ``by`` made without a second admin in the 24 hours before ``now``."""
    return int(
        conn.execute(
            select(func.count()).where(
                and_(
                    staff_change.c.requested_by == by,
                    staff_change.c.kind.in_(GRANTS),
                    staff_change.c.status == "done",
                    staff_change.c.requested_at > now - DAY,
                )
            )
        ).scalar_one()
    )


def latest_seq(conn: Connection) -> int:
    """The id of the newest change (0 when there is none): "now" in the staff sequence."""
    return int(conn.execute(select(func.coalesce(func.max(staff_change.c.id), 0))).scalar_one())
