"""Manual points adjustments under a two-person rule (issue 8, DESIGN §4 "±adjust").

One staff member proposes ``points`` (positive or negative) for a subscriber with a
reason; a *different* member approves or rejects it. Approval posts one ledger
entry with the idempotency key ``adjust:{id}`` in the same transaction as the
status change, so it happens once; a negative adjustment is a debit and is
refused (``InsufficientPoints``, nothing changed) when it would take more than the
available balance, so a balance never goes negative. Every step is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, select, update

from core.platform import audit
from core.platform.errors import Invalid, NotFound
from core.platform.schema import adjustment, subscriber
from core.points import ledger
from core.points.errors import AdjustmentNotPending, NoAccount, SameStaff
from core.subscribers.errors import UnknownSubscriber
from core.subscribers.subscribers import find as find_subscriber

MAX_POINTS = 10_000_000
SOURCE = "admin"


@dataclass(frozen=True)
class Adjustment:
    id: int
    msisdn: str
    points: int
    reason: str
    status: str
    proposed_by: str
    proposed_at: int
    decided_by: str | None
    decided_at: int | None
    entry_id: int | None


_COLUMNS = (
    adjustment.c.id,
    subscriber.c.msisdn,
    adjustment.c.points,
    adjustment.c.reason,
    adjustment.c.status,
    adjustment.c.proposed_by,
    adjustment.c.proposed_at,
    adjustment.c.decided_by,
    adjustment.c.decided_at,
    adjustment.c.entry_id,
)
_FROM = adjustment.join(subscriber, subscriber.c.id == adjustment.c.subscriber_id)


def _view(r: Any) -> Adjustment:
    return Adjustment(
        int(r[0]),
        r[1],
        int(r[2]),
        r[3],
        r[4],
        r[5],
        int(r[6]),
        r[7],
        None if r[8] is None else int(r[8]),
        None if r[9] is None else int(r[9]),
    )


def find(conn: Connection, adjustment_id: int) -> Adjustment:
    row = conn.execute(
        select(*_COLUMNS).select_from(_FROM).where(adjustment.c.id == adjustment_id)
    ).first()
    if row is None:
        raise NotFound("adjustment", str(adjustment_id))
    return _view(row)


def staff_seq_of(conn: Connection, adjustment_id: int) -> int | None:
    """The newest staff change when adjustment ``adjustment_id`` was proposed (None: older
    than the rule)."""
    value = conn.execute(
        select(adjustment.c.staff_seq).where(adjustment.c.id == adjustment_id)
    ).scalar_one_or_none()
    return None if value is None else int(value)


def listing(
    conn: Connection, *, status: str | None = None, offset: int = 0, limit: int = 50
) -> list[Adjustment]:
    query = select(*_COLUMNS).select_from(_FROM).order_by(adjustment.c.id.desc())
    if status is not None:
        query = query.where(adjustment.c.status == status)
    return [_view(r) for r in conn.execute(query.offset(offset).limit(limit))]


def propose(
    conn: Connection,
    *,
    msisdn: str,
    points: int,
    reason: str,
    by: str,
    now: int,
    staff_seq: int | None = None,
) -> Adjustment:
    """Record a proposal; nothing moves in the ledger until someone else approves it.

    ``staff_seq`` is the newest operator staff change at this moment: whoever approves
    must have been in place before it (``core.backoffice.decisions``, issue 13 §3).
    """
    if points == 0 or abs(points) > MAX_POINTS:
        raise Invalid("points", f"must be non-zero and at most {MAX_POINTS:,} either way")
    if not reason.strip():
        raise Invalid("reason", "a reason is required")
    found = find_subscriber(conn, msisdn)
    if found is None:
        raise UnknownSubscriber(msisdn)
    if ledger.account_id_of(conn, found.id) is None:
        raise NoAccount(msisdn)
    new_id = conn.execute(
        adjustment.insert()
        .values(
            subscriber_id=found.id,
            points=points,
            reason=reason.strip()[:200],
            status="proposed",
            proposed_by=by[:64],
            proposed_at=now,
            staff_seq=staff_seq,
        )
        .returning(adjustment.c.id)
    ).scalar_one()
    audit.record(
        conn,
        actor_kind="operator",
        actor=by,
        action="adjustment_propose",
        subject=f"adjustment:{new_id}",
        result="proposed",
        now=now,
        details={"msisdn": msisdn, "points": points, "reason": reason[:200]},
    )
    return find(conn, int(new_id))


def _decide(conn: Connection, adjustment_id: int, status: str, by: str, now: int) -> Adjustment:
    current = find(conn, adjustment_id)
    if current.status != "proposed":
        raise AdjustmentNotPending(adjustment_id, current.status)
    if status == "approved" and current.proposed_by == by:
        raise SameStaff(adjustment_id, by)
    changed = conn.execute(
        update(adjustment)
        .where(and_(adjustment.c.id == adjustment_id, adjustment.c.status == "proposed"))
        .values(status=status, decided_by=by[:64], decided_at=now)
    ).rowcount
    if changed != 1:
        raise AdjustmentNotPending(adjustment_id, find(conn, adjustment_id).status)
    return current


def approve(
    conn: Connection, adjustment_id: int, *, by: str, now: int, expires_at: int
) -> Adjustment:
    """Approve and post the entry ``adjust:{id}``; a credit's lot expires at ``expires_at``."""
    current = _decide(conn, adjustment_id, "approved", by, now)
    sub = find_subscriber(conn, current.msisdn)
    assert sub is not None
    account_id = ledger.account_id_of(conn, sub.id)
    assert account_id is not None
    common: dict[str, Any] = {
        "account_id": account_id,
        "kind": "adjust",
        "source": SOURCE,
        "key": f"adjust:{adjustment_id}",
        "reason_key": "adjust",
        "reason_args": {"reason": current.reason, "by": by},
        "ref": f"adjustment:{adjustment_id}",
        "now": now,
    }
    if current.points > 0:
        posted = ledger.credit(amount=current.points, expires_at=expires_at, conn=conn, **common)
    else:
        posted = ledger.debit(conn, amount=-current.points, **common)
    conn.execute(
        update(adjustment).where(adjustment.c.id == adjustment_id).values(entry_id=posted.entry_id)
    )
    audit.record(
        conn,
        actor_kind="operator",
        actor=by,
        action="adjustment_approve",
        subject=f"adjustment:{adjustment_id}",
        result="approved",
        now=now,
        details={"points": current.points, "entry_id": posted.entry_id},
    )
    return find(conn, adjustment_id)


def reject(conn: Connection, adjustment_id: int, *, by: str, reason: str, now: int) -> Adjustment:
    """Reject a proposal (the proposer may withdraw their own); nothing is posted."""
    _decide(conn, adjustment_id, "rejected", by, now)
    audit.record(
        conn,
        actor_kind="operator",
        actor=by,
        action="adjustment_reject",
        subject=f"adjustment:{adjustment_id}",
        result="rejected",
        now=now,
        details={"reason": reason[:200]},
    )
    return find(conn, adjustment_id)
