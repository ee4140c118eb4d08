"""Ending an order early (DESIGN §5): cancel or expire an unpaid one, refund a paid one.

An unpaid order that is cancelled or expires gives back its hold and its stock and
its confirm code stops working. A paid physical order not yet shipped, or an
unused voucher, may be refunded at the subscriber's request or by operator staff
(``refund``): one ``order:{no}:refund`` entry of the points taken, stock and sales back.
A shipped parcel, a top-up, a used voucher and anything paid with money cannot (money
goes back through the operator).
"""

from __future__ import annotations

from sqlalchemy import Connection, and_, select, update

from core.orders import orders, states
from core.orders.errors import CannotCancel, IllegalTransition, UnknownOrder
from core.orders.orders import OrderView
from core.platform import audit, otp
from core.platform.schema import item, voucher
from core.platform.schema import orders as orders_table
from core.platform.schema import otp as otp_table
from core.points import ledger
from core.subscribers.subscribers import Subscriber


def end_unpaid(conn: Connection, order: OrderView, status: str, now: int, note: str) -> None:
    """End a waiting order as ``cancelled`` or ``expired``: hold released, stock returned,
    confirm code ended. Raises ``IllegalTransition`` if it is no longer unpaid."""
    states.set_status(conn, order, status, now, note)
    if order.hold_id is not None:
        ledger.release_hold(conn, order.hold_id)
    _restock(conn, order)
    otp.end(conn, otp.ORDER_CONFIRM, otp_table.c.order_id == order.id, now)


def _restock(conn: Connection, order: OrderView) -> None:
    conn.execute(
        update(item)
        .where(and_(item.c.id == order.item_id, item.c.stock.is_not(None)))
        .values(stock=item.c.stock + order.qty)
    )


def cancel(conn: Connection, *, subscriber: Subscriber, no: str, now: int) -> str:
    """Cancel the subscriber's unpaid order ``no`` or refund a paid one; return the new status.

    Raises ``UnknownOrder`` or ``CannotCancel`` (shipped, used, locked, paid with money…).
    """
    order = orders.find(conn, subscriber.id, no)
    orders.lock_account_of(conn, order)
    if order.status in states.UNPAID:
        end_unpaid(conn, order, "cancelled", now, "cancelled by subscriber")
        return "cancelled"
    _refund_by_rule(conn, order, now, "refunded at subscriber's request")
    return "refunded"


def refundable(conn: Connection, order: OrderView) -> str | None:
    """Why a paid ``order`` cannot be refunded (``CannotCancel.reason``: ``status``,
    ``money``), or None when it can: a paid physical order not yet shipped, or an issued
    voucher, paid with points only. (A locked or used voucher is refused on refund.)"""
    if not (
        order.status == "voucher_issued" or (order.status == "paid" and order.kind == "physical")
    ):
        return "status"
    method = conn.execute(
        select(orders_table.c.pay_method).where(orders_table.c.id == order.id)
    ).scalar_one()
    return None if method == "points" else "money"


def refund(conn: Connection, *, no: str, by: str, now: int) -> OrderView:
    """Operator staff refund paid order ``no`` (issue 16 §1) under the same rules as a
    subscriber's ``QX`` (``refundable``): one ``order:{no}:refund`` entry gives the points
    back into lots expiring when the originals did, stock and sales are restored, the
    voucher is void; audited as ``order_refund`` by ``by``. Returns the refunded order.

    Raises ``UnknownOrder`` or ``CannotCancel`` (not paid, shipped, used, paid with money…).
    """
    order = orders.by_no(conn, no)
    if order is None:
        raise UnknownOrder(no)
    orders.lock_account_of(conn, order)
    order = orders.by_no(conn, no)  # read again under the lock
    assert order is not None
    _refund_by_rule(conn, order, now, f"refunded by {by}"[:200])
    audit.record(
        conn,
        actor_kind="operator",
        actor=by,
        action="order_refund",
        subject=f"order:{no}",
        result="refunded",
        now=now,
        details={"points": order.points},
    )
    refunded = orders.by_no(conn, no)
    assert refunded is not None
    return refunded


def _refund_by_rule(conn: Connection, order: OrderView, now: int, note: str) -> None:
    """Refund ``order`` if ``refundable`` says it may be: its voucher is void first."""
    why = refundable(conn, order)
    if why is not None:
        raise CannotCancel(order.no, order.status, why)
    if order.status == "voucher_issued":
        voided = conn.execute(
            update(voucher)
            .where(and_(voucher.c.order_id == order.id, voucher.c.status == "issued"))
            .values(status="refunded")
        ).rowcount
        if voided != 1:
            raise CannotCancel(order.no, order.status, "voucher")
    refund_paid(conn, order, now, note)


def refund_paid(conn: Connection, order: OrderView, now: int, note: str) -> int:
    """Move the paid ``order`` (read under its account lock) to ``refunded``: the points its
    ``order:{no}:pay`` entry took come back once, as entry ``order:{no}:refund`` (none for
    an order paid with money only), its stock and sales are given back. Returns the points
    refunded. Raises ``IllegalTransition`` when the order cannot become ``refunded``; money
    goes back through the payment saga, not here.
    """
    states.set_status(conn, order, "refunded", now, note)
    points = 0
    if order.hold_id is not None:  # points were taken when it was paid
        ledger.refund(
            conn,
            paid_key=f"order:{order.no}:pay",
            key=f"order:{order.no}:refund",
            source="order",
            reason_key="refund",
            reason_args=orders.reason_args(order),
            ref=f"order {order.no}",
            now=now,
        )
        points = order.points
    _restock(conn, order)
    conn.execute(
        update(item).where(item.c.id == order.item_id).values(sold=item.c.sold - order.qty)
    )
    return points


def expire_unpaid(conn: Connection, now: int, limit: int = 500) -> int:
    """Expire up to ``limit`` orders not paid by their ``pay_by``: holds and stock back.

    Returns how many it expired; running it again changes nothing.
    """
    rows = conn.execute(
        orders.order_query()
        .where(and_(orders_table.c.status.in_(states.UNPAID), orders_table.c.pay_by <= now))
        .order_by(orders_table.c.pay_by)
        .limit(limit)
    ).all()
    done = 0
    for row in rows:
        order = OrderView(*row)
        orders.lock_account_of(conn, order)  # the lock order every writer keeps
        try:
            end_unpaid(conn, order, "expired", now, "not paid in time")
            done += 1
        except IllegalTransition:
            continue
    return done
