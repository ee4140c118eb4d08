"""Merchant admission (§3.5.5: first review by a business admin, final review by an
admin) and the review of goods merchants submit (§3.4.4)."""

from __future__ import annotations

from sqlalchemy import Connection

from api.admin.fields import body, code, integer, text
from api.admin.registry import Call, Route
from core.backoffice import decisions, duties
from core.catalogue import submissions
from core.catalogue.submissions import PendingItem
from core.merchants import admission
from core.merchants.admission import Application
from core.platform.schema import APPLICATION_STATUSES

FIRST = duties.DUTIES[duties.APPLICATION_FIRST_REVIEW]
FINAL = duties.DUTIES[duties.APPLICATION_FINAL_REVIEW]
GOODS = duties.DUTIES[duties.GOODS_REVIEW]
ID = (integer("id", 1, 2**53 - 1),)
PAGE = (integer("offset", 0, 1_000_000, required=False), integer("limit", 1, 200, required=False))
REASON = text("reason", 200, min_length=0, required=False)
FIRST_REVIEW = body(text("decision", 8, enum=("start", "pass", "reject")), REASON)
FINAL_REVIEW = body(text("decision", 8, enum=("approve", "reject")), REASON)
GOODS_REVIEW = body(text("decision", 8, enum=("approve", "reject")), REASON)


async def list_applications(call: Call) -> list[Application]:
    """List merchant applications, newest first, optionally in one status."""
    return await call.read(
        admission.listing,
        status=call.query.get("status"),
        offset=call.query.get("offset", 0),
        limit=call.query.get("limit", 50),
    )


async def get_application(call: Call) -> Application:
    """Show one application."""
    return await call.read(admission.find, application_id=call.path["id"])


async def first_review(call: Call) -> Application:
    """First review: take it up (start), pass it to final review, or reject it."""
    return await call.write(
        decisions.first_review,
        reviewer=call.staff,
        application_id=call.path["id"],
        decision=call.body["decision"],
        reason=call.body.get("reason", ""),
        now=call.now,
    )


async def final_review(call: Call) -> Application:
    """Final review: approve (the merchant is created) or reject. Approving needs an admin
    independent of the first reviewer (issue 13 §3)."""
    return await call.write(
        decisions.final_review,
        reviewer=call.staff,
        application_id=call.path["id"],
        decision=call.body["decision"],
        reason=call.body.get("reason", ""),
        now=call.now,
    )


async def list_goods(call: Call) -> list[PendingItem]:
    """List goods waiting for review."""
    return await call.read(submissions.pending_for_review)


async def review_goods(call: Call) -> list[PendingItem]:
    """Approve (list) or reject a pending item; answers the queue left."""

    def unit(conn: Connection, item_code: str) -> list[PendingItem]:
        decisions.review_goods(
            conn,
            call.staff,
            item_code,
            approve=call.body["decision"] == "approve",
            reason=call.body.get("reason", ""),
            now=call.now,
        )
        return submissions.pending_for_review(conn)

    return await call.write(unit, item_code=call.path["code"])


TAG = "merchants"
STATUS = text("status", 16, enum=APPLICATION_STATUSES, required=False)
ROUTES = (
    Route(
        "GET",
        "/merchant-applications",
        list_applications,
        FIRST,
        "list merchant applications",
        TAG,
        list[Application],
        query=(STATUS, *PAGE),
    ),
    Route(
        "GET",
        "/merchant-applications/{id}",
        get_application,
        FIRST,
        "show a merchant application",
        TAG,
        Application,
        ID,
    ),
    Route(
        "POST",
        "/merchant-applications/{id}/first-review",
        first_review,
        FIRST,
        "first-review a merchant application",
        TAG,
        Application,
        ID,
        body=FIRST_REVIEW,
    ),
    Route(
        "POST",
        "/merchant-applications/{id}/final-review",
        final_review,
        FINAL,
        "final-review a merchant application",
        TAG,
        Application,
        ID,
        body=FINAL_REVIEW,
    ),
    Route(
        "GET",
        "/goods-reviews",
        list_goods,
        GOODS,
        "list goods waiting for review",
        TAG,
        list[PendingItem],
    ),
    Route(
        "POST",
        "/goods-reviews/{code}",
        review_goods,
        GOODS,
        "review submitted goods",
        TAG,
        list[PendingItem],
        (code(),),
        body=GOODS_REVIEW,
    ),
)
