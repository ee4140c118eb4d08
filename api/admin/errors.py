"""Domain errors → HTTP status and problem type for the admin API: one table.

Looked up along the exception's MRO (like ``api.pos_errors``). Bodies are RFC 9457
problem documents: ``{"type", "title", "status", "detail"}`` as
``application/problem+json``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from core.backoffice.errors import (
    ChangeNotPending,
    NamedAdminNeeded,
    NotIndependent,
    NotPermitted,
    SelfChange,
    StaffDisabled,
    UnknownStaff,
)
from core.catalogue.errors import UnknownItem
from core.feedback.errors import UnknownMessage, UnknownQuestion
from core.merchants.errors import (
    ApplicationNotPending,
    MerchantNotApproved,
    NotOwner,
    UnknownApplication,
    UnknownMerchant,
)
from core.orders.errors import IllegalTransition, UnknownOrder
from core.platform.errors import (
    AlreadyExists,
    DomainError,
    DuplicateEntry,
    Invalid,
    InvalidPhoneNumber,
    NotFound,
)
from core.points.errors import AdjustmentNotPending, InsufficientPoints, NoAccount, SameStaff
from core.recharge.errors import TopupFinished, UnknownTopup
from core.settlement.errors import BadPeriod, IllegalStatementMove, ReasonRequired, UnknownStatement
from core.subscribers.errors import UnknownSubscriber

PROBLEM = "application/problem+json"

ADMIN_ERRORS: dict[type[DomainError], tuple[int, str]] = {
    NotFound: (404, "not_found"),
    UnknownSubscriber: (404, "unknown_subscriber"),
    NoAccount: (404, "no_account"),
    UnknownItem: (404, "unknown_item"),
    UnknownOrder: (404, "unknown_order"),
    UnknownApplication: (404, "unknown_application"),
    UnknownMerchant: (404, "unknown_merchant"),
    UnknownStatement: (404, "unknown_statement"),
    UnknownMessage: (404, "unknown_message"),
    UnknownQuestion: (404, "unknown_question"),
    UnknownTopup: (404, "unknown_topup"),
    TopupFinished: (409, "topup_finished"),
    AlreadyExists: (409, "already_exists"),
    AdjustmentNotPending: (409, "adjustment_not_pending"),
    SameStaff: (403, "two_person_rule"),
    NotIndependent: (403, "two_person_rule"),
    NotPermitted: (403, "forbidden"),
    StaffDisabled: (403, "staff_disabled"),
    NotOwner: (403, "not_owner"),
    UnknownStaff: (404, "unknown_staff"),
    ChangeNotPending: (409, "staff_change_not_pending"),
    NamedAdminNeeded: (409, "named_admin_needed"),
    SelfChange: (422, "self_change"),
    ApplicationNotPending: (409, "application_not_pending"),
    IllegalTransition: (409, "illegal_transition"),
    IllegalStatementMove: (409, "illegal_statement_move"),
    InsufficientPoints: (409, "insufficient_points"),
    DuplicateEntry: (409, "idempotency_key_reused"),
    MerchantNotApproved: (422, "merchant_not_approved"),
    InvalidPhoneNumber: (400, "bad_phone"),
    BadPeriod: (400, "bad_period"),
    ReasonRequired: (422, "reason_required"),
    Invalid: (422, "invalid"),
    DomainError: (422, "refused"),
}

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    422: "Unprocessable Content",
    500: "Internal Server Error",
}


def problem(
    status: int, kind: str, detail: str = "", headers: dict[str, str] | None = None
) -> web.Response:
    body: dict[str, Any] = {
        "type": f"urn:pointshall:problem:{kind}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    return web.json_response(body, status=status, content_type=PROBLEM, headers=headers)


def domain_problem(exc: DomainError) -> web.Response:
    status, kind = 422, "refused"
    for cls in type(exc).__mro__:
        if cls in ADMIN_ERRORS:
            status, kind = ADMIN_ERRORS[cls]
            break
    return problem(status, kind, str(exc))


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
    },
}
