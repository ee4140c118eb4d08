"""The feed inbox from the command line (issue 16 §4): ``jobs list`` shows it, ``jobs run
feed-inbox`` imports what was dropped, once; a bad setting is one clear line."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import pointshall
from tests.support.helpers import write_feed

ROWS = [("13800138000", "2026-10", 100_000, 70, 100, "mobile", "张伟")]


def test_jobs_run_feed_inbox_imports_a_dropped_file_once(database_url: str, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    env = {"POINTSHALL_FEED_INBOX": str(inbox), "POINTSHALL_FEED_ALERT_PHONES": "13900001111"}
    listed = pointshall(database_url, "jobs", "list", env=env)
    assert "feed-inbox" in listed.stdout
    write_feed(inbox / "billing-2026-10.csv", ROWS)
    (inbox / "billing-2026-10.csv.done").touch()
    first = pointshall(database_url, "jobs", "run", "feed-inbox", env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "feed-inbox: 1 changed"
    again = pointshall(database_url, "jobs", "run", "feed-inbox", env=env)
    assert again.stdout.strip() == "feed-inbox: 0 changed"
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == [
        "billing-2026-10.csv",
        "billing-2026-10.csv.report.txt",
    ]
    balance = pointshall(database_url, "sms", "--from", "+8613800138000", "JF")
    assert "2,100" in balance.stdout


def test_a_bad_alert_phone_is_one_line(database_url: str, tmp_path: Path) -> None:
    env = {"POINTSHALL_FEED_INBOX": str(tmp_path), "POINTSHALL_FEED_ALERT_PHONES": "ops-desk"}
    ran = pointshall(database_url, "jobs", "run", "feed-inbox", env=env)
    assert ran.returncode == 2
    assert ran.stderr.strip().splitlines() == [
        "configuration error: POINTSHALL_FEED_ALERT_PHONES: 'ops-desk' is not a phone number"
    ]
