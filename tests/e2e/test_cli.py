"""The command line as an operator uses it, on real database files (DESIGN.md §7): commands
run in this process (tests/support/cli.py), except the smoke test of the installed console
script at the end."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import pointshall, pointshall_process
from tests.support.helpers import write_feed

PERIOD = "2026-10"


async def test_demo_then_sms_answers_in_chinese_then_english(database_url: str) -> None:
    assert pointshall(database_url, "demo").returncode == 0
    jf = pointshall(database_url, "sms", "--from", "+8613800138000", "JF")
    assert jf.returncode == 0, jf.stderr
    assert jf.stdout.startswith("您的积分:可用4,200分,冻结0分。")
    assert pointshall(database_url, "sms", "--from", "+8613800138000", "EN").stdout.strip() == (
        "Replies will now be in English."
    )
    jf_en = pointshall(database_url, "sms", "--from", "+8613800138000", "JF")
    assert jf_en.stdout.startswith("Points: 4,200 available, 0 held.")
    doctor = pointshall(database_url, "doctor")
    assert doctor.returncode == 0 and "ledger ok: 5 accounts" in doctor.stdout


async def test_accrue_reports_bad_lines_and_strict_refuses(
    database_url: str, tmp_path: Path
) -> None:
    feed = write_feed(
        tmp_path / "feed.csv",
        [
            ("13800138000", PERIOD, 100000, 70, 0, "mobile", ""),
            ("not-a-number", PERIOD, 100, 1, 0, "mobile", ""),
            ("13900139000", PERIOD, 100, 1, 0, "mobile", ""),
        ],
    )
    strict = pointshall(database_url, "accrue", str(feed), "--period", PERIOD, "--strict")
    assert strict.returncode == 1
    assert "line 3: msisdn 'not-a-number' is not a valid phone number" in strict.stderr
    assert "nothing was imported" in strict.stderr

    first = pointshall(database_url, "accrue", str(feed), "--period", PERIOD)
    assert first.returncode == 0, first.stderr
    assert "line 3:" in first.stderr
    assert "2 rows posted (2,001 points), 0 already imported, 1 bad" in first.stdout
    again = pointshall(database_url, "accrue", str(feed), "--period", PERIOD)
    assert "0 rows posted (0 points), 2 already imported, 1 bad" in again.stdout
    assert pointshall(database_url, "doctor").returncode == 0


async def test_accrue_refuses_a_bad_period(database_url: str, tmp_path: Path) -> None:
    feed = write_feed(tmp_path / "feed.csv", [])
    result = pointshall(database_url, "accrue", str(feed), "--period", "2026-13")
    assert result.returncode == 1
    assert "bad period '2026-13'" in result.stderr


@pytest.mark.parametrize(
    ("transport", "missing"),
    [("twilio", "POINTSHALL_TWILIO_ACCOUNT_SID"), ("kannel", "POINTSHALL_KANNEL_URL")],
)
def test_serve_names_the_missing_setting(tmp_path: Path, transport: str, missing: str) -> None:
    result = pointshall(
        f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        "serve",
        env={"POINTSHALL_SMS_TRANSPORT": transport},
    )
    assert result.returncode == 2
    assert missing in result.stderr


async def test_doctor_exits_non_zero_on_a_tampered_balance(database_url: str) -> None:
    from sqlalchemy import update

    from core.platform.db import open_database
    from core.platform.schema import account

    assert pointshall(database_url, "demo").returncode == 0
    db = open_database(database_url)
    try:
        await db.write(
            lambda conn: conn.execute(update(account).values(balance=account.c.balance + 1))
        )
    finally:
        await db.dispose()
    result = pointshall(database_url, "doctor")
    assert result.returncode == 1
    assert "balance vs entries is" in result.stderr
    assert "discrepancies in 5 accounts" in result.stderr


def test_the_console_script_upgrades_a_new_database_and_checks_the_ledger(tmp_path: Path) -> None:
    """The installed ``pointshall`` script as a real process: a smoke test of the entry point."""
    doctor = pointshall_process(f"sqlite+aiosqlite:///{tmp_path / 'new.db'}", "doctor")
    assert doctor.returncode == 0, doctor.stderr
    assert doctor.stdout == "ledger ok: 0 accounts, 0 entries\n"
