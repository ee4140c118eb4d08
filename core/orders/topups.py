"""Phone-credit top-ups (§1 "积分兑换话费"): a paid credit order requests credit to the number.

The top-up's amount is the item's face value × quantity, in cents. It is due at once:
the ``recharge`` job (``core.recharge.delivery``) sends it to the provider.
"""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, insert, select

from core.orders.orders import OrderView
from core.platform.prepared import Prepared
from core.platform.schema import item, topup

_FACE_VALUE = Prepared(select(item.c.face_value_cents).where(item.c.id == bindparam("iid")))
_NEW_TOPUP = Prepared(
    insert(topup).values(
        order_id=bindparam("oid"),
        msisdn=bindparam("msisdn"),
        amount_cents=bindparam("cents"),
        status="requested",
        created_at=bindparam("now"),
        updated_at=bindparam("now"),
        next_attempt_at=bindparam("now"),
    )
)


def request(conn: Connection, order: OrderView, msisdn: str, now: int) -> None:
    """Record a ``requested`` top-up of the paid credit ``order`` to ``msisdn`` (E.164)."""
    face = _FACE_VALUE.scalar(conn, iid=order.item_id)
    _NEW_TOPUP.run(conn, oid=order.id, msisdn=msisdn, cents=int(face or 0) * order.qty, now=now)
