"""``pointshall outbox status|retry`` as an operator uses them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, update

from core.messaging import outbox
from core.platform.clock import epoch
from core.platform.db import open_database
from core.platform.schema import outbox as outbox_table
from tests.support.cli import pointshall


async def test_status_counts_and_retry_requeues_dead(database_url: str) -> None:
    db = open_database(database_url)
    now = epoch(datetime.now(UTC))

    def setup(conn: Connection) -> None:
        for i in range(3):
            outbox.enqueue(conn, key=f"k{i}", recipient=f"+8613800000{i:03d}", text="hi", now=now)
        conn.execute(
            update(outbox_table)
            .where(outbox_table.c.id.in_((1, 2)))
            .values(status="dead", attempts=8, last_error="HTTP 503")
        )

    try:
        await db.write(setup)
    finally:
        await db.dispose()

    status = pointshall(database_url, "outbox", "status")
    assert status.returncode == 0, status.stderr
    lines = {line.split()[0]: line.split()[1] for line in status.stdout.splitlines() if line}
    assert lines["pending"] == "1" and lines["dead"] == "2" and lines["sent"] == "0"

    bad = pointshall(database_url, "outbox", "retry", "--status", "sent")
    assert bad.returncode == 2 and "dead or failed" in bad.stderr
    assert pointshall(database_url, "outbox", "retry").returncode == 2

    one = pointshall(database_url, "outbox", "retry", "1")
    assert "1 message(s) queued again" in one.stdout
    rest = pointshall(database_url, "outbox", "retry", "--status", "dead")
    assert "1 message(s) queued again" in rest.stdout
    after = pointshall(database_url, "outbox", "status").stdout
    assert any(line.split()[:2] == ["pending", "3"] for line in after.splitlines() if line)
