"""Staff, roles and the audit log (issue 8, issue 16 §1): admins add operator staff (the
token is shown once, on the answer), change a member's role, disable and enable them (never
themselves), approve or reject staff changes waiting for a second admin, and see what each
role may do; admins and finance read the audit log with filters.

Every change goes through ``core.backoffice.staffing`` (issue 13 §3), as the admin API's and
the command line's do: recorded in ``staff_change`` and audited; beyond
``POINTSHALL_STAFF_CHANGES_PER_DAY`` grants in 24 hours a change waits for a second,
independent admin; a disabled member's token and sessions stop at once. The audit log is
read with ``core.platform.audit.page``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Any

from aiohttp import web
from aiohttp_session import Session
from sqlalchemy import Connection

from console.backoffice.access import CAN, EVERYONE
from console.backoffice.desk import (
    Desk,
    Fields,
    Operator,
    attempt,
    bad_fields,
    done,
    offset_of,
    page_number,
    sliced,
    windowed,
)
from console.backoffice.refusals import Refusal
from core.backoffice import operator_staff, staff_history, staffing
from core.backoffice.staffing import Change
from core.platform import audit
from core.platform.schema import OPERATOR_ROLES

MANAGE = CAN["staff.manage"]
AUDIT = CAN["audit.read"]
NAME = r"[A-Za-z0-9_.-]{1,64}"
CHANGE = r"/staff-changes/{id:\d{1,12}}"


class StaffPages:
    """``/staff`` and ``/audit`` under ``/console/ops``."""

    def __init__(self, desk: Desk, ops: str) -> None:
        self.desk = desk
        self.ops = ops

    def routes(self) -> list[web.RouteDef]:
        page, ops = self.desk.page, self.ops
        return [
            web.get(f"{ops}/staff", page(self.staff, roles=MANAGE)),
            web.post(f"{ops}/staff", page(self.add, roles=MANAGE)),
            web.post(f"{ops}/staff/{{name:{NAME}}}/disable", page(self.disable, roles=MANAGE)),
            web.post(f"{ops}/staff/{{name:{NAME}}}/enable", page(self.enable, roles=MANAGE)),
            web.post(f"{ops}/staff/{{name:{NAME}}}/role", page(self.role, roles=MANAGE)),
            web.post(ops + CHANGE + "/approve", page(self.approve, roles=MANAGE)),
            web.post(ops + CHANGE + "/reject", page(self.reject, roles=MANAGE)),
            web.get(f"{ops}/audit", page(self.audit, roles=AUDIT)),
        ]

    async def staff(
        self,
        request: web.Request,
        session: Session,
        op: Operator,
        *,
        status: int = 200,
        error: str | None = None,
        args: dict[str, Any] | None = None,
        token: tuple[str, str] | None = None,
        form: dict[str, str] | None = None,
    ) -> web.Response:
        """Staff members with their roles; add one; changes waiting for a second admin; what
        each role may do."""
        members = await self.desk.db.read(operator_staff.members)
        waiting = await self.desk.db.read(staff_history.pending)
        matrix = [(cap, [role in roles for role in OPERATOR_ROLES]) for cap, roles in CAN.items()]
        return self.desk.render(
            request,
            session,
            "ops_staff.html",
            op=op,
            status=status,
            found=sliced(members, page_number(request.query)),
            waiting=waiting,
            pending_token=bool(token and token[0] not in {m.name for m in members}),
            roles=OPERATOR_ROLES,
            matrix=matrix,
            everyone=EVERYONE,
            token=token,
            form=form or {},
            error=error,
            args=args or {},
        )

    async def add(self, request: web.Request, session: Session, op: Operator) -> web.Response:
        """Create a staff member; their token is shown on this answer only (never stored)."""
        f = Fields(await request.post())
        name = f.text("name", 64)
        if name and not all(c.isascii() and (c.isalnum() or c in "_.-") for c in name):
            f.bad.append("name")
        role = f.choice("role", OPERATOR_ROLES)
        if not f.ok or role is None:
            t = self.desk.words(request, session)
            return await self.staff(
                request,
                session,
                op,
                status=400,
                error="bo_bad_fields",
                args=bad_fields(t, f),
                form=f.values,
            )
        outcome = await attempt(
            self.desk,
            partial(
                staffing.create,
                keyring=self.desk.keyring,
                actor=op.member,
                name=name,
                role=role,
                now=self.desk.now(),
                alone_per_day=self.desk.staff_changes_per_day,
            ),
        )
        if isinstance(outcome, Refusal):
            return await self.staff(
                request,
                session,
                op,
                status=outcome.status,
                error=outcome.key,
                args=outcome.args,
                form=f.values,
            )
        assert outcome.token is not None
        return await self.staff(
            request, session, op, status=201, token=(outcome.change.name, outcome.token)
        )

    async def disable(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Disable a member (not oneself): their token and sessions stop working at once."""
        name = request.match_info["name"]
        if name == op.member.name:  # as the admin API: nobody locks themselves out
            return await self.staff(request, session, op, status=422, error="bo_not_yourself")
        outcome = await attempt(
            self.desk,
            partial(staffing.disable, actor=op.member, name=name, now=self.desk.now()),
        )
        if isinstance(outcome, Refusal):
            return await self.staff(
                request, session, op, status=outcome.status, error=outcome.key, args=outcome.args
            )
        raise done(session, f"{self.desk.prefix}/staff", "bo_staff_disabled", name=name)

    async def enable(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Enable a disabled member again (a grant: beyond the daily limit it waits)."""
        name = request.match_info["name"]
        unit = partial(
            staffing.enable,
            actor=op.member,
            name=name,
            now=self.desk.now(),
            alone_per_day=self.desk.staff_changes_per_day,
        )
        return await self._change(request, session, op, unit, "bo_staff_enabled")

    async def role(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Give a member another role (a grant: beyond the daily limit it waits)."""
        f = Fields(await request.post())
        role = f.choice("role", OPERATOR_ROLES)
        if role is None:
            t = self.desk.words(request, session)
            return await self.staff(
                request, session, op, status=400, error="bo_bad_fields", args=bad_fields(t, f)
            )
        unit = partial(
            staffing.change_role,
            actor=op.member,
            name=request.match_info["name"],
            role=role,
            now=self.desk.now(),
            alone_per_day=self.desk.staff_changes_per_day,
        )
        return await self._change(request, session, op, unit, "bo_staff_role_set")

    async def approve(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """A second admin, independent of the requester, approves a waiting change."""
        unit = partial(
            staffing.approve,
            actor=op.member,
            change_id=int(request.match_info["id"]),
            now=self.desk.now(),
        )
        return await self._change(request, session, op, unit, "bo_change_approved")

    async def reject(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Another admin rejects a waiting change (or its requester withdraws it)."""
        unit = partial(
            staffing.reject,
            actor=op.member,
            change_id=int(request.match_info["id"]),
            now=self.desk.now(),
        )
        return await self._change(request, session, op, unit, "bo_change_rejected")

    async def _change(
        self,
        request: web.Request,
        session: Session,
        op: Operator,
        unit: Callable[[Connection], Change],
        key: str,
    ) -> web.StreamResponse:
        """Run a staff change; a refusal by separation of duties is audited apart."""
        outcome = await attempt(self.desk, unit)
        if isinstance(outcome, Refusal):
            return await self.staff(
                request, session, op, status=outcome.status, error=outcome.key, args=outcome.args
            )
        change = outcome.change
        t = self.desk.words(request, session)
        args = {"id": change.id, "name": change.name, "role": t(f"ops_role_{change.role}")}
        where = f"{self.desk.prefix}/staff"
        raise done(session, where, "bo_staff_pending" if outcome.pending else key, **args)

    async def audit(self, request: web.Request, session: Session, op: Operator) -> web.Response:
        """The audit log newest first, by subject, actor, action and dates."""
        f = Fields(request.query)
        tz = self.desk.timezone
        subject = f.text("subject", 64, required=False) or None
        actor = f.text("actor", 64, required=False) or None
        action = f.text("action", 32, required=False) or None
        since, until = f.day("from", tz), f.day("to", tz, end=True)
        number = page_number(request.query)
        rows: list[audit.LoggedAction] = []
        if f.ok:
            rows = await self.desk.db.read(
                partial(
                    audit.page,
                    subject=subject,
                    actor=actor,
                    action=action,
                    since=since,
                    until=until,
                    offset=offset_of(number),
                    limit=51,
                )
            )
        t = self.desk.words(request, session)
        return self.desk.render(
            request,
            session,
            "ops_audit.html",
            op=op,
            status=200 if f.ok else 400,
            found=windowed(rows, number, size=50),
            details=lambda d: (
                json.dumps(d, ensure_ascii=False, separators=(", ", ": ")) if d else ""
            ),
            form=f.values,
            error=None if f.ok else "bo_bad_fields",
            args=None if f.ok else bad_fields(t, f),
        )
