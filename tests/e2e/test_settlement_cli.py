"""Settlement from the command line: rate, settle --now, statement moves, reports (§6.3)."""

from __future__ import annotations

import csv
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl

from core.merchants import merchants
from core.platform.clock import epoch
from pointshall.bootstrap import Services
from tests.support.admin_helpers import make_staff
from tests.support.cli import pointshall
from tests.support.helpers import send
from tests.support.merchant_helpers import STAFF_A, buy, merchant_mall

M1_OWNER = "+8613700137011"


async def test_operator_settles_early_moves_the_statement_and_writes_reports(
    services: Services, database_url: str, tmp_path: Path
) -> None:
    at = services.clock.now()  # the CLI's clock: the month must not depend on the real date
    await merchant_mall(services, tmp_path)
    await make_staff(services)
    now = epoch(services.clock.now())
    await services.db.write(
        lambda conn: merchants.add_staff(conn, "M1", M1_OWNER, "owner", "test", now)
    )
    assert (
        pointshall(database_url, "merchant", "rate", "M1", "250", "--by", "ops", at=at).returncode
        == 1
    )
    rate = pointshall(database_url, "merchant", "rate", "M1", "250", "--by", "finance", at=at)
    assert rate.returncode == 0, rate.stderr
    assert "250 cents per 1,000 points" in rate.stdout
    bought = await buy(services, "3001")
    await send(services, STAFF_A, f"YZ {bought.no} {bought.password}")

    both = pointshall(database_url, "settle", "--period", "2026-11", "--now", at=at)
    assert both.returncode == 2
    early = pointshall(
        database_url, "settle", "--now", "--merchant", "M1", "--by", "finance", at=at
    )
    assert early.returncode == 0, early.stderr
    assert "M1" in early.stdout and "2.00" in early.stdout
    assert pointshall(database_url, "settle", "--now", "--merchant", "M1", at=at).returncode == 2
    sneaky = pointshall(database_url, "settle", "--now", "--by", "support", at=at)
    assert sneaky.returncode == 1 and "may not" in sneaky.stderr
    again = pointshall(database_url, "settle", "--now", "--merchant", "M1", "--by", "admin", at=at)
    assert "nothing to settle" in again.stdout
    listed = pointshall(database_url, "statement", "list", "--merchant", "M1", at=at)
    assert "draft" in listed.stdout

    pay = pointshall(database_url, "statement", "pay", "1", "--by", "finance", at=at)
    assert pay.returncode == 1 and "cannot pay" in pay.stderr
    for args in (  # issue 13 §3: the merchant's owner, then finance, by name
        ("confirm", "1", "--by", STAFF_A),
        ("approve", "1", "--by", "admin"),
        ("approve", "1", "--by", "nobody"),
    ):
        refused = pointshall(database_url, "statement", *args, at=at)
        assert refused.returncode == 1 and "refused" in refused.stderr, (args, refused.stderr)
    for args in (
        ("dispute", "1", "--by", M1_OWNER, "--reason", "short by one"),
        ("confirm", "1", "--by", M1_OWNER),
        ("approve", "1", "--by", "finance"),
        ("pay", "1", "--by", "finance"),
    ):
        moved = pointshall(database_url, "statement", *args, at=at)
        assert moved.returncode == 0, moved.stderr
    assert "paid" in moved.stdout

    period = at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    xlsx, lines_csv, cost = tmp_path / "m1.xlsx", tmp_path / "m1.csv", tmp_path / "cost.xlsx"
    for out in (xlsx, lines_csv):
        done = pointshall(
            database_url,
            "report",
            "merchant",
            "--period",
            period,
            "--merchant",
            "M1",
            "--out",
            str(out),
            at=at,
        )
        assert done.returncode == 0, done.stderr
    assert len(openpyxl.load_workbook(xlsx)["statement"]._charts) == 1  # noqa: SLF001 (openpyxl has no public chart list)
    with lines_csv.open(encoding="utf-8") as f:
        assert [r["amount_cents"] for r in csv.DictReader(f)] == ["200"]
    done = pointshall(
        database_url, "report", "points-cost", "--period", "2026-11", "--out", str(cost), at=at
    )
    assert done.returncode == 0, done.stderr
    assert len(openpyxl.load_workbook(cost)["points cost"]._charts) == 1  # noqa: SLF001 (openpyxl has no public chart list)
    bad = pointshall(
        database_url, "report", "points-cost", "--period", "2026-11", "--out", "x.pdf", at=at
    )
    assert bad.returncode == 2
