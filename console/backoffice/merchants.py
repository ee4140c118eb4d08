"""Merchant pages (§3.4.1 merchant management, §3.4.4 terminals and who may verify, §6.3
contract rates; issue 16 §1): every merchant, and one merchant's staff phones, contract rate
(with its history) and POS terminals.

Through ``core.merchants.merchants`` and ``core.settlement.settlement.set_rate`` (the CLI's
functions), audited there. A terminal's key is shown once, on the page that answers adding
(or rotating) it, and never kept: it is derived again to check a signature.
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
    attempt,
    bad_fields,
    done,
    page_number,
    sliced,
)
from console.backoffice.refusals import Refusal
from core.merchants import merchants
from core.merchants.errors import UnknownMerchant
from core.platform.errors import InvalidPhoneNumber
from core.platform.phones import to_e164
from core.platform.schema import STAFF_ROLES
from core.settlement import settlement

READ = CAN["merchants.read"]
STAFF = CAN["merchants.staff"]
TERMINALS = CAN["merchants.terminals"]
RATES = CAN["rates.write"]
CODE = r"/merchants/{code:[A-Za-z0-9-]{1,16}}"
TERMINAL_ID = r"[A-Za-z0-9_-]{1,32}"
PER_THOUSAND = settlement.PER_THOUSAND


class MerchantPages:
    """``/merchants`` and ``/merchants/{code}`` under ``/console/ops``."""

    def __init__(self, desk: Desk, ops: str) -> None:
        self.desk = desk
        self.ops = ops

    def routes(self) -> list[web.RouteDef]:
        page, ops = self.desk.page, self.ops
        return [
            web.get(f"{ops}/merchants", page(self.listing, roles=READ)),
            web.get(ops + CODE, page(self.merchant, roles=READ)),
            web.post(ops + CODE + "/staff", page(self.add_staff, roles=STAFF)),
            web.post(ops + CODE + "/staff/remove", page(self.remove_staff, roles=STAFF)),
            web.post(ops + CODE + "/terminals", page(self.add_terminal, roles=TERMINALS)),
            web.post(ops + CODE + "/rate", page(self.set_rate, roles=RATES)),
        ]

    async def listing(self, request: web.Request, session: Session, op: Operator) -> web.Response:
        """Every merchant with its status and current contract rate."""

        def unit(conn: Connection) -> list[tuple[Any, Any]]:
            return [(m, settlement.current_rate(conn, m.id)) for m in merchants.listing(conn)]

        rows = await self.desk.db.read(unit)
        return self.desk.render(
            request,
            session,
            "ops_merchants.html",
            op=op,
            found=sliced(rows, page_number(request.query)),
        )

    async def merchant(
        self,
        request: web.Request,
        session: Session,
        op: Operator,
        *,
        status: int = 200,
        error: str | None = None,
        args: dict[str, Any] | None = None,
        key: tuple[str, str] | None = None,
    ) -> web.Response:
        """One merchant: staff phones, contract rate and its history, terminals."""
        code = request.match_info["code"].upper()

        def unit(conn: Connection) -> dict[str, Any] | None:
            try:
                shop = merchants.find_merchant(conn, code)
            except UnknownMerchant:
                return None
            return {
                "shop": shop,
                "people": merchants.staff_of(conn, shop.id),
                "rates": settlement.rate_history(conn, shop.id),
                "terminals": merchants.terminals_of(conn, shop.id),
            }

        found = await self.desk.db.read(unit)
        if found is None:
            raise web.HTTPNotFound()
        return self.desk.render(
            request,
            session,
            "ops_merchant.html",
            op=op,
            status=status,
            roles=STAFF_ROLES,
            per_thousand=PER_THOUSAND,
            key=key,
            error=error,
            args=args or {},
            **found,
        )

    def _where(self, code: str) -> str:
        return f"{self.desk.prefix}/merchants/{code}"

    async def _refused(
        self, request: web.Request, session: Session, op: Operator, outcome: Refusal
    ) -> web.Response:
        return await self.merchant(
            request, session, op, status=outcome.status, error=outcome.key, args=outcome.args
        )

    async def _bad(
        self, request: web.Request, session: Session, op: Operator, f: Fields
    ) -> web.Response:
        t = self.desk.words(request, session)
        return await self.merchant(
            request, session, op, status=400, error="bo_bad_fields", args=bad_fields(t, f)
        )

    def _phone(self, f: Fields, name: str) -> str | None:
        raw = f.text(name, 32)
        try:
            return to_e164(raw, self.desk.region) if raw else None
        except InvalidPhoneNumber:
            f.bad.append(name)
            return None

    async def add_staff(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Register (or re-activate with a role) a staff phone of an approved merchant."""
        code = request.match_info["code"].upper()
        f = Fields(await request.post())
        phone = self._phone(f, "msisdn")
        role = f.choice("role", STAFF_ROLES)
        if not f.ok or phone is None or role is None:
            return await self._bad(request, session, op, f)
        outcome = await attempt(
            self.desk,
            partial(
                merchants.add_staff,
                code=code,
                msisdn=phone,
                role=role,
                by=op.member.name,
                now=self.desk.now(),
            ),
        )
        if isinstance(outcome, Refusal):
            return await self._refused(request, session, op, outcome)
        raise done(session, self._where(code), "bo_staff_added", phone=phone, code=code)

    async def remove_staff(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Stop a staff phone from verifying for the merchant."""
        code = request.match_info["code"].upper()
        f = Fields(await request.post())
        phone = self._phone(f, "msisdn")
        if phone is None:
            return await self._bad(request, session, op, f)
        outcome = await attempt(
            self.desk,
            partial(
                merchants.remove_staff,
                code=code,
                msisdn=phone,
                by=op.member.name,
                now=self.desk.now(),
            ),
        )
        if isinstance(outcome, Refusal):
            return await self._refused(request, session, op, outcome)
        key = "bo_staff_removed" if outcome else "bo_staff_absent"
        raise done(session, self._where(code), key, phone=phone, code=code)

    async def add_terminal(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Register a POS terminal or rotate its key; the key is shown on this answer only."""
        code = request.match_info["code"].upper()
        f = Fields(await request.post())
        terminal_id = f.text("terminal_id", 32)
        if terminal_id and not all(c.isascii() and (c.isalnum() or c in "-_") for c in terminal_id):
            f.bad.append("terminal_id")
        if not f.ok:
            return await self._bad(request, session, op, f)
        keyring = self.desk.keyring
        try:
            outcome = await attempt(
                self.desk,
                partial(
                    merchants.add_terminal,
                    code=code,
                    terminal_id=terminal_id,
                    by=op.member.name,
                    now=self.desk.now(),
                    keyring=keyring,
                ),
            )
        except ValueError:  # the terminal id is another merchant's
            return await self.merchant(
                request,
                session,
                op,
                status=409,
                error="bo_terminal_taken",
                args={"id": terminal_id},
            )
        if isinstance(outcome, Refusal):
            return await self._refused(request, session, op, outcome)
        return await self.merchant(
            request,
            session,
            op,
            status=201,
            args={"id": terminal_id},
            key=(terminal_id, outcome),
        )

    async def set_rate(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Set the contract rate from now on (yuan per 1,000 points); earlier lines keep theirs."""
        code = request.match_info["code"].upper()
        f = Fields(await request.post())
        cents = f.cents("yuan", required=True, high=10**9)
        if not f.ok or cents is None:
            return await self._bad(request, session, op, f)
        outcome = await attempt(
            self.desk,
            partial(
                settlement.set_rate,
                code=code,
                cents=cents,
                by=op.member.name,
                now=self.desk.now(),
            ),
        )
        if isinstance(outcome, Refusal):
            return await self._refused(request, session, op, outcome)
        raise done(session, self._where(code), "bo_rate_set", code=code)
