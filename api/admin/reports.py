"""Finance reports (§6.3) as downloads: the points-cost report and a statement's lines,
XLSX or CSV, written by ``core.settlement.report_files`` into a temporary file in a worker
thread."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection

from api.admin.fields import integer, text
from api.admin.registry import ADMIN, FINANCE, Call, Download, Route
from api.admin.statements import PERIOD
from core.settlement import reconciliation, report_files, reports, settlement
from core.settlement.errors import UnknownStatement
from core.settlement.reports import CostRow, LineRow
from core.settlement.settlement import StatementView

READ = frozenset({FINANCE, ADMIN})
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
FORMAT = text("format", 4, enum=("xlsx", "csv"), required=False)
LANG = text("lang", 2, enum=("zh", "en"), required=False)


def _render(suffix: str, write: Callable[[Path], object]) -> bytes:
    with tempfile.TemporaryDirectory(prefix="pointshall-report-") as folder:
        path = Path(folder) / f"report.{suffix}"
        write(path)
        return path.read_bytes()


def _download(data: bytes, suffix: str, name: str) -> Download:
    return Download(data, XLSX if suffix == "xlsx" else CSV, f"{name}.{suffix}")


async def points_cost(call: Call) -> Download:
    """Download the points-cost report of a month, by category and payment method."""
    period, suffix = call.query["period"], call.query.get("format", "xlsx")
    zone = call.deps.timezone
    rows: list[CostRow] = await call.read(reports.points_cost, period=period, tz=zone)
    data = await asyncio.to_thread(
        _render, suffix, lambda p: report_files.write_points_cost(p, period, rows)
    )
    return _download(data, suffix, f"points-cost-{period}")


async def reconcile(call: Call) -> Download:
    """Download the month's reconciliation: points rows sum to the ledger's movement, money
    columns to the gateway's captured and refunded cents; headers in the requester's language
    (``?lang=``, else ``Accept-Language``)."""
    period, suffix = call.query["period"], call.query.get("format", "xlsx")
    lang = call.query.get("lang") or call.lang
    rec = await call.read(reconciliation.reconcile, period=period, tz=call.deps.timezone)
    data = await asyncio.to_thread(
        _render, suffix, lambda p: report_files.write_reconciliation(p, rec, lang)
    )
    return _download(data, suffix, f"reconcile-{period}")


def _statement(conn: Connection, statement_id: int) -> tuple[StatementView, list[LineRow]]:
    view = settlement.statement_by_id(conn, statement_id)
    if view is None:
        raise UnknownStatement(statement_id)
    return view, list(reports.statement_lines(conn, statement_id))


async def statement_report(call: Call) -> Download:
    """Download a statement's lines."""
    suffix = call.query.get("format", "xlsx")
    view, lines = await call.read(_statement, statement_id=call.path["id"])
    zone = call.deps.timezone
    data = await asyncio.to_thread(
        _render, suffix, lambda p: report_files.write_statement(p, view, lines, zone)
    )
    return _download(data, suffix, f"statement-{view.merchant_code}-{view.period}")


TAG = "reports"
FILE = {"type": "string", "format": "binary"}
ROUTES = (
    Route(
        "GET",
        "/reports/points-cost",
        points_cost,
        READ,
        "download the points-cost report",
        TAG,
        FILE,
        query=(text("period", 7, pattern=PERIOD), FORMAT),
        produces=(XLSX, CSV),
    ),
    Route(
        "GET",
        "/reports/reconcile",
        reconcile,
        READ,
        "download the month's reconciliation of points and money",
        TAG,
        FILE,
        query=(text("period", 7, pattern=PERIOD), FORMAT, LANG),
        produces=(XLSX, CSV),
    ),
    Route(
        "GET",
        "/statements/{id}/report",
        statement_report,
        READ,
        "download a statement report",
        TAG,
        FILE,
        (integer("id", 1, 2**53 - 1),),
        query=(FORMAT,),
        produces=(XLSX, CSV),
    ),
)
