"""The operator's reviewed decisions, made by a named staff member (issue 13 §3).

Each function takes the acting ``OperatorStaff`` (the admin API's bearer, the console's
operator session, or the command line's ``--by`` through ``duties.acting``), checks the
duty's roles (``duties.DUTIES``) and, where someone decides what someone else asked for,
their independence (``duties.check_independent``), then calls the context's own service.
Every channel calls these, so the rules are the same everywhere.
"""

from __future__ import annotations

from sqlalchemy import Connection

from core.backoffice import duties, staff_history
from core.backoffice.errors import NotIndependent, StaffDisabled
from core.backoffice.operator_staff import OperatorStaff
from core.catalogue import submissions
from core.merchants import admission
from core.merchants.admission import Application
from core.merchants.errors import ApplicationNotPending
from core.platform import audit
from core.points import adjustments
from core.points.adjustments import Adjustment
from core.points.errors import AdjustmentNotPending
from core.settlement import statements
from core.settlement.settlement import StatementView

FIRST_DECISIONS = ("start", "pass", "reject")
FINAL_DECISIONS = ("approve", "reject")
STATEMENT_DUTIES = {"approve": duties.STATEMENT_APPROVE, "pay": duties.STATEMENT_PAY}


def record_refusal(conn: Connection, error: NotIndependent, *, now: int) -> None:
    """Audit a decision refused by separation of duties (in a unit of its own: the refused
    one is rolled back), so an attempt to approve one's own scheme leaves a trace."""
    audit.record(
        conn,
        actor_kind="operator",
        actor=error.approver,
        action="duty_refused",
        subject=error.subject,
        result=error.why,
        now=now,
        details={"proposer": error.proposer},
    )


def propose_adjustment(
    conn: Connection, proposer: OperatorStaff, *, msisdn: str, points: int, reason: str, now: int
) -> Adjustment:
    """``proposer`` (support or admin) proposes ``points`` (±) for ``msisdn`` (E.164) with a
    reason; the newest staff change is remembered for the approver's check. Raises
    ``NotPermitted``, ``StaffDisabled`` and as ``core.points.adjustments.propose``."""
    duties.permit(proposer, duties.ADJUSTMENT_PROPOSE)
    return adjustments.propose(
        conn,
        msisdn=msisdn,
        points=points,
        reason=reason,
        by=proposer.name,
        now=now,
        staff_seq=staff_history.latest_seq(conn),
    )


def approve_adjustment(
    conn: Connection, approver: OperatorStaff, adjustment_id: int, *, now: int, expires_at: int
) -> Adjustment:
    """``approver`` (finance or admin), independent of the proposer, approves: the entry
    ``adjust:{id}`` is posted (a credit's lot expires at ``expires_at``, UTC epoch).

    Raises ``NotPermitted``, ``StaffDisabled``, ``NotFound``, ``AdjustmentNotPending``,
    ``SamePerson``, ``JoinedAfter`` (the approver's standing is newer than the proposal),
    ``AppointedByProposer``, ``InsufficientPoints``.
    """
    duties.permit(approver, duties.ADJUSTMENT_DECIDE)
    current = adjustments.find(conn, adjustment_id)
    if current.status != "proposed":
        raise AdjustmentNotPending(adjustment_id, current.status)
    duties.check_independent(
        conn,
        approver.name,
        current.proposed_by,
        subject=f"adjustment:{adjustment_id}",
        before_seq=adjustments.staff_seq_of(conn, adjustment_id),
        proposed_at=current.proposed_at,
    )
    return adjustments.approve(
        conn, adjustment_id, by=approver.name, now=now, expires_at=expires_at
    )


def reject_adjustment(
    conn: Connection, decider: OperatorStaff, adjustment_id: int, *, reason: str, now: int
) -> Adjustment:
    """Reject a proposal (finance or admin, or its proposer withdrawing it); nothing posted.
    Raises ``NotPermitted``, ``StaffDisabled``, ``NotFound``, ``AdjustmentNotPending``."""
    current = adjustments.find(conn, adjustment_id)
    if decider.name != current.proposed_by:
        duties.permit(decider, duties.ADJUSTMENT_DECIDE)
    elif not decider.active:
        raise StaffDisabled(decider.name)
    return adjustments.reject(conn, adjustment_id, by=decider.name, reason=reason, now=now)


def first_review(
    conn: Connection,
    reviewer: OperatorStaff,
    application_id: int,
    decision: str,
    *,
    reason: str,
    now: int,
) -> Application:
    """First review of a merchant application (§3.5.5) by a business admin or an admin:
    ``start`` it, ``pass`` it on to final review, or ``reject`` it. Raises
    ``NotPermitted``, ``StaffDisabled``, ``UnknownApplication``, ``ApplicationNotPending``."""
    duties.permit(reviewer, duties.APPLICATION_FIRST_REVIEW)
    if decision not in FIRST_DECISIONS:
        raise ValueError(f"a first review decides one of {FIRST_DECISIONS}")
    current = admission.find(conn, application_id)
    if current.status not in ("submitted", "first_review"):
        raise ApplicationNotPending(application_id, current.status, decision)
    if decision == "start":
        admission.start_first_review(conn, application_id, reviewer.name, now)
    elif decision == "pass":
        admission.pass_first_review(conn, application_id, reviewer.name, reason, now)
    else:
        admission.reject(conn, application_id, reviewer.name, reason, now)
    return admission.find(conn, application_id)


def final_review(
    conn: Connection,
    reviewer: OperatorStaff,
    application_id: int,
    decision: str,
    *,
    reason: str,
    now: int,
) -> Application:
    """Final review (§3.5.5) by an admin: ``approve`` (the merchant is created) or
    ``reject``. Approving needs someone independent of the first reviewer (not them, never
    appointed by them). Raises ``NotPermitted``, ``StaffDisabled``, ``UnknownApplication``,
    ``ApplicationNotPending``, ``SamePerson``, ``AppointedByProposer``."""
    duties.permit(reviewer, duties.APPLICATION_FINAL_REVIEW)
    if decision not in FINAL_DECISIONS:
        raise ValueError(f"a final review decides one of {FINAL_DECISIONS}")
    current = admission.find(conn, application_id)
    if current.status != "final_review":
        raise ApplicationNotPending(application_id, current.status, decision)
    if decision == "approve":
        if current.first_reviewer:
            duties.check_independent(
                conn,
                reviewer.name,
                current.first_reviewer,
                subject=f"application:{application_id}",
                before_seq=None,
                proposed_at=None,
            )
        admission.approve(conn, application_id, reviewer.name, reason, now)
    else:
        admission.reject(conn, application_id, reviewer.name, reason, now)
    return admission.find(conn, application_id)


def review_goods(
    conn: Connection,
    reviewer: OperatorStaff,
    code: str,
    *,
    approve: bool,
    reason: str,
    now: int,
) -> None:
    """List (``approve``) or refuse an item a merchant submitted (§3.4.4), by a business
    admin or an admin. Raises ``NotPermitted``, ``StaffDisabled``, ``UnknownItem``."""
    duties.permit(reviewer, duties.GOODS_REVIEW)
    submissions.review(conn, code, approve=approve, reviewer=reviewer.name, reason=reason, now=now)


def move_statement(
    conn: Connection, member: OperatorStaff, statement_id: int, action: str, *, now: int
) -> StatementView:
    """Finance ``approve``s a confirmed statement or records an approved one ``pay``-ed (§6.3).
    Raises ``NotPermitted``, ``StaffDisabled``, ``UnknownStatement``,
    ``IllegalStatementMove``; ``ValueError`` for another action."""
    duty = STATEMENT_DUTIES.get(action)
    if duty is None:
        raise ValueError(f"finance may only {' or '.join(STATEMENT_DUTIES)} a statement")
    duties.permit(member, duty)
    return statements.move(conn, statement_id, action, by=member.name, now=now)
