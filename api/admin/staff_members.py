"""Staff members (admins only): list, create (the token is answered once), change a role,
disable, enable again; staff changes beyond the daily limit wait for a second admin
(``/staff-changes``, issue 13 §3). The rules are ``core.backoffice.staffing``'s."""

from __future__ import annotations

from dataclasses import dataclass

from api.admin.fields import body, integer, text
from api.admin.registry import Call, Route
from core.backoffice import duties, staff_history, staffing
from core.backoffice.operator_staff import OperatorStaff, members
from core.backoffice.staff_history import StaffChange
from core.backoffice.staffing import Change
from core.platform.schema import OPERATOR_ROLES

ADMINS = duties.DUTIES[duties.STAFF_MANAGE]
NAME_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
NAME = (text("name", 64, pattern=NAME_PATTERN),)
ROLE = text("role", 16, enum=OPERATOR_ROLES)
NEW = body(*NAME, ROLE)
NEW_ROLE = body(ROLE)
CHANGE_ID = (integer("id", 1, 2**53 - 1),)
CHANGES = (text("status", 8, enum=("pending", "all"), required=False),)


@dataclass(frozen=True)
class NewStaff:
    staff: OperatorStaff | None
    """The new member; null while the creation waits for a second admin."""
    token: str
    """Shown this once; only its keyed hash is stored. It works once the member exists."""
    change: StaffChange
    pending: bool


@dataclass(frozen=True)
class ChangeAnswer:
    change: StaffChange
    staff: OperatorStaff | None
    pending: bool


def _answer(done: Change) -> ChangeAnswer:
    return ChangeAnswer(done.change, done.member, done.pending)


async def list_staff(call: Call) -> list[OperatorStaff]:
    """List staff members."""
    return await call.read(members)


async def add_staff(call: Call) -> NewStaff:
    """Create a staff member; the answer carries their token, shown only this once. Beyond
    the daily limit the creation is pending until a second admin approves it."""
    done = await call.write(
        staffing.create,
        keyring=call.deps.keyring,
        actor=call.staff,
        name=call.body["name"],
        role=call.body["role"],
        now=call.now,
        alone_per_day=call.deps.staff_changes_per_day,
    )
    assert done.token is not None
    return NewStaff(done.member, done.token, done.change, done.pending)


async def disable_staff(call: Call) -> OperatorStaff:
    """Disable a staff member (not oneself): their token and console sessions stop working."""
    done = await call.write(
        staffing.disable, actor=call.staff, name=call.path["name"], now=call.now
    )
    assert done.member is not None
    return done.member


async def enable_staff(call: Call) -> ChangeAnswer:
    """Enable a disabled member again (pending beyond the daily limit)."""
    done = await call.write(
        staffing.enable,
        actor=call.staff,
        name=call.path["name"],
        now=call.now,
        alone_per_day=call.deps.staff_changes_per_day,
    )
    return _answer(done)


async def change_role(call: Call) -> ChangeAnswer:
    """Give a member another role (pending beyond the daily limit)."""
    done = await call.write(
        staffing.change_role,
        actor=call.staff,
        name=call.path["name"],
        role=call.body["role"],
        now=call.now,
        alone_per_day=call.deps.staff_changes_per_day,
    )
    return _answer(done)


async def list_changes(call: Call) -> list[StaffChange]:
    """Staff changes: those waiting for a second admin (default), or all, newest first."""
    if call.query.get("status", "pending") == "pending":
        return await call.read(staff_history.pending)
    return await call.read(staff_history.listing, limit=200)


async def approve_change(call: Call) -> ChangeAnswer:
    """Approve another admin's pending staff change (you must be independent of them)."""
    done = await call.write(
        staffing.approve, actor=call.staff, change_id=call.path["id"], now=call.now
    )
    return _answer(done)


async def reject_change(call: Call) -> ChangeAnswer:
    """Reject a pending staff change (or withdraw your own)."""
    done = await call.write(
        staffing.reject, actor=call.staff, change_id=call.path["id"], now=call.now
    )
    return _answer(done)


TAG = "staff"
ROUTES = (
    Route("GET", "/staff", list_staff, ADMINS, "list staff", TAG, list[OperatorStaff]),
    Route(
        "POST",
        "/staff",
        add_staff,
        ADMINS,
        "create a staff member",
        TAG,
        NewStaff,
        body=NEW,
        status=201,
    ),
    Route(
        "POST",
        "/staff/{name}/disable",
        disable_staff,
        ADMINS,
        "disable a staff member",
        TAG,
        OperatorStaff,
        NAME,
    ),
    Route(
        "POST",
        "/staff/{name}/enable",
        enable_staff,
        ADMINS,
        "enable a staff member again",
        TAG,
        ChangeAnswer,
        NAME,
    ),
    Route(
        "POST",
        "/staff/{name}/role",
        change_role,
        ADMINS,
        "change a staff member's role",
        TAG,
        ChangeAnswer,
        NAME,
        body=NEW_ROLE,
    ),
    Route(
        "GET",
        "/staff-changes",
        list_changes,
        ADMINS,
        "list staff changes",
        TAG,
        list[StaffChange],
        query=CHANGES,
    ),
    Route(
        "POST",
        "/staff-changes/{id}/approve",
        approve_change,
        ADMINS,
        "approve a pending staff change",
        TAG,
        ChangeAnswer,
        CHANGE_ID,
    ),
    Route(
        "POST",
        "/staff-changes/{id}/reject",
        reject_change,
        ADMINS,
        "reject a pending staff change",
        TAG,
        ChangeAnswer,
        CHANGE_ID,
    ),
)
