"""Changing operator staff, under separation of duties (issue 13 §3).

Only an active admin creates members, changes roles, re-enables and disables them, and
never their own record. Every change is recorded (``core.backoffice.staff_history``) and
audited. Changes that give power — a creation, a role change, a re-enabling — are made at
once only while the admin has made fewer than ``alone_per_day`` of them in the last 24
hours (the setting ``POINTSHALL_STAFF_CHANGES_PER_DAY``, default ``DEFAULT_ALONE_PER_DAY``;
0 means every one); beyond that each one waits, ``pending``, until a *second* admin
approves it (``approve``), one who is independent of the first by the rules of
``core.backoffice.duties.check_independent``. A pending creation's token is shown to the
requester at once and starts working when the change is approved. Disabling takes power
away and is never held back.

``set_up`` is the way in for a new installation: without a named admin, and only while
fewer than two admins are active (the command line's ``staff add`` without ``--by``).

These are the entry points for every channel (admin API, command line, back-office
pages); their names are stable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Connection, select

from core.backoffice import duties, operator_staff, staff_history
from core.backoffice.errors import (
    ChangeNotPending,
    NamedAdminNeeded,
    SamePerson,
    SelfChange,
    UnknownRole,
    UnknownStaff,
)
from core.backoffice.operator_staff import PURPOSE, OperatorStaff
from core.backoffice.staff_history import StaffChange
from core.platform.codes import Keyring
from core.platform.errors import AlreadyExists, Invalid, NotFound
from core.platform.schema import OPERATOR_ROLES, staff

DEFAULT_ALONE_PER_DAY = 3
SET_UP_BY = "set-up"
"""Who an unnamed change is recorded as (the installation's first admins)."""
SET_UP_ADMINS = 2
NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


@dataclass(frozen=True)
class Change:
    """A staff change and the member as it is after it."""

    change: StaffChange
    member: OperatorStaff | None
    """``None`` while a creation waits for its second admin."""
    token: str | None = None
    """A new member's bearer token, shown this once (only its keyed hash is kept)."""

    @property
    def pending(self) -> bool:
        return self.change.status == "pending"


def _member(conn: Connection, name: str) -> OperatorStaff:
    try:
        return operator_staff.find(conn, name)
    except NotFound:
        raise UnknownStaff(name) from None


def _admin(actor: OperatorStaff, target: str) -> None:
    duties.permit(actor, duties.STAFF_MANAGE)
    if actor.name == target:
        raise SelfChange(actor.name)


def _no_pending(conn: Connection, name: str) -> None:
    if any(c.status == "pending" for c in staff_history.of_member(conn, name)):
        raise AlreadyExists("pending staff change", name)


def _alone(conn: Connection, actor: OperatorStaff, now: int, alone_per_day: int) -> bool:
    """Whether ``actor`` may make one more grant now without a second admin."""
    return staff_history.grants_made_alone(conn, actor.name, now) < alone_per_day


def _check_new(conn: Connection, name: str, role: str) -> None:
    if not NAME.fullmatch(name):
        raise Invalid("name", "1-64 of A-Z a-z 0-9 _ . -")
    if role not in OPERATOR_ROLES:
        raise UnknownRole(role)
    taken = conn.execute(select(staff.c.id).where(staff.c.name == name)).first()
    if taken is not None or staff_history.pending_creation(conn, name) is not None:
        raise AlreadyExists("staff", name)


def create(
    conn: Connection,
    keyring: Keyring,
    actor: OperatorStaff,
    name: str,
    role: str,
    *,
    now: int,
    alone_per_day: int = DEFAULT_ALONE_PER_DAY,
) -> Change:
    """``actor`` (an admin) creates member ``name`` with ``role``; the token is in the answer.

    Beyond ``alone_per_day`` grants in 24 hours the creation is pending (the member does not
    exist until a second admin approves; the token works from then). Raises
    ``NotPermitted``, ``StaffDisabled``, ``SelfChange``, ``UnknownRole``, ``Invalid``
    (name), ``AlreadyExists``.
    """
    _admin(actor, name)
    _check_new(conn, name, role)
    token = operator_staff.new_token()
    token_hash = keyring.digest(PURPOSE, token)
    if _alone(conn, actor, now, alone_per_day):
        member = operator_staff.insert(conn, name, role, token_hash, now)
        change_id = staff_history.record(
            conn, name=name, kind="create", role=role, status="done", by=actor.name, now=now
        )
        operator_staff.audit_change(conn, actor.name, "staff_add", name, role, now)
        return Change(staff_history.find(conn, change_id), member, token)
    change_id = staff_history.record(
        conn,
        name=name,
        kind="create",
        role=role,
        status="pending",
        by=actor.name,
        now=now,
        token_hash=token_hash,
    )
    operator_staff.audit_change(conn, actor.name, "staff_add", name, "pending", now, {"role": role})
    return Change(staff_history.find(conn, change_id), None, token)


def set_up(conn: Connection, keyring: Keyring, name: str, role: str, *, now: int) -> Change:
    """Create a member without a named admin: only while fewer than two admins are active.

    Raises ``NamedAdminNeeded`` otherwise, and as ``create`` for a bad name or role.
    """
    admins = len(operator_staff.active_admins(conn))
    if admins >= SET_UP_ADMINS:
        raise NamedAdminNeeded(admins)
    _check_new(conn, name, role)
    member, token = operator_staff.add(conn, keyring, name, role, by=SET_UP_BY, now=now)
    change = staff_history.of_member(conn, name)[-1]
    return Change(change, member, token)


def change_role(
    conn: Connection,
    actor: OperatorStaff,
    name: str,
    role: str,
    *,
    now: int,
    alone_per_day: int = DEFAULT_ALONE_PER_DAY,
) -> Change:
    """``actor`` (an admin) gives member ``name`` ``role``; pending beyond the daily limit.

    Raises ``NotPermitted``, ``StaffDisabled``, ``SelfChange``, ``UnknownStaff``,
    ``UnknownRole``, ``Invalid`` (the member has that role already), ``AlreadyExists``
    (a change of that member is pending).
    """
    _admin(actor, name)
    if role not in OPERATOR_ROLES:
        raise UnknownRole(role)
    member = _member(conn, name)
    if member.role == role:
        raise Invalid("role", f"{name} is {role} already")
    _no_pending(conn, name)
    if _alone(conn, actor, now, alone_per_day):
        member = operator_staff.set_role(conn, name, role)
        status = "done"
    else:
        status = "pending"
    change_id = staff_history.record(
        conn, name=name, kind="role", role=role, status=status, by=actor.name, now=now
    )
    operator_staff.audit_change(
        conn, actor.name, "staff_role", name, status, now, {"role": role, "was": member.role}
    )
    return Change(staff_history.find(conn, change_id), member)


def enable(
    conn: Connection,
    actor: OperatorStaff,
    name: str,
    *,
    now: int,
    alone_per_day: int = DEFAULT_ALONE_PER_DAY,
) -> Change:
    """``actor`` (an admin) enables disabled member ``name`` again; pending beyond the limit.

    Raises ``NotPermitted``, ``StaffDisabled``, ``SelfChange``, ``UnknownStaff``,
    ``Invalid`` (not disabled), ``AlreadyExists`` (a change of that member is pending).
    """
    _admin(actor, name)
    member = _member(conn, name)
    if member.active:
        raise Invalid("name", f"{name} is not disabled")
    _no_pending(conn, name)
    if _alone(conn, actor, now, alone_per_day):
        member = operator_staff.set_enabled(conn, name)
        status = "done"
    else:
        status = "pending"
    change_id = staff_history.record(
        conn, name=name, kind="enable", role=member.role, status=status, by=actor.name, now=now
    )
    operator_staff.audit_change(conn, actor.name, "staff_enable", name, status, now)
    return Change(staff_history.find(conn, change_id), member)


def disable(conn: Connection, actor: OperatorStaff, name: str, *, now: int) -> Change:
    """``actor`` (an admin) disables member ``name`` at once: its token and console sessions
    stop working. Raises ``NotPermitted``, ``StaffDisabled``, ``SelfChange``, ``UnknownStaff``."""
    _admin(actor, name)
    _member(conn, name)
    member = operator_staff.disable(conn, name, by=actor.name, now=now)
    return Change(staff_history.of_member(conn, name)[-1], member)


def approve(conn: Connection, actor: OperatorStaff, change_id: int, *, now: int) -> Change:
    """A second admin approves pending change ``change_id``; it takes effect now.

    The approver must be independent of the requester (``duties.check_independent``:
    another person, in place before the request, never appointed by the requester) and
    not the member changed. Raises ``NotFound``, ``ChangeNotPending``, ``NotPermitted``,
    ``StaffDisabled``, ``SelfChange``, ``SamePerson``, ``JoinedAfter``,
    ``AppointedByProposer``, ``AlreadyExists`` (a pending creation's name was taken).
    """
    change = staff_history.find(conn, change_id)
    if change.status != "pending":
        raise ChangeNotPending(change_id, change.status)
    _admin(actor, change.name)
    duties.check_independent(
        conn,
        actor.name,
        change.requested_by,
        subject=f"staff_change:{change_id}",
        before_seq=change.id,
        proposed_at=change.requested_at,
    )
    token_hash = staff_history.token_hash_of(conn, change_id)
    if not staff_history.decide(conn, change_id, "approved", by=actor.name, now=now):
        raise ChangeNotPending(change_id, staff_history.find(conn, change_id).status)
    role = change.role or ""
    if change.kind == "create":
        member = operator_staff.insert(conn, change.name, role, token_hash or "", now)
    elif change.kind == "role":
        member = operator_staff.set_role(conn, change.name, role)
    else:
        member = operator_staff.set_enabled(conn, change.name)
    operator_staff.audit_change(
        conn,
        actor.name,
        "staff_change_approve",
        change.name,
        change.kind,
        now,
        {"change": change_id, "requested_by": change.requested_by, "role": change.role},
    )
    return Change(staff_history.find(conn, change_id), member)


def reject(conn: Connection, actor: OperatorStaff, change_id: int, *, now: int) -> Change:
    """Another admin rejects pending change ``change_id`` (or its requester withdraws it).

    Raises ``NotFound``, ``ChangeNotPending``, ``NotPermitted``, ``StaffDisabled``.
    """
    change = staff_history.find(conn, change_id)
    if change.status != "pending":
        raise ChangeNotPending(change_id, change.status)
    duties.permit(actor, duties.STAFF_MANAGE)
    if actor.name == change.name:
        raise SamePerson(f"staff_change:{change_id}", actor.name, change.requested_by)
    if not staff_history.decide(conn, change_id, "rejected", by=actor.name, now=now):
        raise ChangeNotPending(change_id, staff_history.find(conn, change_id).status)
    operator_staff.audit_change(
        conn,
        actor.name,
        "staff_change_reject",
        change.name,
        change.kind,
        now,
        {"change": change_id, "requested_by": change.requested_by},
    )
    member = None
    if change.kind != "create":
        member = operator_staff.find(conn, change.name)
    return Change(staff_history.find(conn, change_id), member)
