"""Order pages (§2.2.15; issue 16 §1): search by number, phone, status and date; one order with
its status history; ship (carrier and tracking number), deliver, and refund where allowed.

The search is ``core.orders.listing``; ship and deliver are ``core.orders.logistics`` (the
admin API's), refund is ``core.orders.cancellation.refund`` (the rules of a subscriber's
``QX``). Every move goes through the order state machine and is audited.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from aiohttp import web
from aiohttp_session import Session
from sqlalchemy import Connection

from console.backoffice.access import CAN
from console.backoffice.desk import (
    Desk,
    Fields,
    Operator,
    Page,
    attempt,
    bad_fields,
    done,
    offset_of,
    page_number,
    windowed,
)
from console.backoffice.refusals import Refusal
from core.orders import cancellation, listing, logistics
from core.orders.listing import OrderDetail, OrderFilter, OrderLine
from core.platform.errors import InvalidPhoneNumber
from core.platform.phones import to_e164
from core.platform.schema import ORDER_STATUSES

READ = CAN["orders.read"]
WRITE = CAN["orders.write"]
REFUND = CAN["orders.refund"]
NO = r"/orders/{no:[0-9A-Za-z-]{1,20}}"


class OrderPages:
    """The order search and one order's page under ``/console/ops``."""

    def __init__(self, desk: Desk, ops: str) -> None:
        self.desk = desk
        self.ops = ops

    def routes(self) -> list[web.RouteDef]:
        page, ops = self.desk.page, self.ops
        return [
            web.get(f"{ops}/orders", page(self.search, roles=READ)),
            web.get(ops + NO, page(self.order, roles=READ)),
            web.post(ops + NO + "/ship", page(self.ship, roles=WRITE)),
            web.post(ops + NO + "/deliver", page(self.deliver, roles=WRITE)),
            web.post(ops + NO + "/refund", page(self.refund, roles=REFUND)),
        ]

    async def search(self, request: web.Request, session: Session, op: Operator) -> web.Response:
        """Orders newest first, by number (or its beginning), phone, status and dates."""
        q = request.query
        f = Fields(q)
        tz = self.desk.timezone
        no = f.text("no", 20, required=False)
        status = f.choice("status", ORDER_STATUSES, required=False)
        since, until = f.day("from", tz), f.day("to", tz, end=True)
        phone = f.text("phone", 32, required=False)
        msisdn = None
        if phone:
            try:
                msisdn = to_e164(phone, self.desk.region)
            except InvalidPhoneNumber:
                f.bad.append("phone")
        number = page_number(q)
        found: Page[OrderLine] = windowed([], number)
        t = self.desk.words(request, session)
        if f.ok:
            wanted = OrderFilter(no or None, msisdn, status, since, until)
            rows = await self.desk.db.read(
                partial(
                    listing.search,
                    found=wanted,
                    offset=offset_of(number),
                    limit=found.size + 1,
                )
            )
            found = windowed(rows, number)
        return self.desk.render(
            request,
            session,
            "ops_orders.html",
            op=op,
            status=200 if f.ok else 400,
            found=found,
            statuses=ORDER_STATUSES,
            form=f.values,
            error=None if f.ok else "bo_bad_fields",
            args=None if f.ok else bad_fields(t, f),
        )

    async def order(
        self,
        request: web.Request,
        session: Session,
        op: Operator,
        *,
        status: int = 200,
        error: str | None = None,
        args: dict[str, Any] | None = None,
    ) -> web.Response:
        """One order: who, what, how paid, its voucher or top-up, its history; the moves."""
        no = request.match_info["no"]

        def unit(conn: Connection) -> tuple[OrderDetail, str | None] | None:
            found = listing.detail(conn, no)
            if found is None:
                return None
            return found, cancellation.refundable(conn, found.order)

        found = await self.desk.db.read(unit)
        if found is None:
            raise web.HTTPNotFound()
        detail, why_not = found
        order = detail.order
        return self.desk.render(
            request,
            session,
            "ops_order.html",
            op=op,
            status=status,
            d=detail,
            o=order,
            can_ship=order.kind == "physical" and order.status == "paid",
            can_deliver=order.status == "shipped",
            can_refund=why_not is None,
            error=error,
            args=args or {},
        )

    async def _move(
        self,
        request: web.Request,
        session: Session,
        op: Operator,
        unit: Any,
        done_key: str,
    ) -> web.StreamResponse:
        no = request.match_info["no"]
        outcome = await attempt(self.desk, unit)
        if isinstance(outcome, Refusal):
            return await self.order(
                request, session, op, status=outcome.status, error=outcome.key, args=outcome.args
            )
        raise done(session, f"{self.desk.prefix}/orders/{no}", done_key, no=no)

    async def ship(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Mark a paid parcel shipped with its carrier and tracking number."""
        f = Fields(await request.post())
        carrier, tracking = f.text("carrier", 32), f.text("tracking_no", 64)
        if not f.ok:
            t = self.desk.words(request, session)
            return await self.order(
                request, session, op, status=400, error="bo_bad_fields", args=bad_fields(t, f)
            )
        unit = partial(
            logistics.ship,
            no=request.match_info["no"],
            carrier=carrier,
            tracking_no=tracking,
            by=op.member.name,
            now=self.desk.now(),
        )
        return await self._move(request, session, op, unit, "bo_shipped")

    async def deliver(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Mark a shipped parcel delivered."""
        unit = partial(
            logistics.deliver, no=request.match_info["no"], by=op.member.name, now=self.desk.now()
        )
        return await self._move(request, session, op, unit, "bo_delivered")

    async def refund(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Refund a paid, unshipped parcel or an unused voucher paid with points."""
        unit = partial(
            cancellation.refund, no=request.match_info["no"], by=op.member.name, now=self.desk.now()
        )
        return await self._move(request, session, op, unit, "bo_refunded")
