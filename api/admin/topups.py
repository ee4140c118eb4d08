"""Phone top-ups (issue 16 §2): staff list them, see one with its history, retry one.

A retry puts an open or stalled top-up back to ``requested``, due now; the ``recharge``
job sends it (with the same idempotency key) within a minute.
"""

from __future__ import annotations

from api.admin.fields import integer, text
from api.admin.registry import ADMIN, BUSINESS_ADMIN, SUPPORT, Call, Route
from core.platform.schema import TOPUP_STATUSES
from core.recharge import topups
from core.recharge.topups import TopupDetail, TopupView

READ = frozenset({BUSINESS_ADMIN, ADMIN, SUPPORT})
WRITE = frozenset({BUSINESS_ADMIN, ADMIN})
NO = (text("no", 20, pattern=r"^[A-Za-z0-9-]{1,20}$"),)
LIST = (
    text("status", 10, enum=TOPUP_STATUSES, required=False),
    integer("offset", 0, 1_000_000, required=False),
    integer("limit", 1, 200, required=False),
)


async def list_topups(call: Call) -> list[TopupView]:
    """List top-ups, newest first, optionally in one status."""
    return await call.read(
        topups.listing,
        status=call.query.get("status"),
        offset=call.query.get("offset", 0),
        limit=call.query.get("limit", 50),
    )


async def get_topup(call: Call) -> TopupDetail:
    """Show the top-up of an order with its history."""
    return await call.read(topups.detail, no=call.path["no"])


async def retry(call: Call) -> TopupView:
    """Send an open or stalled top-up again (the recharge job submits it within a minute)."""
    return await call.write(topups.retry, no=call.path["no"], by=call.staff.name, now=call.now)


TAG = "orders"
ROUTES = (
    Route("GET", "/topups", list_topups, READ, "list top-ups", TAG, list[TopupView], query=LIST),
    Route("GET", "/topups/{no}", get_topup, READ, "show a top-up", TAG, TopupDetail, NO),
    Route("POST", "/topups/{no}/retry", retry, WRITE, "retry a top-up", TAG, TopupView, NO),
)
