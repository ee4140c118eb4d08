"""Staff members (admins only): list, create (the token is answered once), disable."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from api.admin.fields import body, text
from api.admin.registry import ADMIN, Call, Route
from core.backoffice import operator_staff
from core.backoffice.operator_staff import OperatorStaff
from core.platform.errors import Invalid
from core.platform.schema import OPERATOR_ROLES

ADMINS = frozenset({ADMIN})
NAME_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
NAME = (text("name", 64, pattern=NAME_PATTERN),)
NEW = body(*NAME, text("role", 16, enum=OPERATOR_ROLES))


@dataclass(frozen=True)
class NewStaff:
    staff: OperatorStaff
    token: str
    """Shown this once; only its keyed hash is stored."""


async def list_staff(call: Call) -> list[OperatorStaff]:
    """List staff members."""
    return await call.read(operator_staff.members)


async def add_staff(call: Call) -> NewStaff:
    """Create a staff member; the answer carries their token, shown only this once."""
    member, token = await call.write(
        operator_staff.add,
        keyring=call.deps.keyring,
        name=call.body["name"],
        role=call.body["role"],
        by=call.staff.name,
        now=call.now,
    )
    return NewStaff(member, token)


async def disable_staff(call: Call) -> OperatorStaff:
    """Disable a staff member (not oneself): their token stops working."""

    def unit(conn: Connection, name: str) -> OperatorStaff:
        if name == call.staff.name:
            raise Invalid("name", "staff cannot disable themselves")
        return operator_staff.disable(conn, name, by=call.staff.name, now=call.now)

    return await call.write(unit, name=call.path["name"])


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
)
