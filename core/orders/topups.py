"""Phone-credit top-ups (§1 "积分兑换话费"): a paid credit order requests credit to the number.

The top-up's amount is the item's face value × quantity, in cents. It is due at once:
the ``recharge`` job (``core.recharge.delivery``) sends it to the provider.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Connection, String, bindparam, func, insert, literal, select

from core.orders.orders import OrderView
from core.platform.prepared import Prepared
from core.platform.schema import item, topup

_NEW_TOPUP = Prepared(
    insert(topup).from_select(
        [
            "order_id",
            "msisdn",
            "amount_cents",
            "status",
            "created_at",
            "updated_at",
            "next_attempt_at",
        ],
        select(
            bindparam("oid", type_=BigInteger),
            bindparam("msisdn", type_=String),
            func.coalesce(item.c.face_value_cents, 0) * bindparam("qty", type_=BigInteger),
            literal("requested"),
            bindparam("now", type_=BigInteger),
            bindparam("now", type_=BigInteger),
            bindparam("now", type_=BigInteger),
        ).where(item.c.id == bindparam("iid")),
    )
)


def request(conn: Connection, order: OrderView, msisdn: str, now: int) -> None:
    """Record a ``requested`` top-up of the paid credit ``order`` to ``msisdn`` (E.164)."""
    _NEW_TOPUP.run(conn, oid=order.id, msisdn=msisdn, qty=order.qty, iid=order.item_id, now=now)
