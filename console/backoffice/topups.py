"""Phone top-up pages (issue 16 §2, seed §1 "积分兑换话费"): staff list top-ups by status,
see one with its history, and send an open or stalled one again.

The list, counts, detail and retry are ``core.recharge.topups``' (the admin API's /topups
routes call the same functions with the same roles: reading is ``orders.read``, a retry
``orders.write``). A retry puts the top-up back to ``requested``, due now, with the same
idempotency key; the ``recharge`` job sends it within a minute, and it is audited.
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
    Operator,
    attempt,
    done,
    offset_of,
    page_number,
    windowed,
)
from console.backoffice.refusals import Refusal
from core.platform.schema import TOPUP_STATUSES
from core.recharge import topups
from core.recharge.errors import UnknownTopup
from core.recharge.topups import TopupDetail, TopupView

READ = CAN["orders.read"]
WRITE = CAN["orders.write"]
NO = r"/topups/{no:[0-9A-Za-z-]{1,20}}"


class TopupPages:
    """``/topups`` and one top-up's page under ``/console/ops``."""

    def __init__(self, desk: Desk, ops: str) -> None:
        self.desk = desk
        self.ops = ops

    def routes(self) -> list[web.RouteDef]:
        page, ops = self.desk.page, self.ops
        return [
            web.get(f"{ops}/topups", page(self.listing, roles=READ)),
            web.get(ops + NO, page(self.topup, roles=READ)),
            web.post(ops + NO + "/retry", page(self.retry, roles=WRITE)),
        ]

    async def listing(self, request: web.Request, session: Session, op: Operator) -> web.Response:
        """Top-ups newest first, all or in one status, with how many are in each status."""
        chosen = request.query.get("status", "")
        chosen = chosen if chosen in TOPUP_STATUSES else ""
        number = page_number(request.query)

        def unit(conn: Connection) -> tuple[list[TopupView], dict[str, int]]:
            rows = topups.listing(conn, status=chosen or None, offset=offset_of(number), limit=21)
            return rows, topups.counts(conn)

        rows, counts = await self.desk.db.read(unit)
        return self.desk.render(
            request,
            session,
            "ops_topups.html",
            op=op,
            found=windowed(rows, number),
            statuses=TOPUP_STATUSES,
            counts=counts,
            chosen=chosen,
        )

    async def topup(
        self,
        request: web.Request,
        session: Session,
        op: Operator,
        *,
        status: int = 200,
        error: str | None = None,
        args: dict[str, Any] | None = None,
    ) -> web.Response:
        """One top-up: number, amount, status, tries, the provider's id, its history; retry."""
        no = request.match_info["no"]
        try:
            found: TopupDetail = await self.desk.db.read(partial(topups.detail, no=no))
        except UnknownTopup as exc:
            raise web.HTTPNotFound() from exc
        return self.desk.render(
            request,
            session,
            "ops_topup.html",
            op=op,
            status=status,
            d=found,
            tp=found.topup,
            can_retry=found.topup.status not in topups.FINAL,
            error=error,
            args=args or {},
        )

    async def retry(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Send an open or stalled top-up again (a succeeded or failed one is refused)."""
        no = request.match_info["no"]
        outcome = await attempt(
            self.desk,
            partial(topups.retry, no=no, by=op.member.name, now=self.desk.now()),
        )
        if isinstance(outcome, Refusal):
            if outcome.status == 404:
                raise web.HTTPNotFound()
            return await self.topup(
                request, session, op, status=outcome.status, error=outcome.key, args=outcome.args
            )
        raise done(session, f"{self.desk.prefix}/topups/{no}", "bo_topup_retried", no=no)
