"""A phone top-up after it is requested (issue 16 §2): its delivery state machine as data.

```
requested ──submit: pending──► submitted ──callback or query──► succeeded   order delivered, SMS
   │  no answer: stays, attempts + 1, back-off         └──────► failed      order refunded once, SMS
   ├──answer lost (time-out)──► unknown ──query──► submitted | succeeded | failed
   │                              └─ the provider never took it ─► requested (same key again)
   └── out of attempts (from any open status) ──► stalled ──staff retry──► requested
```

Every move is a conditional UPDATE on the status the top-up was read in, under its
account's lock (the lock every writer of a subscriber's orders takes first), plus a
``topup_event`` row; ``succeeded`` and ``failed`` are final. So a duplicated callback,
a callback racing the job, two replicas or a staff retry change a top-up at most once,
and a failure refunds exactly once: the order moves ``paid → refunded`` in the same
unit of work as the one ``order:{no}:refund`` entry (``core.orders.cancellation``), and
money paid for it goes back through the payment saga (``reverse_completed``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, func, select, update

from core.messaging import outbox
from core.messaging.texts import yuan
from core.orders import cancellation, orders, states
from core.payments import saga as payments
from core.platform import audit
from core.platform.schema import item, topup, topup_event
from core.platform.schema import orders as orders_table
from core.platform.sql import for_update
from core.recharge.errors import (
    RechargeNoAnswer,
    RechargeOutcomeUnknown,
    TopupFinished,
    UnknownTopup,
)
from core.recharge.gateway import FAILED, PENDING, SUCCEEDED, Recharge
from core.recharge.texts import notice
from core.subscribers import subscribers

REQUESTED, UNKNOWN, SUBMITTED, STALLED = "requested", "unknown", "submitted", "stalled"
OPEN = (REQUESTED, UNKNOWN, SUBMITTED)
"""Statuses the ``recharge`` job works on when they are due (``next_attempt_at``)."""
FINAL = (SUCCEEDED, FAILED)
MOVES: dict[str, frozenset[str]] = {
    REQUESTED: frozenset({SUBMITTED, UNKNOWN, SUCCEEDED, FAILED, STALLED}),
    UNKNOWN: frozenset({REQUESTED, SUBMITTED, SUCCEEDED, FAILED, STALLED}),
    SUBMITTED: frozenset({REQUESTED, SUCCEEDED, FAILED, STALLED}),
    STALLED: frozenset({REQUESTED, SUCCEEDED, FAILED}),
    SUCCEEDED: frozenset(),
    FAILED: frozenset(),
}
ERROR_LIMIT = 200


@dataclass(frozen=True)
class RechargePolicy:
    """Times in seconds. A top-up without an answer waits ``first_backoff`` × 2^(attempts−1)
    (at most ``max_backoff``) before the next try and stalls after ``max_attempts``; a
    submitted one waits ``grace`` for its callback before the provider is asked."""

    grace: int = 300
    first_backoff: int = 60
    max_backoff: int = 3600
    max_attempts: int = 10

    def delay(self, attempts: int) -> int:
        """Seconds to wait after the ``attempts``-th try without an answer (≥ 1)."""
        return int(min(self.max_backoff, self.first_backoff * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class TopupView:
    id: int
    order_id: int
    order_no: str
    item_code: str
    msisdn: str
    amount_cents: int
    status: str
    attempts: int
    next_attempt_at: int | None
    provider_id: str | None
    last_error: str | None
    created_at: int
    updated_at: int

    @property
    def key(self) -> str:
        """The idempotency key every submission of this top-up carries."""
        return key_of(self.order_no)


@dataclass(frozen=True)
class TopupEvent:
    from_status: str
    to_status: str
    at: int
    detail: str


def key_of(order_no: str) -> str:
    """``topup:{order no}``: the one idempotency key of the order's top-up at the provider."""
    return f"topup:{order_no}"


def _query() -> Any:
    return select(
        topup.c.id,
        topup.c.order_id,
        orders_table.c.no,
        item.c.code,
        topup.c.msisdn,
        topup.c.amount_cents,
        topup.c.status,
        topup.c.attempts,
        topup.c.next_attempt_at,
        topup.c.provider_id,
        topup.c.last_error,
        topup.c.created_at,
        topup.c.updated_at,
    ).select_from(
        topup.join(orders_table, orders_table.c.id == topup.c.order_id).join(
            item, item.c.id == orders_table.c.item_id
        )
    )


def _one(conn: Connection, *where: Any, lock: bool = False) -> TopupView | None:
    query = _query().where(*where)
    if lock and for_update(conn):
        query = query.with_for_update(of=topup)
    row = conn.execute(query).first()
    return TopupView(*row) if row else None


def by_order(conn: Connection, no: str) -> TopupView | None:
    """The top-up of order ``no``, or None (no such order, or not phone credit)."""
    return _one(conn, orders_table.c.no == no)


def by_id(conn: Connection, topup_id: int) -> TopupView | None:
    return _one(conn, topup.c.id == topup_id)


def listing(
    conn: Connection, *, status: str | None = None, offset: int = 0, limit: int = 50
) -> list[TopupView]:
    """Top-ups newest first, optionally only those in ``status`` (one of ``TOPUP_STATUSES``);
    for staff's pages and the CLI."""
    query = _query().order_by(topup.c.id.desc()).offset(offset).limit(limit)
    if status is not None:
        query = query.where(topup.c.status == status)
    return [TopupView(*r) for r in conn.execute(query)]


def counts(conn: Connection) -> dict[str, int]:
    """How many top-ups are in each status (statuses with none are left out)."""
    rows = conn.execute(select(topup.c.status, func.count()).group_by(topup.c.status)).all()
    return {str(status): int(n) for status, n in rows}


def history(conn: Connection, topup_id: int) -> list[TopupEvent]:
    """Every move and every try without an answer of the top-up, oldest first."""
    rows = conn.execute(
        select(
            topup_event.c.from_status,
            topup_event.c.to_status,
            topup_event.c.at,
            topup_event.c.detail,
        )
        .where(topup_event.c.topup_id == topup_id)
        .order_by(topup_event.c.id)
    ).all()
    return [TopupEvent(r[0], r[1], int(r[2]), r[3]) for r in rows]


@dataclass(frozen=True)
class TopupDetail:
    topup: TopupView
    history: list[TopupEvent]


def detail(conn: Connection, no: str) -> TopupDetail:
    """The top-up of order ``no`` with its history, for staff. Raises ``UnknownTopup``."""
    found = by_order(conn, no)
    if found is None:
        raise UnknownTopup(no)
    return TopupDetail(found, history(conn, found.id))


def states_of(conn: Connection, order_ids: Iterable[int]) -> dict[int, str]:
    """The top-up status of each of these orders that has one (order id → status)."""
    ids = list(order_ids)
    if not ids:
        return {}
    rows = conn.execute(
        select(topup.c.order_id, topup.c.status).where(topup.c.order_id.in_(ids))
    ).all()
    return {int(order_id): str(status) for order_id, status in rows}


def due(conn: Connection, now: int, after_id: int, limit: int) -> list[TopupView]:
    """Open top-ups whose ``next_attempt_at`` has come (``now``: UTC epoch), by id after
    ``after_id``: what the ``recharge`` job submits or asks about."""
    return [
        TopupView(*r)
        for r in conn.execute(
            _query()
            .where(
                and_(
                    topup.c.status.in_(OPEN),
                    topup.c.next_attempt_at <= now,
                    topup.c.id > after_id,
                )
            )
            .order_by(topup.c.id)
            .limit(limit)
        )
    ]


# ------------------------------------------------------------------ moves


def _locked(conn: Connection, topup_id: int) -> TopupView:
    """The top-up as it is now, read after its account's lock (the order every writer keeps)."""
    order_id = conn.execute(select(topup.c.order_id).where(topup.c.id == topup_id)).scalar_one()
    account_id = conn.execute(
        select(orders_table.c.account_id).where(orders_table.c.id == order_id)
    ).scalar_one()
    orders.lock_account(conn, int(account_id))
    found = _one(conn, topup.c.id == topup_id, lock=True)
    assert found is not None
    return found


def _event(conn: Connection, t: TopupView, new: str, now: int, detail: str) -> None:
    conn.execute(
        topup_event.insert().values(
            topup_id=t.id, from_status=t.status, to_status=new, at=now, detail=detail[:200]
        )
    )


def _move(conn: Connection, t: TopupView, new: str, now: int, detail: str, **values: Any) -> bool:
    """Move ``t`` from the status it was read in to ``new`` (or stay in it, updating
    ``values``); False when someone else moved it first. Raises ``ValueError`` for a move
    ``MOVES`` does not allow (a bug, not a refusal)."""
    if new != t.status and new not in MOVES[t.status]:
        raise ValueError(f"top-up of order {t.order_no}: {t.status} cannot become {new}")
    moved = conn.execute(
        update(topup)
        .where(and_(topup.c.id == t.id, topup.c.status == t.status))
        .values(status=new, updated_at=now, **values)
    ).rowcount
    if moved != 1:
        return False
    _event(conn, t, new, now, detail)
    return True


def _tell(
    conn: Connection, t: TopupView, kind: str, now: int, points: int = 0, cash: int = 0
) -> None:
    who = subscribers.find(conn, t.msisdn)
    lang = who.lang if who is not None else "zh"
    text = notice(lang, kind, no=t.order_no, yuan=yuan(t.amount_cents))
    if points:
        text += notice(lang, "failed_points", points=points)
    if cash:
        text += notice(lang, "failed_cash", cash=yuan(cash))
    outbox.enqueue(conn, key=f"topup:{t.order_no}:{kind}", recipient=t.msisdn, text=text, now=now)


def _succeed(conn: Connection, t: TopupView, answer: Recharge, now: int) -> None:
    if not _move(conn, t, SUCCEEDED, now, answer.id, provider_id=answer.id, next_attempt_at=None):
        return
    order = orders.by_no(conn, t.order_no)
    assert order is not None
    if order.status == "paid":
        states.set_status(conn, order, "delivered", now, "phone credit delivered")
    _tell(conn, t, SUCCEEDED, now)


def _fail(conn: Connection, t: TopupView, answer: Recharge, now: int) -> None:
    why = f"recharge failed: {answer.failure or 'failed'}"
    if not _move(
        conn,
        t,
        FAILED,
        now,
        why,
        provider_id=answer.id or t.provider_id,
        next_attempt_at=None,
        last_error=why[:ERROR_LIMIT],
    ):
        return
    order = orders.by_no(conn, t.order_no)
    assert order is not None
    points = 0
    if order.status == "paid":
        points = cancellation.refund_paid(conn, order, now, why)
    cash = payments.reverse_completed(conn, t.order_no, now, why)
    _tell(conn, t, FAILED, now, points=points, cash=cash)


def record_answer(
    conn: Connection, topup_id: int, answer: Recharge, now: int, policy: RechargePolicy
) -> TopupView:
    """Apply the provider's ``answer`` (to a submission, a query or a callback) to the
    top-up; ``now`` is UTC epoch seconds. ``pending`` → ``submitted`` (asked about after
    ``policy.grace``); ``succeeded`` → the order is delivered and the subscriber texted;
    ``failed`` → the order is refunded once (points entry, money through the saga) and the
    subscriber texted. A final top-up, or an answer about another recharge (its key, number
    or amount differ), changes nothing but ``last_error``. Returns the top-up as it is now.
    """
    t = _locked(conn, topup_id)
    if t.status in FINAL:
        return t
    if (answer.key, answer.msisdn, answer.amount_cents) != (t.key, t.msisdn, t.amount_cents):
        why = f"provider's answer is about another recharge: {answer.key} {answer.amount_cents}"
        conn.execute(update(topup).where(topup.c.id == t.id).values(last_error=why[:ERROR_LIMIT]))
    elif answer.status == PENDING:
        values = {"provider_id": answer.id, "next_attempt_at": now + policy.grace}
        if t.status == SUBMITTED:
            conn.execute(update(topup).where(topup.c.id == t.id).values(**values))
        else:
            _move(conn, t, SUBMITTED, now, answer.id, last_error=None, **values)
    elif answer.status == SUCCEEDED:
        _succeed(conn, t, answer, now)
    elif answer.status == FAILED:
        _fail(conn, t, answer, now)
    found = by_id(conn, topup_id)
    assert found is not None
    return found


def record_no_answer(
    conn: Connection,
    topup_id: int,
    expected: str,
    error: RechargeNoAnswer,
    now: int,
    policy: RechargePolicy,
) -> TopupView:
    """A submission or query of the top-up read in ``expected`` got no answer: count the
    attempt and wait (``policy.delay``). A lost answer to a submission makes it
    ``unknown`` (asked about before anything else); out of attempts it is ``stalled``
    until staff retry it. Nothing happens if it left ``expected`` meanwhile."""
    t = _locked(conn, topup_id)
    if t.status != expected:
        return t
    attempts = t.attempts + 1
    new = (
        UNKNOWN if t.status == REQUESTED and isinstance(error, RechargeOutcomeUnknown) else t.status
    )
    next_at: int | None = now + policy.delay(attempts)
    if attempts >= policy.max_attempts:
        new, next_at = STALLED, None
    why = f"attempt {attempts}: {error.reason}"
    _move(
        conn,
        t,
        new,
        now,
        why,
        attempts=attempts,
        next_attempt_at=next_at,
        last_error=why[:ERROR_LIMIT],
    )
    found = by_id(conn, topup_id)
    assert found is not None
    return found


def record_not_found(conn: Connection, topup_id: int, expected: str, now: int) -> TopupView:
    """The provider has no recharge for the top-up's key: it never took the submission whose
    answer was lost, so it is ``requested`` again and due now (the same key makes a second
    submission safe even if the first turns up late)."""
    t = _locked(conn, topup_id)
    if t.status == expected and t.status in (UNKNOWN, SUBMITTED):
        _move(conn, t, REQUESTED, now, "provider has no such recharge", next_attempt_at=now)
    found = by_id(conn, topup_id)
    assert found is not None
    return found


def retry(conn: Connection, no: str, by: str, now: int) -> TopupView:
    """Staff member ``by`` sends the top-up of order ``no`` again: any open or stalled top-up
    becomes ``requested``, due now, with its attempts counted from zero (audited). The
    same idempotency key goes with it, so a recharge the provider already has is not made
    twice. Raises ``UnknownTopup``, or ``TopupFinished`` for a succeeded or failed one.
    """
    found = by_order(conn, no)
    if found is None:
        raise UnknownTopup(no)
    t = _locked(conn, found.id)
    if t.status in FINAL:
        raise TopupFinished(no, t.status)
    _move(
        conn,
        t,
        REQUESTED,
        now,
        f"retry by {by}",
        attempts=0,
        next_attempt_at=now,
        last_error=None,
    )
    audit.record(
        conn,
        actor_kind="operator",
        actor=by,
        action="topup_retry",
        subject=f"order {no}",
        result=t.status,
        now=now,
    )
    again = by_id(conn, t.id)
    assert again is not None
    return again
