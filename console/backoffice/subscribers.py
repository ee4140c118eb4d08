"""Subscriber lookup and points adjustments (§1; issue 8 "two-person rule"; issue 16 §1).

Support, finance and admins look a number up: the account's balance, what is held, the
lots with their expiry (spent first-expiring-first), the journal and the newest orders.
An adjustment is proposed with a reason and posted only when *another*, independent member
approves it: the page calls ``core.backoffice.decisions`` (``propose_adjustment``,
``approve_adjustment``, ``reject_adjustment``), as the admin API and the command line do, so
the separation-of-duties rules (issue 13 §3) and their refusals are the core's; a refusal by
those rules is audited (``duty_refused``) in a unit of its own.
"""

from __future__ import annotations

from collections.abc import Callable
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
    attempt,
    bad_fields,
    done,
    link,
    offset_of,
    page_number,
    windowed,
)
from console.backoffice.refusals import Refusal, refusal
from console.backoffice.words import KNOWN
from core.backoffice import decisions
from core.orders import orders
from core.platform.errors import DomainError, InvalidPhoneNumber
from core.platform.phones import to_e164
from core.platform.schema import ADJUSTMENT_STATUSES
from core.points import accounts, adjustments
from core.points.adjustments import MAX_POINTS, Adjustment
from core.settlement.settlement import period_of
from core.subscribers import subscribers

READ = CAN["subscribers.read"]
ADJUST_READ = CAN["adjustments.read"]
PROPOSE = CAN["adjustments.propose"]
DECIDE = CAN["adjustments.decide"]
ORDERS_SHOWN = 10
ID = r"/adjustments/{id:\d{1,12}}"


class SubscriberPages:
    """``/subscribers`` (lookup) and ``/adjustments`` (propose, approve, reject)."""

    def __init__(self, desk: Desk, ops: str) -> None:
        self.desk = desk
        self.ops = ops

    def routes(self) -> list[web.RouteDef]:
        page, ops = self.desk.page, self.ops
        return [
            web.get(f"{ops}/subscribers", page(self.lookup, roles=READ)),
            web.get(f"{ops}/adjustments", page(self.adjustments, roles=ADJUST_READ)),
            web.post(f"{ops}/adjustments", page(self.propose, roles=PROPOSE)),
            web.post(ops + ID + "/approve", page(self.approve, roles=DECIDE)),
            web.post(ops + ID + "/reject", page(self.reject, roles=DECIDE)),
        ]

    def _msisdn(self, raw: str) -> str | None:
        try:
            return to_e164(raw, self.desk.region) if raw.strip() else None
        except InvalidPhoneNumber:
            return None

    async def lookup(
        self,
        request: web.Request,
        session: Session,
        op: Operator,
        *,
        status: int = 200,
        error: str | None = None,
        args: dict[str, Any] | None = None,
        form: dict[str, str] | None = None,
        shown: str | None = None,
    ) -> web.Response:
        """Look a number up: card, lots with expiry, journal (paged), newest orders
        (``shown``: the number a refused proposal was for, instead of the query's)."""
        raw = (request.query.get("msisdn", "") if shown is None else shown)[:32]
        msisdn = self._msisdn(raw)
        number = page_number(request.query)
        now = self.desk.now()
        view: dict[str, Any] = {}
        if raw and msisdn is None and error is None:
            status, error = 400, "err_bad_phone"
        elif msisdn is not None:

            def unit(conn: Connection) -> dict[str, Any]:
                card = accounts.card(conn, msisdn, now)
                total, entries = accounts.entries(conn, msisdn, offset=offset_of(number), limit=21)
                found = subscribers.find(conn, msisdn)
                assert found is not None
                recent, ordered = orders.recent(conn, found.id, 0, ORDERS_SHOWN)
                return {
                    "card": card,
                    "lots": accounts.lots(conn, msisdn),
                    "entries": windowed(entries, number),
                    "entry_total": total,
                    "orders": recent,
                    "order_total": ordered,
                }

            try:
                view = await self.desk.db.read(unit)
            except DomainError as exc:
                found = refusal(exc, KNOWN)
                if error is None:
                    status, error, args = found.status, found.key, found.args
        return self.desk.render(
            request,
            session,
            "ops_subscriber.html",
            op=op,
            status=status,
            msisdn=msisdn or raw,
            now=now,
            orders_link=link(f"{self.desk.prefix}/orders", {}, phone=msisdn or ""),
            form=form or {},
            error=error,
            args=args or {},
            **view,
        )

    async def adjustments(
        self,
        request: web.Request,
        session: Session,
        op: Operator,
        *,
        status: int = 200,
        error: str | None = None,
        args: dict[str, Any] | None = None,
    ) -> web.Response:
        """Adjustments newest first, optionally in one status; approve or reject proposals."""
        chosen = request.query.get("status", "")
        chosen = chosen if chosen in ADJUSTMENT_STATUSES else ""
        number = page_number(request.query)
        rows = await self.desk.db.read(
            partial(adjustments.listing, status=chosen or None, offset=offset_of(number), limit=21)
        )
        return self.desk.render(
            request,
            session,
            "ops_adjustments.html",
            op=op,
            status=status,
            found=windowed(rows, number),
            statuses=ADJUSTMENT_STATUSES,
            chosen=chosen,
            error=error,
            args=args or {},
        )

    async def propose(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Propose adding (positive) or taking (negative) points, with a reason."""
        f = Fields(await request.post())
        raw = f.text("msisdn", 32)
        points = f.number("points", -MAX_POINTS, MAX_POINTS)
        reason = f.text("reason", 200)
        msisdn = self._msisdn(raw)
        if msisdn is None:
            f.bad.append("msisdn")
        if points == 0:
            f.bad.append("points")
        t = self.desk.words(request, session)
        where = link(f"{self.desk.prefix}/subscribers", {}, msisdn=msisdn or raw)
        if not f.ok or msisdn is None or points is None:
            return await self.lookup(
                request,
                session,
                op,
                status=400,
                error="bo_bad_fields",
                args=bad_fields(t, f),
                form=f.values,
                shown=msisdn or raw,
            )
        outcome = await attempt(
            self.desk,
            partial(
                decisions.propose_adjustment,
                proposer=op.member,
                msisdn=msisdn,
                points=points,
                reason=reason,
                now=self.desk.now(),
            ),
        )
        if isinstance(outcome, Refusal):
            return await self.lookup(
                request,
                session,
                op,
                status=outcome.status,
                error=outcome.key,
                args=outcome.args,
                form=f.values,
                shown=msisdn,
            )
        raise done(session, where, "bo_proposed", id=outcome.id, points=f"{points:+,}")

    async def approve(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Approve someone else's proposal: the entry ``adjust:{id}`` is posted."""
        adjustment_id = int(request.match_info["id"])
        now = self.desk.now()
        expires = self.desk.rules.expires_at(period_of(now, self.desk.timezone))
        unit = partial(
            decisions.approve_adjustment,
            approver=op.member,
            adjustment_id=adjustment_id,
            now=now,
            expires_at=expires,
        )
        return await self._decide(request, session, op, unit, "bo_approved")

    async def reject(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Reject a proposal; nothing is posted."""
        f = Fields(await request.post())
        unit = partial(
            decisions.reject_adjustment,
            decider=op.member,
            adjustment_id=int(request.match_info["id"]),
            reason=f.text("reason", 200, required=False),
            now=self.desk.now(),
        )
        return await self._decide(request, session, op, unit, "bo_rejected")

    async def _decide(
        self,
        request: web.Request,
        session: Session,
        op: Operator,
        unit: Callable[[Connection], Adjustment],
        key: str,
    ) -> web.StreamResponse:
        outcome = await attempt(self.desk, unit)
        if isinstance(outcome, Refusal):
            return await self.adjustments(
                request, session, op, status=outcome.status, error=outcome.key, args=outcome.args
            )
        where = f"{self.desk.prefix}/adjustments"
        raise done(session, where, key, id=outcome.id, msisdn=outcome.msisdn)
