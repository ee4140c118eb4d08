"""Delivery of physical goods (§2.2.15): staff ship a paid order and mark it delivered.

Each step is an order transition (``core.orders.TRANSITIONS``: paid → shipped →
delivered), recorded as an ``order_event`` the subscriber sees in "my orders",
with the carrier and tracking number on the order.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from core import audit
from core.errors import IllegalTransition, UnknownOrder
from core.orders import OrderView, by_no, set_status
from core.schema import order_event, orders

MAX_CARRIER = 32
MAX_TRACKING = 64


@dataclass(frozen=True)
class Event:
    from_status: str
    to_status: str
    at: int
    note: str


def _order(conn: Connection, no: str) -> OrderView:
    found = by_no(conn, no)
    if found is None:
        raise UnknownOrder(no)
    return found


def ship(
    conn: Connection, *, no: str, carrier: str, tracking_no: str, staff: str, now: int
) -> None:
    order = _order(conn, no)
    if order.kind != "physical":  # vouchers and top-ups are not parcels
        raise IllegalTransition(no, order.status, "shipped")
    set_status(conn, order, "shipped", now, f"{carrier} {tracking_no}")
    conn.execute(
        update(orders)
        .where(orders.c.id == order.id)
        .values(carrier=carrier[:MAX_CARRIER], tracking_no=tracking_no[:MAX_TRACKING])
    )
    _audit(conn, staff, "order_ship", no, now)


def deliver(conn: Connection, *, no: str, staff: str, now: int) -> None:
    order = _order(conn, no)
    if order.status != "shipped":  # a parcel is delivered after it was shipped
        raise IllegalTransition(no, order.status, "delivered")
    set_status(conn, order, "delivered", now, "delivered")
    _audit(conn, staff, "order_deliver", no, now)


def events(conn: Connection, order_id: int) -> list[Event]:
    rows = conn.execute(
        select(
            order_event.c.from_status, order_event.c.to_status, order_event.c.at, order_event.c.note
        )
        .where(order_event.c.order_id == order_id)
        .order_by(order_event.c.id)
    ).all()
    return [Event(r[0], r[1], int(r[2]), r[3]) for r in rows]


def _audit(conn: Connection, staff: str, action: str, no: str, now: int) -> None:
    audit.record(
        conn,
        actor_kind="staff",
        actor=staff,
        action=action,
        subject=f"order:{no}",
        result="ok",
        now=now,
    )
