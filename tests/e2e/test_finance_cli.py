"""Finance from the command line (issue 16 §3): the reconciliation report in either
language, and ``settle --now`` saying what it settled or why not."""

from __future__ import annotations

import csv
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl

from core.platform.clock import epoch
from core.settlement import statements
from pointshall.bootstrap import Services
from tests.support.cli import pointshall
from tests.support.helpers import send
from tests.support.merchant_helpers import STAFF_A, buy, merchant_mall


async def used(services: Services, n: int) -> None:
    for _ in range(n):
        bought = await buy(services, "3001")
        await send(services, STAFF_A, f"YZ {bought.no} {bought.password}")


async def test_reconcile_in_either_language(
    services: Services, database_url: str, tmp_path: Path
) -> None:
    at = services.clock.now()  # the CLI's clock: the month must not depend on the real date
    await merchant_mall(services, tmp_path)
    await used(services, 1)
    await buy(services, "3001")  # not used: a liability
    month = services.clock.now().astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    en_csv, zh_xlsx = tmp_path / "r.csv", tmp_path / "r.xlsx"
    ran = pointshall(
        database_url,
        "report",
        "reconcile",
        "--month",
        month,
        "--lang",
        "en",
        "--out",
        str(en_csv),
        at=at,
    )
    assert ran.returncode == 0, ran.stderr
    assert "1 voucher(s) unused at month end (800 points)" in ran.stdout
    with en_csv.open(encoding="utf-8") as f:
        rows = {r["code"]: r for r in csv.DictReader(f)}
    assert rows["redeemed_voucher_unused"]["points"] == "-800"
    assert rows["redeemed_voucher_used"]["points"] == "-800"
    ran = pointshall(
        database_url, "report", "reconcile", "--period", month, "--out", str(zh_xlsx), at=at
    )
    assert ran.returncode == 0, ran.stderr
    sheet = openpyxl.load_workbook(zh_xlsx)["对账"]
    assert [c.value for c in sheet[2]][:3] == ["分类", "代码", "项目"]
    bad = pointshall(
        database_url,
        "report",
        "reconcile",
        "--month",
        month,
        "--lang",
        "fr",
        "--out",
        str(en_csv),
        at=at,
    )
    assert bad.returncode == 2 and bad.stderr.strip() == "--lang is zh or en, not 'fr'"


async def test_settle_now_settles_late_lines_into_the_draft_or_says_why_not(
    services: Services, database_url: str, tmp_path: Path
) -> None:
    at = services.clock.now()  # the CLI's clock: the month must not depend on the real date
    await merchant_mall(services, tmp_path)
    staffed = pointshall(database_url, "staff", "add", "finance", "--role", "finance", at=at)
    assert staffed.returncode == 0, staffed.stderr  # §3: --by names a finance member
    await used(services, 1)
    first = pointshall(database_url, "settle", "--now", "--by", "finance", at=at)
    assert first.returncode == 0 and "M1" in first.stdout
    await used(services, 2)
    second = pointshall(database_url, "settle", "--now", "--by", "finance", at=at)
    assert "drafts that took the lines consumed since they were made" in second.stdout
    assert "│ 3 " in second.stdout
    now = epoch(services.clock.now())  # the merchant confirms (its owner, in the console)
    await services.db.write(lambda conn: statements.move(conn, 1, "confirm", by="m1", now=now))
    await used(services, 1)
    third = pointshall(database_url, "settle", "--now", "--by", "finance", at=at)
    assert third.returncode == 0
    assert "M1: 1 line(s) (id 4), 800 points" in third.stdout
    assert "statement 1 (" in third.stdout and ") is confirmed; they go into the" in third.stdout
    none = pointshall(database_url, "settle", "--now", "--merchant", "M2", "--by", "finance", at=at)
    assert none.stdout.startswith("nothing to settle: no unsettled lines of M2 consumed before")
