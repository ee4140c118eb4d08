"""Who may do what, and who may approve whom (issue 13 §3, §3.5.5, DESIGN §4 "±adjust").

``DUTIES`` is the one table of the operator's reviewed decisions and the roles that may
make them. The admin API's routes, the operator console pages and the command line all
read it, so a role allowed (or refused) in one is allowed (or refused) in all: the command
line acts as a *named* staff member (``acting``), never as a free string.

Separation of duties (``check_independent``): whoever decides what someone else asked for
(an adjustment, a final review after a first review, a staff change) must be

1. another person (``SamePerson``);
2. someone whose standing — creation, latest re-enabling, latest role change — is older
   than the proposal (``JoinedAfter``): a member made or promoted after it cannot approve
   it; "older" compares ``staff_change`` ids with the newest id when it was proposed
   (``adjustment.staff_seq``), so no clock is involved;
3. someone the proposer never appointed (``AppointedByProposer``): no creation,
   re-enabling or role change of the approver was requested or approved by the proposer.

Rule 3 is stricter than "not since the proposal": creating the accomplice *before*
proposing is the same attack in another order. What it does not see is a chain (A makes B
an admin, B makes C finance); the daily limit on staff changes made alone and the second
admin beyond it (``core.backoffice.staffing``) are what bound that.
"""

from __future__ import annotations

from sqlalchemy import Connection

from core.backoffice import operator_staff, staff_history
from core.backoffice.errors import (
    AppointedByProposer,
    JoinedAfter,
    NotPermitted,
    SamePerson,
    StaffDisabled,
    UnknownStaff,
)
from core.backoffice.operator_staff import OperatorStaff
from core.platform.errors import NotFound

BUSINESS_ADMIN, ADMIN, FINANCE, SUPPORT = "business_admin", "admin", "finance", "support"

APPLICATION_FIRST_REVIEW = "application_first_review"
APPLICATION_FINAL_REVIEW = "application_final_review"
GOODS_REVIEW = "goods_review"
ADJUSTMENT_PROPOSE = "adjustment_propose"
ADJUSTMENT_DECIDE = "adjustment_decide"
STATEMENT_APPROVE = "statement_approve"
STATEMENT_PAY = "statement_pay"
MERCHANT_RATE = "merchant_rate"
MERCHANT_STAFF = "merchant_staff"
MERCHANT_TERMINAL = "merchant_terminal"
VOUCHER_UNLOCK = "voucher_unlock"
STAFF_MANAGE = "staff_manage"
MESSAGE_REPLY = "message_reply"
QUESTION_ANSWER = "question_answer"
REVIEW_MODERATE = "review_moderate"
ORDER_LOGISTICS = "order_logistics"
SETTLE_EARLY = "settle_early"

DUTIES: dict[str, frozenset[str]] = {
    APPLICATION_FIRST_REVIEW: frozenset({BUSINESS_ADMIN, ADMIN}),
    APPLICATION_FINAL_REVIEW: frozenset({ADMIN}),
    GOODS_REVIEW: frozenset({BUSINESS_ADMIN, ADMIN}),
    ADJUSTMENT_PROPOSE: frozenset({SUPPORT, ADMIN}),
    ADJUSTMENT_DECIDE: frozenset({FINANCE, ADMIN}),
    STATEMENT_APPROVE: frozenset({FINANCE}),
    STATEMENT_PAY: frozenset({FINANCE}),
    MERCHANT_RATE: frozenset({FINANCE, ADMIN}),
    MERCHANT_STAFF: frozenset({BUSINESS_ADMIN, ADMIN}),
    MERCHANT_TERMINAL: frozenset({ADMIN}),
    VOUCHER_UNLOCK: frozenset({BUSINESS_ADMIN, ADMIN, SUPPORT}),
    STAFF_MANAGE: frozenset({ADMIN}),
    MESSAGE_REPLY: frozenset({BUSINESS_ADMIN, ADMIN, SUPPORT}),
    QUESTION_ANSWER: frozenset({BUSINESS_ADMIN, ADMIN, SUPPORT}),
    REVIEW_MODERATE: frozenset({BUSINESS_ADMIN, ADMIN}),
    ORDER_LOGISTICS: frozenset({BUSINESS_ADMIN, ADMIN}),
    SETTLE_EARLY: frozenset({FINANCE, ADMIN}),
}
"""Duty → the operator roles that may do it. The admin API's route roles for these
decisions are taken from here (``api.admin``)."""


def permit(member: OperatorStaff, duty: str) -> OperatorStaff:
    """``member`` if it is active and its role may do ``duty``.

    Raises ``StaffDisabled`` or ``NotPermitted``; ``KeyError`` for a duty not in ``DUTIES``.
    """
    roles = DUTIES[duty]
    if not member.active:
        raise StaffDisabled(member.name)
    if member.role not in roles:
        raise NotPermitted(member.name, member.role, duty)
    return member


def member(conn: Connection, name: str) -> OperatorStaff:
    """The active staff member called ``name`` (the CLI's ``--by``), whatever their role.

    Raises ``UnknownStaff`` or ``StaffDisabled``.
    """
    try:
        found = operator_staff.find(conn, name)
    except NotFound:
        raise UnknownStaff(name) from None
    if not found.active:
        raise StaffDisabled(name)
    return found


def acting(conn: Connection, name: str, duty: str) -> OperatorStaff:
    """The staff member called ``name`` (the CLI's ``--by``), checked for ``duty`` now.

    Raises ``UnknownStaff``, ``StaffDisabled`` or ``NotPermitted``.
    """
    return permit(member(conn, name), duty)


def check_independent(
    conn: Connection,
    approver: str,
    proposer: str,
    *,
    subject: str,
    before_seq: int | None,
    proposed_at: int | None,
) -> None:
    """Refuse ``approver`` deciding ``subject`` that ``proposer`` asked for (rules above).

    ``before_seq`` is the newest ``staff_change.id`` when it was proposed, ``proposed_at``
    when (UTC epoch seconds). A grant made at once is late when its id is above
    ``before_seq``; one a second admin approved, when it was approved at or after
    ``proposed_at`` (the same second counts as after); without ``before_seq`` (a proposal
    older than the rule) every grant is timed; with neither (a decision that has no moment
    of its own, like a final review after a first review) only rules 1 and 3 apply.
    Raises ``SamePerson``, ``JoinedAfter`` or ``AppointedByProposer``.
    """
    if approver == proposer:
        raise SamePerson(subject, approver, proposer)
    grants = [c for c in staff_history.of_member(conn, approver) if c.grant]
    for change in grants:
        if proposer in change.granted_by():
            raise AppointedByProposer(subject, approver, proposer)
    if before_seq is None and proposed_at is None:
        return
    for change in grants:
        if change.decided_at is not None and proposed_at is not None:
            late = change.decided_at >= proposed_at
        elif before_seq is not None:
            late = change.id > before_seq
        else:
            late = proposed_at is not None and change.requested_at >= proposed_at
        if late:
            raise JoinedAfter(subject, approver, proposer)
