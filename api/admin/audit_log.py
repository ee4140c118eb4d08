"""The audit log, newest first (every change made through this API is in it)."""

from __future__ import annotations

from api.admin.fields import integer, text
from api.admin.registry import ADMIN, FINANCE, Call, Route
from core.platform import audit
from core.platform.audit import LoggedAction

READ = frozenset({ADMIN, FINANCE})
QUERY = (
    text("subject", 64, required=False),
    integer("offset", 0, 1_000_000, required=False),
    integer("limit", 1, 500, required=False),
)


async def list_audit(call: Call) -> list[LoggedAction]:
    """Page through the audit log, optionally for one subject (e.g. ``adjustment:3``)."""
    return await call.read(
        audit.page,
        subject=call.query.get("subject"),
        offset=call.query.get("offset", 0),
        limit=call.query.get("limit", 100),
    )


ROUTES = (
    Route(
        "GET",
        "/audit",
        list_audit,
        READ,
        "read the audit log",
        "audit",
        list[LoggedAction],
        query=QUERY,
    ),
)
