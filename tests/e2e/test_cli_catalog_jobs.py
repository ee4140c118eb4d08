"""``pointshall catalog …`` and ``pointshall jobs …`` as an operator uses them."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import pointshall

HEADER = (
    "code,name_zh,name_en,category,brand,kind,points,cash_cents,stock,merchant,"
    "per_account_limit,listed_at,face_value_cents\n"
)
CATALOG = (
    HEADER
    + """1001,话费10元,Credit 10 yuan,1,,credit,1000,,,,,,1000
2001,充电宝,Power bank,1,mi,physical,3600,,20,,2,2026-10-01,
3001,咖啡券,Coffee voucher,3,,voucher,180,,,COFFEE,,,
3002,电影票,Movie ticket,3,,voucher,900,,,CINEMA,,,
3003,杯子,Cup,1,,physical,lots,,,,,,
"""
)


def ok(database_url: str, *args: str) -> str:
    result = pointshall(database_url, *args)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


async def test_catalog_commands_then_import_then_list(database_url: str, tmp_path: Path) -> None:
    ok(database_url, "catalog", "category", "add", "1", "话费充值", "Phone credit")
    ok(database_url, "catalog", "category", "add", "3", "餐饮美食", "Food")
    ok(database_url, "catalog", "brand", "add", "mi", "小米", "Xiaomi")
    assert "merchant COFFEE saved" in ok(
        database_url, "catalog", "merchant", "add", "coffee", "星语咖啡", "StarTalk Coffee"
    )
    path = tmp_path / "items.csv"
    path.write_text(CATALOG, encoding="utf-8")
    first = pointshall(database_url, "catalog", "import", str(path))
    assert first.returncode == 0, first.stderr
    assert "3 items imported, 2 bad" in first.stdout
    assert "line 5: merchant 'CINEMA' does not exist" in first.stderr
    assert "line 6: points 'lots' is not a whole number ≥ 1" in first.stderr
    again = pointshall(database_url, "catalog", "import", str(path))
    assert "3 items imported, 2 bad" in again.stdout

    assert "activity WINTER saved" in ok(
        database_url,
        "catalog",
        "activity",
        "add",
        "winter",
        "冬日暖心兑",
        "Winter warm-up",
        "--start",
        "2026-01-01",
        "--end",
        "2099-01-01",
        "--limit",
        "1",
        "--body-zh",
        "每户限兑1个",
        "--body-en",
        "One each",
    )
    assert "announcement 1 published" in ok(
        database_url, "catalog", "announce", "上线", "Open", "欢迎", "Welcome"
    )

    listing = ok(database_url, "catalog", "list")
    assert "3 items" in listing and "1 activities" in listing
    for code in ("1001", "2001", "3001", "WINTER"):
        assert code in listing

    hd = ok(database_url, "sms", "--from", "+8613800138000", "HD")
    assert "WINTER 冬日暖心兑" in hd


async def test_bad_header_refuses_the_catalogue(database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text("code,name\n1,x\n", encoding="utf-8")
    result = pointshall(database_url, "catalog", "import", str(path))
    assert result.returncode == 1
    assert "catalogue refused: line 1: missing column(s)" in result.stderr


async def test_jobs_list_and_run(database_url: str) -> None:
    listing = ok(database_url, "jobs", "list")
    for name in ("orders-timeout", "lots-expiry", "vouchers-expiry", "expiry-notices"):
        assert name in listing
    assert "SMS each subscriber once per expiry date" in listing  # issue 14: not per lot
    ok(database_url, "demo")
    for name in ("orders-timeout", "expiry-notices"):  # the rest: tests/integration/test_jobs.py
        assert ok(database_url, "jobs", "run", name).strip() == f"{name}: 0 changed"
    unknown = pointshall(database_url, "jobs", "run", "make-coffee")
    assert unknown.returncode == 2 and "unknown job 'make-coffee'" in unknown.stderr
