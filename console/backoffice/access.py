"""Who may do what in the back office (issue 16 §1): one table of capabilities → roles.

The roles and what each may do are the admin API's (``api.admin``; a test compares them
route by route) and ``core.backoffice.operator_staff``'s description of the roles. Pages
the admin API does not have (order refunds, merchants, contract rates, terminals) follow
the same split: business admins run the catalogue, logistics and merchant admission (and
merchants' staff phones), finance the money (contract rates with admins), support the
subscribers, admins everything operational (POS terminals, whose keys sign payments, only
admins). These are the roles the separation-of-duties work (issue 13 §3) gives the same
decisions in the command line and the admin API.
"""

from __future__ import annotations

from core.platform.schema import OPERATOR_ROLES

BUSINESS_ADMIN, ADMIN, FINANCE, SUPPORT = "business_admin", "admin", "finance", "support"
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
    "orders.write": OFFICE,
    "orders.refund": OFFICE,
    "feedback.read": frozenset({BUSINESS_ADMIN, ADMIN, SUPPORT}),
    "feedback.reply": frozenset({BUSINESS_ADMIN, ADMIN, SUPPORT}),
    "feedback.moderate": OFFICE,
    "subscribers.read": frozenset({SUPPORT, FINANCE, ADMIN}),
    "adjustments.read": frozenset({SUPPORT, FINANCE, ADMIN}),
    "adjustments.propose": frozenset({SUPPORT, ADMIN}),
    "adjustments.decide": frozenset({FINANCE, ADMIN}),
    "goods.review": OFFICE,
    "applications.first": OFFICE,
    "applications.final": frozenset({ADMIN}),
    "merchants.read": frozenset({BUSINESS_ADMIN, ADMIN, FINANCE}),
    "merchants.staff": OFFICE,
    "merchants.terminals": frozenset({ADMIN}),
    "rates.write": frozenset({FINANCE, ADMIN}),
    "statements.read": frozenset({FINANCE, ADMIN}),
    "statements.move": frozenset({FINANCE}),
    "reports.read": frozenset({FINANCE, ADMIN}),
    "staff.manage": frozenset({ADMIN}),
    "audit.read": frozenset({ADMIN, FINANCE}),
}

NAV: tuple[tuple[str, str, str], ...] = (
    ("bo_nav_orders", "/orders", "orders.read"),
    # Recharge (issue 16 §2) goes here: ("bo_nav_topups", "/topups", "orders.read"), a page
    # listing top-ups by status with a retry button ("orders.write", as the admin API's
    # /topups routes), once core has the top-up list, detail and retry functions.
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
