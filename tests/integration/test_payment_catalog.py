"""The catalogue file's optional payment columns (§3.5.6, DESIGN §8); old files stay valid."""

from __future__ import annotations

import csv
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from core.catalogue import editing as admin
from core.catalogue.item_file import REQUIRED
from core.catalogue.item_import import import_catalog
from core.catalogue.pay_methods import money_items
from core.platform.schema import item
from pointshall.bootstrap import Services

ZONE = ZoneInfo("Asia/Shanghai")
ROW = {c: "" for c in REQUIRED}


def write(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def row(code: str, **values: str) -> dict[str, str]:
    base = {
        **ROW,
        "code": code,
        "name_zh": "卡",
        "name_en": "Card",
        "category": "HF",
        "kind": "physical",
        "points": "1000",
    }
    base.update(values)
    return base


async def methods(services: Services) -> dict[str, tuple[str, int | None]]:
    def q(conn: Connection) -> dict[str, tuple[str, int | None]]:
        rows = conn.execute(select(item.c.code, item.c.pay_methods, item.c.price_cents))
        return {code: (m, p) for code, m, p in rows}

    return await services.db.read(q)


async def test_pay_methods_and_price_columns(services: Services, tmp_path: Path) -> None:
    await services.db.write(lambda c: admin.upsert_category(c, "HF", "话费", "Credit", 1))
    old = write(
        tmp_path / "old.csv",
        list(REQUIRED),
        [row("A1"), row("A2", cash_cents="500")],
    )
    result = await import_catalog(services.db, old, services.clock, ZONE)
    assert (result.rows_ok, result.rows_bad) == (2, 0)
    assert await methods(services) == {"A1": ("points", None), "A2": ("points_cash", None)}
    header = [*REQUIRED, "pay_methods", "price_cents"]
    new = write(
        tmp_path / "new.csv",
        header,
        [
            row("B1", pay_methods="points;cash|phone_bill", price_cents="1500"),
            row("B2", pay_methods="cash"),  # no price
            row("B3", pay_methods="points,bitcoin"),
            row("B4", pay_methods="points_cash"),  # no cash_cents
            row("B5", pay_methods="", cash_cents="", price_cents=""),
            # §3.5.6: one points price cannot be both the whole price and the part
            row("B6", pay_methods="points,points_cash", cash_cents="500"),
        ],
    )
    result = await import_catalog(services.db, new, services.clock, ZONE)
    assert (result.rows_ok, result.rows_bad) == (2, 4)
    reasons = {bad.line: bad.reason for bad in result.first_bad}
    assert "price_cents" in reasons[3]
    assert "bitcoin" in reasons[4]
    assert "cash_cents" in reasons[5]
    assert "one of them" in reasons[7]
    found = await methods(services)
    assert found["B1"] == ("points,cash,phone_bill", 1500)
    assert found["B5"] == ("points", None)
    assert await services.db.read(money_items) == 2  # A2 and B1
