"""Writing the finance reports as XLSX (XlsxWriter, constant-memory, a native chart) or CSV.

The format follows the file name: ``.xlsx`` or ``.csv``. Rows are written as
they stream from the database, so a big month never sits in memory; the XLSX
gets a summary sheet with a chart (points by category and method for the
points-cost report, points and amount by day for a statement).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import xlsxwriter

from core.settlement import report_texts
from core.settlement.reconciliation import POINTS, Line, Reconciliation
from core.settlement.reports import CostRow, LineRow
from core.settlement.settlement import StatementView
from core.settlement.texts import yuan

Progress = Callable[[int], None]
COST_HEADER = ("category", "method", "count", "points", "value_cents")
LINE_HEADER = (
    "line",
    "consumed_at",
    "source",
    "ref",
    "points",
    "rate_cents",
    "rate_points",
    "amount_cents",
)
PROGRESS_EVERY = 1000


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise ValueError(f"report file must end in .xlsx or .csv, not {path.name!r}")
    return suffix[1:]


def check_path(path: Path) -> None:
    _kind(path)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: str) -> str:
    """User text for a CSV cell: a leading ``=`` ``+`` ``-`` ``@`` is quoted with ``'`` so a
    spreadsheet never runs it as a formula (OWASP "CSV injection")."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _workbook(path: Path) -> Any:
    return xlsxwriter.Workbook(str(path), {"constant_memory": True})


# ------------------------------------------------------------------- points cost


def write_points_cost(path: Path, period: str, rows: list[CostRow]) -> None:
    if _kind(path) == "csv":
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(COST_HEADER)
            for r in rows:
                writer.writerow((r.category, r.method, r.count, r.points, r.value_cents))
        return
    book = _workbook(path)
    try:
        bold = book.add_format({"bold": True})
        money = book.add_format({"num_format": "#,##0.00"})
        sheet = book.add_worksheet("points cost")
        sheet.write_row(0, 0, (f"Points cost {period}",), bold)
        sheet.write_row(1, 0, (*COST_HEADER, "value_yuan", "label"), bold)
        for i, r in enumerate(rows, start=2):
            sheet.write_row(i, 0, (r.category, r.method, r.count, r.points, r.value_cents))
            sheet.write_number(i, 5, r.value_cents / 100, money)
            sheet.write_string(i, 6, f"{r.category}/{r.method}")
        total = len(rows) + 2
        sheet.write_row(
            total,
            0,
            (
                "total",
                "",
                sum(r.count for r in rows),
                sum(r.points for r in rows),
                sum(r.value_cents for r in rows),
            ),
            bold,
        )
        sheet.write_number(total, 5, sum(r.value_cents for r in rows) / 100, money)
        if rows:
            chart = book.add_chart({"type": "column"})
            chart.add_series(
                {
                    "name": "points",
                    "categories": ["points cost", 2, 6, total - 1, 6],
                    "values": ["points cost", 2, 3, total - 1, 3],
                }
            )
            chart.set_title({"name": f"Points consumed {period}"})
            sheet.insert_chart(1, 8, chart)
    finally:
        book.close()


# --------------------------------------------------------------------- statement


def _write_values(sheet: Any, row: int, values: Iterable[object]) -> None:
    """Numbers as numbers, every text with ``write_string`` (a merchant's name or a dispute
    reason starting with ``=`` stays text, never a formula)."""
    for col, value in enumerate(values):
        if isinstance(value, int | float):
            sheet.write_number(row, col, value)
        else:
            sheet.write_string(row, col, str(value))


def _line_values(line: LineRow, tz: ZoneInfo) -> tuple[object, ...]:
    at = datetime.fromtimestamp(line.consumed_at, tz).strftime("%Y-%m-%d %H:%M:%S")
    return (
        line.id,
        at,
        line.source,
        line.ref,
        line.points,
        line.rate_cents,
        line.rate_points,
        line.amount_cents,
    )


def write_statement(
    path: Path,
    view: StatementView,
    lines: Iterable[LineRow],
    tz: ZoneInfo,
    on_progress: Progress | None = None,
) -> int:
    """Write ``view``'s lines; returns how many were written."""
    if _kind(path) == "csv":
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(LINE_HEADER)
            n = 0
            for n, line in enumerate(lines, start=1):
                writer.writerow(
                    csv_text(v) if isinstance(v, str) else v for v in _line_values(line, tz)
                )
                if on_progress is not None and n % PROGRESS_EVERY == 0:
                    on_progress(n)
        if on_progress is not None:
            on_progress(n)
        return n
    return _statement_xlsx(path, view, lines, tz, on_progress)


def _statement_xlsx(
    path: Path,
    view: StatementView,
    lines: Iterable[LineRow],
    tz: ZoneInfo,
    on_progress: Progress | None,
) -> int:
    book = _workbook(path)
    try:
        bold = book.add_format({"bold": True})
        summary = book.add_worksheet("statement")
        detail = book.add_worksheet("lines")
        detail.write_row(0, 0, LINE_HEADER, bold)
        days: dict[str, list[int]] = {}
        n = 0
        for n, line in enumerate(lines, start=1):
            values = _line_values(line, tz)
            _write_values(detail, n, values)
            day = str(values[1])[:10]
            acc = days.setdefault(day, [0, 0, 0])
            acc[0] += 1
            acc[1] += line.points
            acc[2] += line.amount_cents
            if on_progress is not None and n % PROGRESS_EVERY == 0:
                on_progress(n)
        if on_progress is not None:
            on_progress(n)
        head = (
            ("statement", view.id),
            ("merchant", f"{view.merchant_code} {view.merchant_zh} / {view.merchant_en}"),
            ("period", view.period),
            ("status", view.status),
            ("lines", view.lines),
            ("points", view.points),
            ("amount_cents", view.amount_cents),
            ("amount_yuan", yuan(view.amount_cents)),
            ("reason", view.reason or ""),
        )
        for i, (label, value) in enumerate(head):
            _write_values(summary, i, (label, value))
        top = len(head) + 1
        summary.write_row(top, 0, ("day", "lines", "points", "amount_cents"), bold)
        for i, (day, (count, points, cents)) in enumerate(sorted(days.items()), start=top + 1):
            summary.write_row(i, 0, (day, count, points, cents))
        if days:
            last = top + len(days)
            chart = book.add_chart({"type": "column"})
            chart.add_series(
                {
                    "name": "points",
                    "categories": ["statement", top + 1, 0, last, 0],
                    "values": ["statement", top + 1, 2, last, 2],
                }
            )
            chart.add_series(
                {
                    "name": "amount (cents)",
                    "categories": ["statement", top + 1, 0, last, 0],
                    "values": ["statement", top + 1, 3, last, 3],
                }
            )
            chart.set_title({"name": f"{view.merchant_code} {view.period}"})
            summary.insert_chart(0, 6, chart)
        return n
    finally:
        book.close()


# ---------------------------------------------------------------- reconciliation


def _recon_values(row: Line, lang: str) -> tuple[str, str, str, int, int, int, int, int]:
    return (
        report_texts.SECTIONS[lang].get(row.section, row.section),
        row.code,
        report_texts.label(lang, row.code),
        row.count,
        row.points,
        row.captured_cents,
        row.refunded_cents,
        row.merchant_cents,
    )


def write_reconciliation(path: Path, rec: Reconciliation, lang: str) -> None:
    """Write the reconciliation of ``rec.period`` with ``lang``'s headers and labels.

    One table: the points and money rows, their total, then the check rows (which
    restate the month from other sides and are not part of the total).
    """
    lang = report_texts.lang_of(lang)
    header = report_texts.RECONCILE_HEADER[lang]
    body = [*rec.lines, rec.total]
    if _kind(path) == "csv":
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(header)
            for row in (*body, *rec.checks):
                writer.writerow(_recon_values(row, lang))
        return
    titles = report_texts.TITLES[lang]
    sheet_name = titles["reconcile_sheet"]
    book = _workbook(path)
    try:
        bold = book.add_format({"bold": True})
        number = book.add_format({"num_format": "#,##0"})
        sheet = book.add_worksheet(sheet_name)
        sheet.set_column(0, 0, 16)
        sheet.set_column(1, 1, 26)
        sheet.set_column(2, 2, 44)
        sheet.set_column(3, 7, 16)
        sheet.write_string(0, 0, titles["reconcile"].format(period=rec.period), bold)
        for col, name in enumerate(header):
            sheet.write_string(1, col, name, bold)

        def put(at: int, row: Line, style: Any = None) -> None:
            values = _recon_values(row, lang)
            for col in range(3):
                sheet.write_string(at, col, values[col], style)
            for col in range(3, len(values)):
                sheet.write_number(at, col, values[col], style or number)

        at = 2
        for row in rec.lines:
            put(at, row)
            at += 1
        points_rows = sum(1 for r in rec.lines if r.section == POINTS)
        put(at, rec.total, bold)
        at += 2
        for row in rec.checks:
            put(at, row)
            at += 1
        chart = book.add_chart({"type": "bar"})
        chart.add_series(
            {
                "name": titles["points"],
                "categories": [sheet_name, 2, 2, 1 + points_rows, 2],
                "values": [sheet_name, 2, 4, 1 + points_rows, 4],
                "invert_if_negative": False,
            }
        )
        chart.set_title({"name": titles["reconcile_chart"].format(period=rec.period)})
        chart.set_legend({"none": True})
        chart.set_size({"width": 720, "height": 420})
        sheet.insert_chart(1, 9, chart)
    finally:
        book.close()
