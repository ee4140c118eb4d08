"""Manual points adjustments with a reason, under the two-person rule (issue 8)."""

from __future__ import annotations

from api.admin.fields import body, integer, text
from api.admin.registry import ADMIN, FINANCE, SUPPORT, Call, Route
from core.backoffice import decisions, duties
from core.backoffice.errors import NotIndependent
from core.platform.phones import to_e164
from core.platform.schema import ADJUSTMENT_STATUSES
from core.points import adjustments
from core.points.adjustments import MAX_POINTS, Adjustment
from core.settlement.settlement import period_of

READ = frozenset({SUPPORT, FINANCE, ADMIN})
PROPOSE = duties.DUTIES[duties.ADJUSTMENT_PROPOSE]
DECIDE = duties.DUTIES[duties.ADJUSTMENT_DECIDE]
ID = (integer("id", 1, 2**53 - 1),)
PROPOSAL = body(
    text("msisdn", 32, pattern=r"^\+?[0-9 -]{5,31}$"),
    integer("points", -MAX_POINTS, MAX_POINTS, description="non-zero; negative takes points"),
    text("reason", 200),
)
REJECTION = body(text("reason", 200, min_length=0, required=False))
LIST = (
    text("status", 10, enum=ADJUSTMENT_STATUSES, required=False),
    integer("offset", 0, 1_000_000, required=False),
    integer("limit", 1, 200, required=False),
)


async def list_adjustments(call: Call) -> list[Adjustment]:
    """List adjustments, newest first, optionally in one status."""
    return await call.read(
        adjustments.listing,
        status=call.query.get("status"),
        offset=call.query.get("offset", 0),
        limit=call.query.get("limit", 50),
    )


async def get_adjustment(call: Call) -> Adjustment:
    """Show one adjustment."""
    return await call.read(adjustments.find, adjustment_id=call.path["id"])


async def propose(call: Call) -> Adjustment:
    """Propose an adjustment; another staff member must approve it."""
    return await call.write(
        decisions.propose_adjustment,
        proposer=call.staff,
        msisdn=to_e164(call.body["msisdn"], call.deps.region),
        points=call.body["points"],
        reason=call.body["reason"],
        now=call.now,
    )


async def approve(call: Call) -> Adjustment:
    """Approve a proposal of someone independent of you: posts the entry ``adjust:{id}``.

    Refused (403 ``two_person_rule``, the reason in ``detail``) for its proposer, for a
    member created, re-enabled or given a role after it was proposed, and for anyone the
    proposer ever appointed (issue 13 §3)."""
    period = period_of(call.now, call.deps.timezone)
    try:
        return await call.write(
            decisions.approve_adjustment,
            approver=call.staff,
            adjustment_id=call.path["id"],
            now=call.now,
            expires_at=call.deps.rules.expires_at(period),
        )
    except NotIndependent as exc:
        await call.write(decisions.record_refusal, error=exc, now=call.now)
        raise


async def reject(call: Call) -> Adjustment:
    """Reject a proposal; nothing is posted."""
    return await call.write(
        decisions.reject_adjustment,
        decider=call.staff,
        adjustment_id=call.path["id"],
        reason=call.body.get("reason", ""),
        now=call.now,
    )


TAG = "adjustments"
ROUTES = (
    Route(
        "GET",
        "/adjustments",
        list_adjustments,
        READ,
        "list adjustments",
        TAG,
        list[Adjustment],
        query=LIST,
    ),
    Route(
        "POST",
        "/adjustments",
        propose,
        PROPOSE,
        "propose an adjustment",
        TAG,
        Adjustment,
        body=PROPOSAL,
        status=201,
    ),
    Route(
        "GET", "/adjustments/{id}", get_adjustment, READ, "show an adjustment", TAG, Adjustment, ID
    ),
    Route(
        "POST",
        "/adjustments/{id}/approve",
        approve,
        DECIDE,
        "approve an adjustment",
        TAG,
        Adjustment,
        ID,
    ),
    Route(
        "POST",
        "/adjustments/{id}/reject",
        reject,
        DECIDE,
        "reject an adjustment",
        TAG,
        Adjustment,
        ID,
        body=REJECTION,
    ),
)
