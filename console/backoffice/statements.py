"""Statement and report pages (§6.3; issue 16 §1, §3): merchants' monthly statements,
finance's approve and pay, a statement's lines and its report, and a month's points-cost
report and reconciliation (``core.settlement.reconciliation``, headers in the staff
member's language, as the admin API's ``/reports/reconcile``).

Moves go through ``core.backoffice.decisions.move_statement`` (finance's duty in
``core.backoffice.duties.DUTIES``, then the state machine, audited); files are
written by ``core.settlement.report_files`` in a worker thread, as the admin API does.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
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
from core.backoffice import decisions
from core.settlement import reconciliation, report_files, reports, settlement, statements
from core.settlement.reports import LineRow
from core.settlement.settlement import StatementView, period_of, previous_period

READ = CAN["statements.read"]
MOVE = CAN["statements.move"]
REPORTS = CAN["reports.read"]
ID = r"/statements/{id:\d{1,12}}"
PERIOD = re.compile(r"20[0-9]{2}-(0[1-9]|1[0-2])")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("xlsx", "csv")
LINES_SHOWN = 50


def _render(suffix: str, write: Callable[[Path], object]) -> bytes:
    with tempfile.TemporaryDirectory(prefix="pointshall-report-") as folder:
        path = Path(folder) / f"report.{suffix}"
        write(path)
        return path.read_bytes()


def _download(data: bytes, suffix: str, name: str) -> web.Response:
    return web.Response(
        body=data,
        content_type=XLSX if suffix == "xlsx" else "text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{name}.{suffix}"',
            "Cache-Control": "no-store",
        },
    )


class StatementPages:
    """``/statements`` and ``/reports`` under ``/console/ops``."""

    def __init__(self, desk: Desk, ops: str) -> None:
        self.desk = desk
        self.ops = ops

    def routes(self) -> list[web.RouteDef]:
        page, ops = self.desk.page, self.ops
        return [
            web.get(f"{ops}/statements", page(self.listing, roles=READ)),
            web.get(ops + ID, page(self.statement, roles=READ)),
            web.post(ops + ID + "/{action:approve|pay}", page(self.move, roles=MOVE)),
            web.get(ops + ID + "/report.{fmt:xlsx|csv}", page(self.statement_file, roles=REPORTS)),
            web.get(f"{ops}/reports", page(self.reports, roles=REPORTS)),
            web.get(f"{ops}/reports/points-cost", page(self.points_cost, roles=REPORTS)),
            web.get(f"{ops}/reports/reconcile", page(self.reconcile, roles=REPORTS)),
        ]

    async def listing(self, request: web.Request, session: Session, op: Operator) -> web.Response:
        """Statements by period and merchant (either may be chosen), with their status."""
        f = Fields(request.query)
        period = f.raw("period")
        if period and not _period_ok(period):
            f.bad.append("period")
        merchant = f.code("merchant", required=False)
        rows: list[StatementView] = []
        if f.ok:
            rows = await self.desk.db.read(
                partial(settlement.statements, period=period or None, merchant_code=merchant)
            )
            rows.reverse()  # newest period first
        t = self.desk.words(request, session)
        return self.desk.render(
            request,
            session,
            "ops_statements.html",
            op=op,
            status=200 if f.ok else 400,
            found=sliced(rows, page_number(request.query)),
            form=f.values,
            error=None if f.ok else "bo_bad_fields",
            args=None if f.ok else bad_fields(t, f),
        )

    async def statement(
        self,
        request: web.Request,
        session: Session,
        op: Operator,
        *,
        status: int = 200,
        error: str | None = None,
        args: dict[str, Any] | None = None,
    ) -> web.Response:
        """One statement: figures, status, its first lines, the moves finance may make."""
        statement_id = int(request.match_info["id"])

        def unit(conn: Connection) -> tuple[StatementView, list[LineRow]] | None:
            view = settlement.statement_by_id(conn, statement_id)
            if view is None:
                return None
            lines: list[LineRow] = []
            for line in reports.statement_lines(conn, statement_id, batch=LINES_SHOWN):
                lines.append(line)
                if len(lines) == LINES_SHOWN:
                    break
            return view, lines

        found = await self.desk.db.read(unit)
        if found is None:
            raise web.HTTPNotFound()
        view, lines = found
        return self.desk.render(
            request,
            session,
            "ops_statement.html",
            op=op,
            status=status,
            s=view,
            lines=lines,
            shown=LINES_SHOWN,
            can_approve=view.status in statements.MOVES["approve"],
            can_pay=view.status in statements.MOVES["pay"],
            error=error,
            args=args or {},
        )

    async def move(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Finance approves a confirmed statement, or marks an approved one paid."""
        statement_id = int(request.match_info["id"])
        action = request.match_info["action"]
        outcome = await attempt(
            self.desk,
            partial(
                decisions.move_statement,
                member=op.member,
                statement_id=statement_id,
                action=action,
                now=self.desk.now(),
            ),
        )
        if isinstance(outcome, Refusal):
            return await self.statement(
                request, session, op, status=outcome.status, error=outcome.key, args=outcome.args
            )
        where = f"{self.desk.prefix}/statements/{statement_id}"
        raise done(session, where, f"bo_statement_{action}", id=statement_id)

    async def statement_file(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """A statement's lines as XLSX or CSV (the same file as the admin API's report)."""
        statement_id = int(request.match_info["id"])
        suffix = request.match_info["fmt"]

        def unit(conn: Connection) -> tuple[StatementView, list[LineRow]] | None:
            view = settlement.statement_by_id(conn, statement_id)
            if view is None:
                return None
            return view, list(reports.statement_lines(conn, statement_id))

        found = await self.desk.db.read(unit)
        if found is None:
            raise web.HTTPNotFound()
        view, lines = found
        zone = self.desk.timezone
        data = await asyncio.to_thread(
            _render, suffix, lambda p: report_files.write_statement(p, view, lines, zone)
        )
        return _download(data, suffix, f"statement-{view.merchant_code}-{view.period}")

    async def reports(
        self,
        request: web.Request,
        session: Session,
        op: Operator,
        *,
        status: int = 200,
        error: str | None = None,
        args: dict[str, Any] | None = None,
    ) -> web.Response:
        """The reports finance downloads, by month."""
        now = self.desk.now()
        return self.desk.render(
            request,
            session,
            "ops_reports.html",
            op=op,
            status=status,
            period=request.query.get("period") or previous_period(now, self.desk.timezone),
            this_period=period_of(now, self.desk.timezone),
            error=error,
            args=args or {},
        )

    async def points_cost(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """The points-cost report of a month, by category and payment method (XLSX or CSV)."""
        f = Fields(request.query)
        period = f.raw("period")
        if not _period_ok(period):
            f.bad.append("period")
        suffix = f.choice("format", FORMATS, required=False) or "xlsx"
        if not f.ok:
            t = self.desk.words(request, session)
            return await self.reports(
                request, session, op, status=400, error="bo_bad_fields", args=bad_fields(t, f)
            )
        zone = self.desk.timezone
        rows = await self.desk.db.read(partial(reports.points_cost, period=period, tz=zone))
        data = await asyncio.to_thread(
            _render, suffix, lambda p: report_files.write_points_cost(p, period, rows)
        )
        return _download(data, suffix, f"points-cost-{period}")

    async def reconcile(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """The month's reconciliation of points and money (XLSX or CSV), its headers and
        labels in the staff member's language (the admin API's ``/reports/reconcile``)."""
        f = Fields(request.query)
        period = f.raw("period")
        if not _period_ok(period):
            f.bad.append("period")
        suffix = f.choice("format", FORMATS, required=False) or "xlsx"
        if not f.ok:
            t = self.desk.words(request, session)
            return await self.reports(
                request, session, op, status=400, error="bo_bad_fields", args=bad_fields(t, f)
            )
        lang = self.desk.lang(request, session)
        rec = await self.desk.db.read(
            partial(reconciliation.reconcile, period=period, tz=self.desk.timezone)
        )
        data = await asyncio.to_thread(
            _render, suffix, lambda p: report_files.write_reconciliation(p, rec, lang)
        )
        return _download(data, suffix, f"reconcile-{period}")


def _period_ok(period: str) -> bool:
    return PERIOD.fullmatch(period) is not None
