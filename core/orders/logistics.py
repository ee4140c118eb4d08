"""Delivery of physical goods (§2.2.15): paid → shipped (carrier, tracking number) → delivered.

Each step goes through ``orders.set_status`` (the order state machine refuses any
other move) and is audited with the staff member who made it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from core.orders import orders, states
from core.orders.errors import IllegalTransition, UnknownOrder
from core.orders.orders import OrderView
from core.platform import audit
from core.platform.schema import order_event
from core.platform.schema import orders as orders_table


@dataclass(frozen=True)
class Event:
    """One step of an order's history, as the subscriber sees it in "my orders"."""

    from_status: str
    to_status: str
    at: int
    note: str


def _order(conn: Connection, no: str) -> OrderView:
    found = orders.by_no(conn, no)
    if found is None:
        raise UnknownOrder(no)
    return found


def ship(
    conn: Connection, no: str, *, carrier: str, tracking_no: str, by: str, now: int
) -> OrderView:
    """Mark a paid order shipped with its carrier and tracking number."""
    order = _order(conn, no)
    if order.kind != "physical":  # vouchers and phone credit are never shipped
        raise IllegalTransition(no, order.status, "shipped")
    states.set_status(conn, order, "shipped", now, note=f"{carrier} {tracking_no}")
    conn.execute(
        update(orders_table)
        .where(orders_table.c.id == order.id)
        .values(carrier=carrier[:32], tracking_no=tracking_no[:64])
    )
    audit.record(
        conn,
        actor_kind="operator",
        actor=by,
        action="order_ship",
        subject=f"order:{no}",
        result="shipped",
        now=now,
        details={"carrier": carrier, "tracking_no": tracking_no},
    )
    return _order(conn, no)


def deliver(conn: Connection, no: str, *, by: str, now: int) -> OrderView:
    """Mark a shipped order delivered."""
    order = _order(conn, no)
    if order.status != "shipped":  # only a parcel on its way is delivered here
        raise IllegalTransition(no, order.status, "delivered")
    states.set_status(conn, order, "delivered", now, note=f"by {by}")
    audit.record(
        conn,
        actor_kind="operator",
        actor=by,
        action="order_deliver",
        subject=f"order:{no}",
        result="delivered",
        now=now,
    )
    return _order(conn, no)


def events(conn: Connection, order_id: int) -> list[Event]:
    rows = conn.execute(
        select(
            order_event.c.from_status, order_event.c.to_status, order_event.c.at, order_event.c.note
        )
        .where(order_event.c.order_id == order_id)
        .order_by(order_event.c.id)
    ).all()
    return [Event(r[0], r[1], int(r[2]), r[3]) for r in rows]
