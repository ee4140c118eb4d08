"""Catalogue import (DESIGN.md §8): good rows upserted by code, bad rows by line, idempotent."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, select, update

from core.catalogue import editing
from core.catalogue.item_file import REQUIRED, CatalogFileError
from core.catalogue.item_import import CatalogImportResult, import_catalog
from core.merchants import merchants
from core.platform.clock import epoch
from core.platform.schema import item
from core.points.feed import BadRow
from pointshall.bootstrap import Services

ZONE = ZoneInfo("Asia/Shanghai")
HEADER = (*REQUIRED, "face_value_cents")

GOOD = [
    ("1001", "话费10元", "Credit 10", "1", "", "credit", "1000", "", "", "", "", "", "1000"),
    (
        "2001",
        "充电宝",
        "Power bank",
        "2",
        "mi",
        "physical",
        "3600",
        "",
        "20",
        "",
        "2",
        "2026-10-01",
        "",
    ),
    ("3001", "咖啡券", "Coffee", "3", "", "voucher", "180", "", "", "coffee", "", "", ""),
    ("3002", "套餐券", "Combo", "3", "", "voucher", "420", "500", "5", "COFFEE", "", "", ""),
]
BAD = [
    ("4001", "电影票", "Ticket", "9", "", "voucher", "900", "", "", "COFFEE", "", "", ""),
    ("4002", "爆米花", "Popcorn", "3", "NOPE", "physical", "300", "", "", "", "", "", ""),
    ("4003", "电影票", "Ticket", "3", "", "voucher", "900", "", "", "CINEMA", "", "", ""),
    ("4004", "杯子", "Cup", "2", "", "gift", "900", "", "", "", "", "", ""),
    ("4005", "杯子", "Cup", "2", "", "physical", "abc", "", "", "", "", "", ""),
    ("4006", "杯子", "Cup", "2", "", "physical", "0", "", "", "", "", "", ""),
    ("4007", "券", "Voucher", "3", "", "voucher", "100", "", "", "", "", "", ""),
    ("4008", "话费", "Credit", "1", "", "credit", "100", "", "", "", "", "", ""),
    ("4009", "杯子", "Cup", "2", "", "physical", "100", "", "-1", "", "", "", ""),
    ("4010", "杯子", "Cup", "2", "", "physical", "100", "", "", "", "", "2026-13-01", ""),
    ("1001", "重复", "Again", "1", "", "credit", "1000", "", "", "", "", "", "1000"),
    ("4011", "短行", "Short"),
]
REASONS = {
    6: "category '9' does not exist",
    7: "brand 'NOPE' does not exist",
    8: "merchant 'CINEMA' does not exist",
    9: "kind 'gift' is not one of credit, physical, voucher",
    10: "points 'abc' is not a whole number ≥ 1",
    11: "points 0 is less than 1",
    12: "a voucher needs a merchant",
    13: "phone credit needs face_value_cents (the amount credited)",
    14: "stock '-1' is not a whole number ≥ 0",
    15: "listed_at '2026-13-01' is not an ISO date (YYYY-MM-DD)",
    16: "code 1001 already appears on line 2",
    17: "expected 13 fields, found 3",
}


def write_catalog(
    path: Path, rows: Sequence[Sequence[str]], header: Sequence[str] = HEADER
) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


async def references(services: Services) -> None:
    now = epoch(services.clock.now())

    def unit(conn: Connection) -> None:
        for code, zh, en in (
            ("1", "话费", "Credit"),
            ("2", "礼品", "Gifts"),
            ("3", "美食", "Food"),
        ):
            editing.upsert_category(conn, code, zh, en)
        editing.upsert_brand(conn, "MI", "小米", "Xiaomi")
        merchants.upsert(conn, "COFFEE", "咖啡", "Coffee", now)

    await services.db.write(unit)


async def run_import(services: Services, path: Path, chunk_rows: int = 3) -> CatalogImportResult:
    return await import_catalog(services.db, path, services.clock, ZONE, chunk_rows=chunk_rows)


async def items(services: Services) -> dict[str, tuple[object, ...]]:
    def q(conn: Connection) -> dict[str, tuple[object, ...]]:
        rows = conn.execute(
            select(
                item.c.code,
                item.c.name_en,
                item.c.points,
                item.c.cash_cents,
                item.c.stock,
                item.c.sold,
                item.c.views,
                item.c.per_account_limit,
                item.c.face_value_cents,
                item.c.listed_at,
            )
        ).all()
        return {r[0]: tuple(r[1:]) for r in rows}

    return await services.db.read(q)


async def test_good_rows_go_in_and_bad_rows_are_reported_by_line(
    services: Services, tmp_path: Path
) -> None:
    await references(services)
    reported: list[BadRow] = []
    path = write_catalog(tmp_path / "items.csv", [*GOOD, *BAD])
    result = await import_catalog(
        services.db, path, services.clock, ZONE, on_bad=reported.append, chunk_rows=3
    )
    assert result.rows_ok == len(GOOD)
    assert result.rows_bad == len(BAD)
    assert {b.line: b.reason for b in reported} == REASONS
    assert [b.line for b in result.first_bad] == sorted(REASONS)
    found = await items(services)
    assert set(found) == {"1001", "2001", "3001", "3002"}
    listed = epoch(datetime(2026, 10, 1, tzinfo=ZONE))
    assert found["2001"] == ("Power bank", 3600, None, 20, 0, 0, 2, None, listed)
    assert found["1001"][2:4] == (None, None)  # points only, unlimited stock
    assert found["1001"][7] == 1000
    assert found["3002"][2:4] == (500, 5)


async def test_import_again_keeps_sales_and_views_and_changes_nothing(
    services: Services, tmp_path: Path
) -> None:
    await references(services)
    path = write_catalog(tmp_path / "items.csv", GOOD)
    assert (await run_import(services, path)).rows_ok == len(GOOD)

    def sell(conn: Connection) -> None:
        conn.execute(update(item).where(item.c.code == "2001").values(sold=7, views=42))

    await services.db.write(sell)
    before = await items(services)
    again = await run_import(services, path)
    assert (again.rows_ok, again.rows_bad) == (len(GOOD), 0)
    assert await items(services) == before
    assert before["2001"][4:6] == (7, 42)

    renamed = [("2001", "充电宝", "Power bank Pro", *GOOD[1][3:6], "3900", *GOOD[1][7:])]
    await run_import(services, write_catalog(tmp_path / "renamed.csv", renamed))
    after = await items(services)
    assert after["2001"][:2] == ("Power bank Pro", 3900)
    assert after["2001"][4:6] == (7, 42)


async def test_the_standard_columns_alone_are_enough(services: Services, tmp_path: Path) -> None:
    await references(services)
    rows = [r[:-1] for r in GOOD[1:]]
    path = write_catalog(tmp_path / "items.csv", rows, header=REQUIRED)
    result = await run_import(services, path)
    assert (result.rows_ok, result.rows_bad) == (3, 0)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (("code", "name_zh"), "missing column(s) name_en"),
        ((*REQUIRED, "colour"), "unknown column(s) colour"),
        ((*REQUIRED, "code"), "repeated column(s) code"),
    ],
)
async def test_a_bad_header_refuses_the_file(
    services: Services, tmp_path: Path, header: tuple[str, ...], message: str
) -> None:
    path = write_catalog(tmp_path / "items.csv", [], header=header)
    with pytest.raises(CatalogFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        await run_import(services, path)


async def test_optional_columns_set_and_missing_ones_keep_what_is_there(
    services: Services, tmp_path: Path
) -> None:
    await references(services)
    now = epoch(services.clock.now())

    def winter(conn: Connection) -> None:
        editing.upsert_activity(conn, "WINTER", "冬日", "Winter", now, now + 86_400)

    await services.db.write(winter)
    header = (*REQUIRED, "activity", "voucher_days", "description_zh", "description_en")
    base = GOOD[2][:-1]  # 3001, a voucher, without face_value_cents
    full = write_catalog(
        tmp_path / "full.csv",
        [(*base, "winter", "60", "全国通用", "Any store"), (*GOOD[3][:-1], "NOPE", "", "", "")],
        header=header,
    )
    result = await run_import(services, full)
    assert (result.rows_ok, [str(b) for b in result.first_bad]) == (
        1,
        ["line 3: activity 'NOPE' does not exist"],
    )

    def details(conn: Connection) -> tuple[object, ...]:
        row = conn.execute(
            select(
                item.c.activity_id, item.c.voucher_days, item.c.description_en, item.c.name_en
            ).where(item.c.code == "3001")
        ).one()
        return tuple(row)

    first = await services.db.read(details)
    assert first[1:] == (60, "Any store", "Coffee")
    assert first[0] is not None
    renamed = [(*base[:2], "Coffee, renamed", *base[3:])]
    await run_import(services, write_catalog(tmp_path / "std.csv", renamed, header=REQUIRED))
    assert await services.db.read(details) == (*first[:3], "Coffee, renamed")
