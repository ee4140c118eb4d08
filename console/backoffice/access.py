"""Who may do what in the back office (issue 16 §1): one table of capabilities → roles.

The roles and what each may do are the admin API's (``api.admin``; a test compares them
route by route) and ``core.backoffice.operator_staff``'s description of the roles. Pages
the admin API does not have (order refunds, merchants, contract rates, terminals) follow
the same split: business admins run the catalogue, logistics and merchant admission (and
merchants' staff phones), finance the money (contract rates with admins), support the
subscribers, admins everything operational (POS terminals, whose keys sign payments, only
admins).

Where a capability is one of the operator's reviewed decisions (issue 13 §3: logistics,
feedback, adjustments, goods and merchant reviews, merchants' staff, terminals, rates,
statements, operator staff) its roles are read from ``core.backoffice.duties.DUTIES``, the
table the admin API and the command line read too, so the three can never disagree; the
core's ``decisions`` and ``staffing`` functions the pages call check the same table again.
"""

from __future__ import annotations

from core.backoffice import duties
from core.backoffice.duties import ADMIN, BUSINESS_ADMIN, DUTIES, FINANCE, SUPPORT
from core.platform.schema import OPERATOR_ROLES

assert set(OPERATOR_ROLES) == {BUSINESS_ADMIN, ADMIN, FINANCE, SUPPORT}
EVERYONE = frozenset(OPERATOR_ROLES)
OFFICE = frozenset({BUSINESS_ADMIN, ADMIN})
"""The catalogue, content, logistics and merchant admission."""

CAN: dict[str, frozenset[str]] = {
    "catalogue.read": EVERYONE,
    "catalogue.write": OFFICE,
    "content.read": EVERYONE,
    "content.write": OFFICE,
    "orders.read": frozenset({BUSINESS_ADMIN, ADMIN, SUPPORT}),
    "orders.write": DUTIES[duties.ORDER_LOGISTICS],
    "orders.refund": DUTIES[duties.ORDER_LOGISTICS],
    "feedback.read": frozenset({BUSINESS_ADMIN, ADMIN, SUPPORT}),
    "feedback.reply": DUTIES[duties.MESSAGE_REPLY] | DUTIES[duties.QUESTION_ANSWER],
    "feedback.moderate": DUTIES[duties.REVIEW_MODERATE],
    "subscribers.read": frozenset({SUPPORT, FINANCE, ADMIN}),
    "adjustments.read": frozenset({SUPPORT, FINANCE, ADMIN}),
    "adjustments.propose": DUTIES[duties.ADJUSTMENT_PROPOSE],
    "adjustments.decide": DUTIES[duties.ADJUSTMENT_DECIDE],
    "goods.review": DUTIES[duties.GOODS_REVIEW],
    "applications.first": DUTIES[duties.APPLICATION_FIRST_REVIEW],
    "applications.final": DUTIES[duties.APPLICATION_FINAL_REVIEW],
    "merchants.read": frozenset({BUSINESS_ADMIN, ADMIN, FINANCE}),
    "merchants.staff": DUTIES[duties.MERCHANT_STAFF],
    "merchants.terminals": DUTIES[duties.MERCHANT_TERMINAL],
    "rates.write": DUTIES[duties.MERCHANT_RATE],
    "statements.read": frozenset({FINANCE, ADMIN}),
    "statements.move": DUTIES[duties.STATEMENT_APPROVE] | DUTIES[duties.STATEMENT_PAY],
    "reports.read": frozenset({FINANCE, ADMIN}),
    "staff.manage": DUTIES[duties.STAFF_MANAGE],
    "audit.read": frozenset({ADMIN, FINANCE}),
}

NAV: tuple[tuple[str, str, str], ...] = (
    ("bo_nav_orders", "/orders", "orders.read"),
    ("bo_nav_topups", "/topups", "orders.read"),  # retry: "orders.write", as /topups in the API
    ("bo_nav_subscribers", "/subscribers", "subscribers.read"),
    ("bo_nav_adjustments", "/adjustments", "adjustments.read"),
    ("bo_nav_items", "/items", "catalogue.read"),
    ("bo_nav_categories", "/categories", "catalogue.read"),
    ("bo_nav_brands", "/brands", "catalogue.read"),
    ("bo_nav_activities", "/activities", "catalogue.read"),
    ("bo_nav_announcements", "/announcements", "content.read"),
    ("bo_nav_banners", "/banners", "content.read"),
    ("bo_nav_ads", "/ads", "content.read"),
    ("bo_nav_messages", "/messages", "feedback.read"),
    ("bo_nav_questions", "/questions", "feedback.read"),
    ("bo_nav_ratings", "/ratings", "feedback.read"),
    ("ops_nav_reviews", "/reviews", "goods.review"),
    ("ops_nav_applications", "/applications", "applications.first"),
    ("bo_nav_merchants", "/merchants", "merchants.read"),
    ("bo_nav_statements", "/statements", "statements.read"),
    ("bo_nav_reports", "/reports", "reports.read"),
    ("bo_nav_staff", "/staff", "staff.manage"),
    ("bo_nav_audit", "/audit", "audit.read"),
)
"""The menu: (words key, path under ``/console/ops``, capability), in the order shown."""


def may(role: str, capability: str) -> bool:
    """Whether ``role`` has ``capability`` (a key of ``CAN``; an unknown one is a bug)."""
    return role in CAN[capability]


def menu(role: str) -> list[tuple[str, str]]:
    """The (words key, path) of every page ``role`` may open, in menu order."""
    return [(key, path) for key, path, capability in NAV if may(role, capability)]
