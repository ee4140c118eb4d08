"""Paying an order (DESIGN §5): the held points are taken and the order is fulfilled.

Paying moves the order to ``paid``, captures its hold as one ``order:{no}:pay``
entry (points taken earliest-expiring lot first), counts the sale and fulfils the
order by the item's kind: phone credit becomes a top-up request, a merchant item
an electronic voucher (``voucher_issued``), a gift waits for shipment.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Connection, bindparam, update

from core.orders import orders, states, topups, voucher_issue
from core.orders.errors import IllegalTransition
from core.orders.orders import OrderView
from core.platform.codes import Keyring
from core.platform.db import at_end
from core.platform.prepared import Prepared
from core.platform.schema import item
from core.points import ledger
from core.subscribers.subscribers import Subscriber


@dataclass(frozen=True)
class Paid:
    order: OrderView
    voucher_expires_at: int | None = None
    voucher_token: str | None = None
    """The QR token, shown once (only its keyed hash is stored); ``core.vouchers.qr`` draws it."""
    voucher_password: str | None = None
    """The verification password, shown once (for the chat's voucher message)."""


_SELL = Prepared(
    update(item)
    .where(item.c.id == bindparam("iid"))
    .values(sold=item.c.sold + bindparam("qty", type_=BigInteger))
)


def _sell(conn: Connection, *, iid: int, qty: int) -> None:
    _SELL.run(conn, iid=iid, qty=qty)


def pay(
    conn: Connection,
    order: OrderView,
    subscriber: Subscriber,
    now: int,
    keyring: Keyring,
    tz: ZoneInfo,
) -> Paid:
    """Pay and fulfil ``order`` (read under its account lock, ``awaiting_otp`` or ``created``).

    Used by the confirm code, the chat checkout and the payment saga's points step
    once the money has arrived. Raises ``IllegalTransition`` when the order is no
    longer payable or its hold is gone (the caller's unit of work rolls back).
    """
    states.set_status(conn, order, "paid", now)
    if order.hold_id is not None:  # a cash-only order holds no points
        captured = ledger.capture_hold(
            conn,
            order.hold_id,
            source="order",
            key=f"order:{order.no}:pay",
            reason_key="redeem",
            reason_args=orders.reason_args(order),
            ref=f"order {order.no}",
            now=now,
        )
        if captured is None:
            raise IllegalTransition(order.no, order.status, "paid")
    # The item's row is every buyer's: count the sale as the unit's last statement.
    at_end(conn, partial(_sell, iid=order.item_id, qty=order.qty))
    paid = replace(order, status="paid", paid_at=now)
    if order.kind == "credit":
        topups.request(conn, paid, subscriber.msisdn, now)
        return Paid(paid)
    if order.kind == "voucher":
        issued = voucher_issue.issue(conn, paid, subscriber, now, keyring, tz)
        states.set_status(conn, paid, "voucher_issued", now)
        return Paid(
            replace(paid, status="voucher_issued"),
            issued.expires_at,
            issued.token,
            issued.password,
        )
    return Paid(paid)
