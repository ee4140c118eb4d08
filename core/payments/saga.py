"""The payment saga (DESIGN.md §5, §3.5.6): cash first, then points, or the cash goes back.

One ``payment_saga`` row per order paid with money, moved through
``started → charge_pending → cash_captured → completed`` and, when the points
step fails, ``cash_captured → refunding → refunded``; a charge never paid ends
``cancelled``. A paid order whose phone top-up fails for good is reversed
``completed → refunding`` (``reverse_completed``, issue 16 §2). Every move is a
conditional UPDATE on the status it was read with plus a ``payment_step`` row
(unique per saga and step), so a repeated callback, a second replica or a retry
after a crash finds the step done and changes nothing. Gateway calls happen
between units of work, never inside one, and carry idempotency keys
(``order:{no}:charge``, ``order:{no}:cash-refund``), so repeating a call after a
crash makes no second charge and no second refund. ``reconcile`` finishes or
compensates every saga left in the middle.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, select, update

from core.messaging import outbox
from core.orders import cancellation, orders, payment, redemption, states
from core.orders.errors import IllegalTransition, UnknownOrder
from core.payments.errors import GatewayRefused, GatewayUnavailable
from core.payments.gateway import Charge, PaymentGateway
from core.platform.codes import Keyring
from core.platform.db import Database, savepoint
from core.platform.errors import DomainError
from core.platform.schema import orders as orders_table
from core.platform.schema import payment_saga, payment_step, subscriber
from core.platform.sql import for_update
from core.subscribers.subscribers import Subscriber

log = logging.getLogger(__name__)

OPEN = ("started", "charge_pending", "cash_captured", "refunding")
FINAL = ("completed", "refunded", "cancelled")
DEFAULT_GRACE = 5 * 60


@dataclass(frozen=True)
class SagaView:
    id: int
    order_id: int
    order_no: str
    method: str
    amount_cents: int
    points: int
    status: str
    charge_id: str | None
    pay_url: str | None
    refund_id: str | None
    created_at: int
    updated_at: int


@dataclass(frozen=True)
class PaymentContext:
    """What the saga needs besides the database: built once by the composition root."""

    db: Database
    gateway: PaymentGateway
    keyring: Keyring
    timezone: ZoneInfo
    grace_seconds: int = DEFAULT_GRACE


def _saga_query() -> Any:
    return select(
        payment_saga.c.id,
        payment_saga.c.order_id,
        orders_table.c.no,
        payment_saga.c.method,
        payment_saga.c.amount_cents,
        payment_saga.c.points,
        payment_saga.c.status,
        payment_saga.c.charge_id,
        payment_saga.c.pay_url,
        payment_saga.c.refund_id,
        payment_saga.c.created_at,
        payment_saga.c.updated_at,
    ).select_from(payment_saga.join(orders_table, orders_table.c.id == payment_saga.c.order_id))


def _one(conn: Connection, *where: object, lock: bool = False) -> SagaView | None:
    query = _saga_query().where(*where)
    if lock and for_update(conn):
        query = query.with_for_update(of=payment_saga)
    row = conn.execute(query).first()
    return SagaView(*row) if row else None


def by_order(conn: Connection, no: str, *, lock: bool = False) -> SagaView | None:
    return _one(conn, orders_table.c.no == no, lock=lock)


def by_charge(conn: Connection, charge_id: str, *, lock: bool = False) -> SagaView | None:
    return _one(conn, payment_saga.c.charge_id == charge_id, lock=lock)


def listing(conn: Connection, status: str | None = None, limit: int = 100) -> list[SagaView]:
    query = _saga_query().order_by(payment_saga.c.id.desc()).limit(limit)
    if status is not None:
        query = query.where(payment_saga.c.status == status)
    return [SagaView(*r) for r in conn.execute(query)]


def open_saga(conn: Connection, pending: redemption.Pending, now: int) -> None:
    """Record the saga of an order just made with a money method (same unit of work)."""
    order_id = conn.execute(
        select(orders_table.c.id).where(orders_table.c.no == pending.no)
    ).scalar_one()
    saga_id = conn.execute(
        payment_saga.insert()
        .values(
            order_id=order_id,
            method=pending.method,
            amount_cents=pending.cash_cents,
            points=pending.points,
            status="started",
            created_at=now,
            updated_at=now,
        )
        .returning(payment_saga.c.id)
    ).scalar_one()
    _step(conn, int(saga_id), "opened", "started", "started", now)


def redeem_for_money(
    conn: Connection,
    *,
    subscriber: Subscriber,
    code: str,
    qty: int,
    method: str,
    channel: str,
    key: str,
    now: int,
    policy: orders.OrderPolicy,
    keyring: Keyring,
) -> redemption.Pending:
    """Make an order paid by ``method`` (not ``points``): hold its points, open its saga.

    The order waits (``created``) for the cash; its pay link is ``pay_link``.
    """
    if method == "points":
        raise ValueError("points-only orders are confirmed by code: use redemption.redeem")
    pending = redemption.redeem(
        conn,
        subscriber=subscriber,
        code=code,
        qty=qty,
        channel=channel,
        key=key,
        now=now,
        policy=policy,
        keyring=keyring,
        method=method,
    )
    open_saga(conn, pending, now)
    return pending


def _step(
    conn: Connection, saga_id: int, step: str, old: str, new: str, now: int, detail: str = ""
) -> None:
    conn.execute(
        payment_step.insert().values(
            saga_id=saga_id, step=step, from_status=old, to_status=new, detail=detail[:200], at=now
        )
    )


def _move(
    conn: Connection,
    saga: SagaView,
    new: str,
    step: str,
    now: int,
    detail: str = "",
    **values: object,
) -> bool:
    """Move ``saga`` from the status it was read with; False if someone else moved it first."""
    moved = conn.execute(
        update(payment_saga)
        .where(and_(payment_saga.c.id == saga.id, payment_saga.c.status == saga.status))
        .values(status=new, updated_at=now, **values)
    ).rowcount
    if moved != 1:
        return False
    _step(conn, saga.id, step, saga.status, new, now, detail)
    return True


def record_charge(conn: Connection, no: str, charge: Charge, now: int) -> SagaView:
    """Remember the gateway's charge for order ``no`` (a no-op once remembered)."""
    saga = by_order(conn, no, lock=True)
    assert saga is not None, f"no payment saga for order {no}"
    if saga.status == "started":
        _move(
            conn,
            saga,
            "charge_pending",
            "charge_created",
            now,
            charge.id,
            charge_id=charge.id,
            pay_url=charge.pay_url,
        )
        saga = by_order(conn, no)
        assert saga is not None
    return saga


def record_cash(conn: Connection, charge_id: str, now: int) -> SagaView | None:
    """Step 2: the money arrived (callback or query). Idempotent; None for an unknown charge."""
    saga = by_charge(conn, charge_id, lock=True)
    if saga is None:
        return None
    if saga.status in ("started", "charge_pending"):
        _move(conn, saga, "cash_captured", "cash_succeeded", now, charge_id)
        saga = by_charge(conn, charge_id)
    return saga


def _subscriber_of(conn: Connection, order: orders.OrderView) -> Subscriber:
    row = conn.execute(
        select(
            subscriber.c.id, subscriber.c.msisdn, subscriber.c.lang, subscriber.c.opted_out
        ).where(subscriber.c.id == order.subscriber_id)
    ).one()
    return Subscriber(int(row[0]), row[1], row[2], bool(row[3]))


def deduct_points(
    conn: Connection, saga_id: int, now: int, keyring: Keyring, tz: ZoneInfo
) -> SagaView:
    """Step 3: with the cash in, deduct the held points and pay the order, or mark a refund due.

    The points step fails when the order is no longer waiting (the timeout job
    expired it, the subscriber cancelled it) or its hold cannot be captured; then
    nothing of it is kept (savepoint) and the saga moves to ``refunding``. Money
    that arrives after ``pay_by`` but before the timeout job ended the order still
    pays it: the points are still held, and the customer did pay. The order's
    conditional status change decides a race with the timeout job.
    """
    saga = _one(conn, payment_saga.c.id == saga_id, lock=True)
    assert saga is not None
    if saga.status != "cash_captured":
        return saga
    order = orders.by_no(conn, saga.order_no)
    assert order is not None
    orders.lock_account_of(conn, order)
    order = orders.by_no(conn, saga.order_no)  # as it is now that nobody else changes it
    assert order is not None
    why = ""
    if order.status != "created":
        why = f"order is {order.status}"
    else:
        try:
            with savepoint(conn):
                payment.pay(conn, order, _subscriber_of(conn, order), now, keyring, tz)
        except DomainError as exc:
            why = f"points step failed: {exc}"[:200]
    if why:
        if order.status in states.UNPAID:
            cancellation.end_unpaid(conn, order, "expired", now, why)
        _move(conn, saga, "refunding", "points_failed", now, why)
    else:
        _move(conn, saga, "completed", "points_deducted", now)
    found = _one(conn, payment_saga.c.id == saga_id)
    assert found is not None
    return found


def _pay_by(conn: Connection, order: orders.OrderView) -> int:
    return int(
        conn.execute(
            select(orders_table.c.pay_by).where(orders_table.c.id == order.id)
        ).scalar_one()
    )


def record_refund(conn: Connection, saga_id: int, refund_id: str, now: int) -> SagaView:
    """Step 4 (compensation): the money went back; tell the subscriber once."""
    saga = _one(conn, payment_saga.c.id == saga_id, lock=True)
    assert saga is not None
    if saga.status == "refunding" and _move(
        conn, saga, "refunded", "cash_refunded", now, refund_id, refund_id=refund_id
    ):
        order = orders.by_no(conn, saga.order_no)
        assert order is not None
        who = _subscriber_of(conn, order)
        yuan = f"{saga.amount_cents / 100:.2f}"
        text = (
            f"Order {saga.order_no} could not be completed; {yuan} yuan has been refunded."
            if who.lang == "en"
            else f"订单{saga.order_no}未能完成，已退款{yuan}元。"
        )
        outbox.enqueue(
            conn, key=f"payment:{saga.order_no}:refunded", recipient=who.msisdn, text=text, now=now
        )
    found = _one(conn, payment_saga.c.id == saga_id)
    assert found is not None
    return found


def reverse_completed(conn: Connection, no: str, now: int, why: str) -> int:
    """The paid order ``no`` was not fulfilled after all (a phone top-up failed for good):
    move its ``completed`` saga to ``refunding`` (step ``fulfilment_failed``), so the
    ``payments-reconcile`` job gives the money back once (key ``order:{no}:cash-refund``).

    Returns the cents that will be refunded: 0 for an order paid without money, or a saga
    already reversed. Same unit of work as the order's refund.
    """
    saga = by_order(conn, no, lock=True)
    if saga is None or saga.status != "completed":
        return 0
    if not _move(conn, saga, "refunding", "fulfilment_failed", now, why):
        return 0
    return saga.amount_cents


def record_cancel(conn: Connection, saga_id: int, now: int, why: str) -> SagaView:
    """No money was taken and none will be: end the saga (and the order, if still waiting)."""
    saga = _one(conn, payment_saga.c.id == saga_id, lock=True)
    assert saga is not None
    if saga.status in ("started", "charge_pending"):
        order = orders.by_no(conn, saga.order_no)
        assert order is not None
        orders.lock_account_of(conn, order)
        order = orders.by_no(conn, saga.order_no)
        assert order is not None
        if order.status in states.UNPAID:
            cancellation.end_unpaid(conn, order, "cancelled", now, why)
        _move(conn, saga, "cancelled", "charge_cancelled", now, why)
    found = _one(conn, payment_saga.c.id == saga_id)
    assert found is not None
    return found


# ------------------------------------------------------------ the steps that call the gateway


async def pay_url(ctx: PaymentContext, no: str, now: int) -> str:
    """Step 1: the gateway's pay page for order ``no``, making the charge the first time.

    Raises ``GatewayUnavailable`` (the saga stays ``started``; try again) and
    ``orders.NothingToConfirm``-like domain errors when the order is not waiting.
    """
    saga = await ctx.db.read(partial(by_order, no=no))
    if saga is None:
        raise UnknownOrder(no)
    if not await ctx.db.read(partial(_order_waiting, no=no, now=now)):
        raise IllegalTransition(no, saga.status, "charge_pending")  # too late to pay
    if saga.pay_url is not None and saga.status == "charge_pending":
        return saga.pay_url
    if saga.status != "started":
        raise IllegalTransition(no, saga.status, "charge_pending")
    charge = await ctx.gateway.create_charge(
        no, saga.amount_cents, saga.method, f"order:{no}:charge"
    )
    saga = await ctx.db.write(partial(record_charge, no=no, charge=charge, now=now))
    assert saga.pay_url is not None
    return saga.pay_url


async def cash_arrived(ctx: PaymentContext, charge_id: str, now: int) -> SagaView | None:
    """Steps 2–4 after the gateway says the charge succeeded: record, deduct, or refund."""
    saga = await ctx.db.write(partial(record_cash, charge_id=charge_id, now=now))
    if saga is None:
        return None
    return await _finish(ctx, saga, now)


async def _finish(ctx: PaymentContext, saga: SagaView, now: int) -> SagaView:
    if saga.status == "cash_captured":
        saga = await ctx.db.write(
            partial(deduct_points, saga_id=saga.id, now=now, keyring=ctx.keyring, tz=ctx.timezone)
        )
    if saga.status == "refunding":
        assert saga.charge_id is not None
        refund = await ctx.gateway.refund(
            saga.charge_id, saga.amount_cents, f"order:{saga.order_no}:cash-refund"
        )
        saga = await ctx.db.write(
            partial(record_refund, saga_id=saga.id, refund_id=refund.id, now=now)
        )
    return saga


def _order_waiting(conn: Connection, no: str, now: int) -> bool:
    order = orders.by_no(conn, no)
    return order is not None and order.status in states.UNPAID and now < _pay_by(conn, order)


async def reconcile_one(ctx: PaymentContext, saga: SagaView, now: int) -> SagaView:
    """Bring one unfinished saga to an end, or leave it if its order may still be paid."""
    if saga.status == "started":
        waiting = await ctx.db.read(partial(_order_waiting, no=saga.order_no, now=now))
        if waiting:
            return saga  # nobody opened the pay link yet; the order may still be paid
        # A charge may have been made before a crash: asking again with the same
        # key returns it (or makes one, which is cancelled straight away).
        charge = await ctx.gateway.create_charge(
            saga.order_no, saga.amount_cents, saga.method, f"order:{saga.order_no}:charge"
        )
        saga = await ctx.db.write(partial(record_charge, no=saga.order_no, charge=charge, now=now))
    if saga.status == "charge_pending":
        assert saga.charge_id is not None
        charge = await ctx.gateway.query(saga.charge_id)
        if charge.status == "pending":
            if await ctx.db.read(partial(_order_waiting, no=saga.order_no, now=now)):
                return saga
            try:
                charge = await ctx.gateway.cancel(saga.charge_id)
            except GatewayRefused:
                charge = await ctx.gateway.query(saga.charge_id)  # paid meanwhile
        if charge.status == "cancelled":
            return await ctx.db.write(
                partial(record_cancel, saga_id=saga.id, now=now, why="not paid in time")
            )
        if charge.status in ("succeeded", "refunded"):
            found = await ctx.db.write(partial(record_cash, charge_id=saga.charge_id, now=now))
            assert found is not None
            saga = found
    return await _finish(ctx, saga, now)


def _due(conn: Connection, before: int, after_id: int, limit: int) -> list[SagaView]:
    return [
        SagaView(*r)
        for r in conn.execute(
            _saga_query()
            .where(
                and_(
                    payment_saga.c.status.in_(OPEN),
                    payment_saga.c.updated_at <= before,
                    payment_saga.c.id > after_id,
                )
            )
            .order_by(payment_saga.c.id)
            .limit(limit)
        )
    ]


async def reconcile(ctx: PaymentContext, now: int, batch: int = 100) -> int:
    """Finish or compensate every saga unfinished for longer than the grace period.

    Returns how many sagas it moved. A saga whose gateway call fails is left for
    the next run (logged), the others go on.
    """
    moved, after = 0, 0
    while True:
        due = await ctx.db.read(
            partial(_due, before=now - ctx.grace_seconds, after_id=after, limit=batch)
        )
        for saga in due:
            try:
                done = await reconcile_one(ctx, saga, now)
            except GatewayUnavailable as exc:
                log.warning("payment %s: %s; will retry", saga.order_no, exc)
                continue
            moved += done.status != saga.status
        if len(due) < batch:
            return moved
        after = due[-1].id


PAY_LINK_TOKEN_CHARS = 16  # 64 bits of a keyed hash: unguessable, and short for SMS


async def lang_of(ctx: PaymentContext, no: str) -> str:
    """The language (``zh`` or ``en``) of the subscriber who placed order ``no``; ``zh``
    when there is no such order (the pay page speaks to them, §2.2.1)."""

    def q(conn: Connection) -> str:
        found = conn.execute(
            select(subscriber.c.lang)
            .select_from(
                orders_table.join(subscriber, subscriber.c.id == orders_table.c.subscriber_id)
            )
            .where(orders_table.c.no == no)
        ).scalar_one_or_none()
        return "en" if found == "en" else "zh"

    return await ctx.db.read(q)


def pay_token(keyring: Keyring, no: str) -> str:
    """The opaque part of order ``no``'s pay link (a keyed hash: nothing is stored)."""
    return keyring.mac("paylink", no)[:PAY_LINK_TOKEN_CHARS]


def pay_token_ok(keyring: Keyring, no: str, token: str) -> bool:
    """Whether ``token`` is order ``no``'s pay-link token under any root key held."""
    return keyring.mac_matches(token, "paylink", no, chars=PAY_LINK_TOKEN_CHARS)


def pay_link(base_url: str, keyring: Keyring, no: str) -> str:
    """Our link for order ``no``: opening it makes the charge and goes to the gateway's page."""
    return f"{base_url.rstrip('/')}/pay/{no}?k={pay_token(keyring, no)}"
