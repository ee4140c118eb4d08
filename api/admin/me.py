"""``GET /me``: who the token belongs to."""

from __future__ import annotations

from api.admin.registry import EVERYONE, Call, Route
from core.backoffice.operator_staff import OperatorStaff


async def whoami(call: Call) -> OperatorStaff:
    """Answer the caller's own staff record."""
    return call.staff


ROUTES = (Route("GET", "/me", whoami, EVERYONE, "show the caller", "staff", OperatorStaff),)
