"""Reading catalogue files (DESIGN.md §8): pure parsing, no database."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from core.catalogue.item_file import (
    REQUIRED,
    CatalogFileError,
    CatalogReader,
    ItemRow,
    parse_moment,
)
from core.points.feed import BadRow

ZONE = ZoneInfo("Asia/Shanghai")
HEADER = ",".join(REQUIRED)


def read(text: str) -> list[ItemRow | BadRow]:
    return list(CatalogReader(io.BytesIO(text.encode("utf-8")), ZONE))


def test_parse_moment_reads_dates_in_the_operator_zone() -> None:
    assert parse_moment("2026-10-01", ZONE) == int(
        datetime(2026, 9, 30, 16, tzinfo=UTC).timestamp()
    )
    assert parse_moment("2026-10-01T08:00", ZONE) == parse_moment("2026-10-01T00:00Z", ZONE)
    with pytest.raises(ValueError):
        parse_moment("yesterday", ZONE)


def test_bom_blank_lines_and_case_are_handled() -> None:
    rows = read(f"\ufeff{HEADER.upper()}\n\nab-1,名,Name,x,,Physical,5,,,,,\n\n")
    assert len(rows) == 1
    row = rows[0]
    assert isinstance(row, ItemRow)
    assert (row.line, row.spec.code, row.spec.category, row.spec.kind) == (
        3,
        "AB-1",
        "X",
        "physical",
    )
    assert row.spec.stock is None and row.spec.listed_at is None


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("1,名,Name,x,,physical,5,,,,,,", "expected 12 fields, found 13"),
        ("a b,名,Name,x,,physical,5,,,,,", "code 'a b' must be 1-16 letters, digits or '-'"),
        ("1,,Name,x,,physical,5,,,,,", "name_zh is empty"),
        ("1,名,Name,x,,physical,99999999999,,,,,", "points 99999999999 is more than 1000000000"),
        ("1,名,Name,x,,physical,5,,,,0,", "per_account_limit 0 is less than 1"),
    ],
)
def test_bad_rows_say_why(line: str, reason: str) -> None:
    rows = read(f"{HEADER}\n{line}\n")
    assert rows and isinstance(rows[0], BadRow)
    assert rows[0].line == 2
    assert rows[0].reason.startswith(reason), rows[0].reason


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(CatalogFileError, match="empty"):
        read("")
