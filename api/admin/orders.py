"""Orders (§2.2.15): lookup and logistics (ship with carrier and tracking number, deliver)."""

from __future__ import annotations

from api.admin.fields import body, text
from api.admin.registry import ADMIN, BUSINESS_ADMIN, SUPPORT, Call, Route
from core.backoffice import duties
from core.orders import logistics
from core.orders import orders as core_orders
from core.orders.errors import UnknownOrder
from core.orders.orders import OrderView

READ = frozenset({BUSINESS_ADMIN, ADMIN, SUPPORT})
WRITE = duties.DUTIES[duties.ORDER_LOGISTICS]
NO = (text("no", 20, pattern=r"^[A-Za-z0-9-]{1,20}$"),)
SHIP = body(text("carrier", 32), text("tracking_no", 64))


async def get_order(call: Call) -> OrderView:
    """Show an order by number, with its logistics."""
    found = await call.read(core_orders.by_no, no=call.path["no"])
    if found is None:
        raise UnknownOrder(call.path["no"])
    return found


async def ship(call: Call) -> OrderView:
    """Mark a paid order of physical goods shipped."""
    return await call.write(
        logistics.ship,
        no=call.path["no"],
        carrier=call.body["carrier"],
        tracking_no=call.body["tracking_no"],
        by=call.staff.name,
        now=call.now,
    )


async def deliver(call: Call) -> OrderView:
    """Mark a shipped order delivered."""
    return await call.write(logistics.deliver, no=call.path["no"], by=call.staff.name, now=call.now)


TAG = "orders"
ROUTES = (
    Route("GET", "/orders/{no}", get_order, READ, "show an order", TAG, OrderView, NO),
    Route("POST", "/orders/{no}/ship", ship, WRITE, "ship an order", TAG, OrderView, NO, body=SHIP),
    Route(
        "POST",
        "/orders/{no}/deliver",
        deliver,
        WRITE,
        "mark an order delivered",
        TAG,
        OrderView,
        NO,
    ),
)
