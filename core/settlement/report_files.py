"""Writing the finance reports as XLSX (XlsxWriter, constant-memory, a native chart) or CSV.

The format follows the file name: ``.xlsx`` or ``.csv``. Rows are written as
they stream from the database, so a big month never sits in memory; the XLSX
gets a summary sheet with a chart (points by category and method for the
points-cost report, points and amount by day for a statement).

No text becomes a formula (issue 13 §5): a merchant's or item's name or a dispute reason
is the merchant's to choose. Every CSV row goes through ``core.platform.cells.csv_row``
(OWASP's leading quote); every XLSX cell is written by its type (``_write_row``: text with
``write_string``, never ``write``), and the workbook is opened with XlsxWriter's string
conversions to formulas, links and numbers off.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import xlsxwriter

from core.platform.cells import csv_row
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
    "item_code",
    "item_zh",
    "item_en",
)
PROGRESS_EVERY = 1000
WORKBOOK_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}
"""XlsxWriter would otherwise write a string that looks like a formula, a link or a number
as one, even through ``write_row``; ``_write_row`` never relies on it."""


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise ValueError(f"report file must end in .xlsx or .csv, not {path.name!r}")
    return suffix[1:]


def check_path(path: Path) -> None:
    _kind(path)


def _workbook(path: Path) -> Any:
    return xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)


def _write_row(sheet: Any, row: int, col: int, values: Iterable[object], fmt: Any = None) -> None:
    """Write ``values`` from (``row``, ``col``) on, each by its type: numbers as numbers, every
    text with ``write_string`` (a merchant's name or a dispute reason starting with ``=``
    stays text, never a formula)."""
    for i, value in enumerate(values, start=col):
        if value is None:
            sheet.write_blank(row, i, None, fmt)
        elif isinstance(value, bool) or not isinstance(value, int | float):
            sheet.write_string(row, i, str(value), fmt)
        else:
            sheet.write_number(row, i, value, fmt)


# ------------------------------------------------------------------- points cost


def write_points_cost(path: Path, period: str, rows: list[CostRow]) -> None:
    if _kind(path) == "csv":
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(csv_row(COST_HEADER))
            for r in rows:
                writer.writerow(csv_row((r.category, r.method, r.count, r.points, r.value_cents)))
        return
    book = _workbook(path)
    try:
        bold = book.add_format({"bold": True})
        money = book.add_format({"num_format": "#,##0.00"})
        sheet = book.add_worksheet("points cost")
        _write_row(sheet, 0, 0, (f"Points cost {period}",), bold)
        _write_row(sheet, 1, 0, (*COST_HEADER, "value_yuan", "label"), bold)
        for i, r in enumerate(rows, start=2):
            _write_row(sheet, i, 0, (r.category, r.method, r.count, r.points, r.value_cents))
            sheet.write_number(i, 5, r.value_cents / 100, money)
            sheet.write_string(i, 6, f"{r.category}/{r.method}")
        total = len(rows) + 2
        _write_row(
            sheet,
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
        line.item_code,
        line.item_zh,
        line.item_en,
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
            writer.writerow(csv_row(LINE_HEADER))
            n = 0
            for n, line in enumerate(lines, start=1):
                writer.writerow(csv_row(_line_values(line, tz)))
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
        _write_row(detail, 0, 0, LINE_HEADER, bold)
        days: dict[str, list[int]] = {}
        n = 0
        for n, line in enumerate(lines, start=1):
            values = _line_values(line, tz)
            _write_row(detail, n, 0, values)
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
            _write_row(summary, i, 0, (label, value))
        top = len(head) + 1
        _write_row(summary, top, 0, ("day", "lines", "points", "amount_cents"), bold)
        for i, (day, (count, points, cents)) in enumerate(sorted(days.items()), start=top + 1):
            _write_row(summary, i, 0, (day, count, points, cents))
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
            writer.writerow(csv_row(header))
            for row in (*body, *rec.checks):
                writer.writerow(csv_row(_recon_values(row, lang)))
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
