"""The order state machine (DESIGN §5) as data: the statuses each status may move to.

``created → awaiting_otp (points held, stock reserved) → paid →
{shipped → delivered | voucher_issued → verified}``; an unpaid order may be
cancelled or expire (hold released, stock returned); a paid order or an unused
voucher may be refunded (a +refund entry); a shipped parcel, a top-up or a
verified voucher cannot. ``set_status`` is the only way an order's status
changes: a conditional UPDATE checked against ``TRANSITIONS``, one
``order_event`` row per move; anything else is refused with ``IllegalTransition``.
"""

from __future__ import annotations

from sqlalchemy import Connection, and_, bindparam, case, insert, select, update

from core.orders.errors import IllegalTransition
from core.orders.orders import OrderView
from core.platform.prepared import Prepared
from core.platform.schema import order_event, orders

TRANSITIONS: dict[str, frozenset[str]] = {
    "created": frozenset({"awaiting_otp", "paid", "cancelled", "expired"}),
    "awaiting_otp": frozenset({"paid", "cancelled", "expired"}),
    "paid": frozenset({"shipped", "delivered", "voucher_issued", "refunded"}),
    "shipped": frozenset({"delivered"}),
    "voucher_issued": frozenset({"verified", "refunded"}),
    "delivered": frozenset(),
    "verified": frozenset(),
    "cancelled": frozenset(),
    "expired": frozenset(),
    "refunded": frozenset(),
}
UNPAID = ("created", "awaiting_otp")
"""Statuses whose points are only held and whose stock is only reserved."""
LIVE = ("created", "awaiting_otp", "paid", "shipped", "delivered", "voucher_issued", "verified")
"""Statuses that count against a per-account limit."""

_MOVE = Prepared(
    update(orders)
    .where(and_(orders.c.id == bindparam("oid"), orders.c.status == bindparam("current")))
    .values(
        status=bindparam("wanted"),
        updated_at=bindparam("now"),
        # when it was paid is part of the move to paid (one statement, issue 15 §2)
        paid_at=case((bindparam("wanted") == "paid", bindparam("now")), else_=orders.c.paid_at),
    )
)
_EVENT = Prepared(
    insert(order_event).values(
        order_id=bindparam("oid"),
        from_status=bindparam("current"),
        to_status=bindparam("wanted"),
        at=bindparam("now"),
        note=bindparam("note"),
    )
)
_STATUS_OF = Prepared(select(orders.c.status).where(orders.c.id == bindparam("oid")))


def set_status(conn: Connection, order: OrderView, wanted: str, now: int, note: str = "") -> None:
    """Move ``order`` from the status it was read with to ``wanted`` (``now``: UTC epoch).

    Raises ``IllegalTransition`` when ``TRANSITIONS`` forbids the move or another
    writer changed the order since it was read; ``note`` (≤ 200 chars) goes to its history.
    """
    move(conn, order.id, order.no, order.status, wanted, now, note)


def move(
    conn: Connection,
    order_id: int,
    no: str,
    current: str,
    wanted: str,
    now: int,
    note: str = "",
) -> None:
    """``set_status`` for order ``order_id`` (number ``no``) known to be ``current`` without
    reading it (a new order is ``created``)."""
    if wanted not in TRANSITIONS[current]:
        raise IllegalTransition(no, current, wanted)
    params = {"oid": order_id, "current": current, "wanted": wanted, "now": now}
    if _MOVE.run(conn, **params) != 1:
        raise IllegalTransition(no, str(_STATUS_OF.scalar(conn, oid=order_id)), wanted)
    _EVENT.run(conn, note=note[:200], **params)
