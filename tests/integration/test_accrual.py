"""Monthly accrual from the billing feed (§1, DESIGN.md §8)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Connection, select

from core.platform.errors import FeedError
from core.platform.schema import account, entry, lot, subscriber
from core.points import doctor
from pointshall.bootstrap import Services
from tests.support.helpers import accrue, count, write_feed

PERIOD = "2026-10"
SHORT = ("msisdn", "period", "spend_cents", "tenure_months", "reward_points")

GOOD_AND_BAD = [
    ("13800138000", PERIOD, 100000, 70, 0, "mobile", "张伟"),  # line 2: 1000 yuan ×2.0
    ("+86 139 0013 9000", PERIOD, 12345, 12, 7, "", ""),  # line 3: floor(123.45×1.2)+7 = 155
    ("12345", PERIOD, 100, 1, 0, "mobile", ""),  # line 4: bad number
    ("13700137000", "2026-09", 100, 1, 0, "mobile", ""),  # line 5: wrong period
    ("13600136000", PERIOD, -5, 1, 0, "mobile", ""),  # line 6: negative spend
    ("13500135000", PERIOD, 100, 1, 0, "satellite", ""),  # line 7: unknown type
    ("008613900139001", PERIOD, 0, 3, 0, "broadband", ""),  # line 8: zero points, fine
    ("13800138000", PERIOD, 500, 70, 0, "mobile", ""),  # line 9: duplicate of line 2
    ("010-88886666", PERIOD, 6800, 8, 0, "fixed", "商行"),  # line 10: landline, 68
]


async def balances(services: Services) -> dict[str, int]:
    def q(conn: Connection) -> dict[str, int]:
        rows = conn.execute(
            select(subscriber.c.msisdn, account.c.balance).join(
                account, account.c.subscriber_id == subscriber.c.id
            )
        )
        return {r.msisdn: int(r.balance) for r in rows}

    return await services.db.read(q)


@pytest.mark.parametrize("chunk_rows", [5000, 2])
async def test_feed_with_bad_rows_imports_the_good_and_names_the_bad(
    services: Services, tmp_path: Path, chunk_rows: int
) -> None:
    feed = write_feed(tmp_path / "feed.csv", GOOD_AND_BAD)
    result = await accrue(services, feed, PERIOD, chunk_rows=chunk_rows)
    bad = {b.line: b.reason for b in result.first_bad}
    assert sorted(bad) == [4, 5, 6, 7, 9]
    assert "not a valid phone number" in bad[4]
    assert "does not match 2026-10" in bad[5]
    assert "not a whole number" in bad[6]
    assert "satellite" in bad[7]
    assert "duplicate of line 2" in bad[9]
    assert result.rows_ok == 4 and result.rows_bad == 5 and result.rows_skipped == 0
    assert await balances(services) == {
        "+8613800138000": 2000,
        "+8613900139000": 155,
        "+8613900139001": 0,
        "+861088886666": 68,
    }
    assert result.points == 2000 + 155 + 68
    report = await services.db.read(doctor.examine)
    assert report.ok and report.accounts == 4 and report.entries == 3


async def test_importing_the_same_file_again_changes_nothing(
    services: Services, tmp_path: Path
) -> None:
    feed = write_feed(tmp_path / "feed.csv", GOOD_AND_BAD)
    await accrue(services, feed, PERIOD)
    before = (await count(services, entry), await count(services, lot), await balances(services))
    again = await accrue(services, feed, PERIOD)
    assert (
        await count(services, entry),
        await count(services, lot),
        await balances(services),
    ) == before
    assert again.rows_skipped == 3 and again.points == 0
    assert sorted(b.line for b in again.first_bad) == [4, 5, 6, 7, 9]
    assert (await services.db.read(doctor.examine)).ok


async def test_a_changed_row_in_a_later_file_is_reported_not_posted(
    services: Services, tmp_path: Path
) -> None:
    await accrue(
        services,
        write_feed(tmp_path / "a.csv", [("13800138000", PERIOD, 100000, 70, 0)], SHORT),
        PERIOD,
    )
    result = await accrue(
        services,
        write_feed(tmp_path / "b.csv", [("13800138000", PERIOD, 200000, 70, 0)], SHORT),
        PERIOD,
    )
    assert result.rows_bad == 1
    assert "already accrued 2000 points" in result.first_bad[0].reason
    assert (await balances(services))["+8613800138000"] == 2000


async def test_each_service_of_one_number_accrues_separately(
    services: Services, tmp_path: Path
) -> None:
    feed = write_feed(
        tmp_path / "feed.csv",
        [
            ("13800138000", PERIOD, 10000, 0, 0, "mobile"),
            ("13800138000", PERIOD, 5000, 0, 0, "broadband"),
        ],
        header=(
            "msisdn",
            "period",
            "spend_cents",
            "tenure_months",
            "reward_points",
            "account_type",
        ),
    )
    result = await accrue(services, feed, PERIOD)
    assert result.rows_ok == 2 and result.rows_bad == 0
    assert (await balances(services))["+8613800138000"] == 150

    def lots(conn: Connection) -> list[tuple[str, int, str]]:
        rows = conn.execute(
            select(lot.c.service, lot.c.amount, entry.c.idempotency_key)
            .join(entry, entry.c.id == lot.c.entry_id)
            .order_by(lot.c.amount)
        ).all()
        return [(str(s), int(a), str(k)) for s, a, k in rows]

    # issue 15 §3: the lots are made set-based from the entries the chunk posted
    found = await services.db.read(lots)
    assert [(s, a) for s, a, _ in found] == [("broadband", 50), ("mobile", 100)]
    assert all(k.endswith(f":{PERIOD}:{s}") for s, _, k in found)


async def test_strict_refuses_a_file_with_any_bad_row(services: Services, tmp_path: Path) -> None:
    feed = write_feed(tmp_path / "feed.csv", GOOD_AND_BAD)
    with pytest.raises(FeedError, match="5 bad row"):
        await accrue(services, feed, PERIOD, strict=True)
    assert await count(services, entry) == 0
    assert await count(services, subscriber) == 0


async def test_entries_carry_a_readable_reason_and_lots_expire_end_of_next_year(
    services: Services, tmp_path: Path
) -> None:
    await accrue(
        services,
        write_feed(tmp_path / "f.csv", [("13800138000", PERIOD, 12300, 5, 7)], SHORT),
        PERIOD,
    )

    def q(conn: Connection) -> tuple[str, str, str, int]:
        e = conn.execute(select(entry.c.reason_key, entry.c.reason_args, entry.c.source)).one()
        expires = conn.execute(select(lot.c.expires_at)).scalar_one()
        return e.reason_key, e.reason_args, e.source, int(expires)

    key, args, source, expires_at = await services.db.read(q)
    assert (key, source) == ("accrual", "accrual")
    assert json.loads(args) == {
        "period": PERIOD,
        "spend": 12300,
        "rate": "1.0",
        "reward": 7,
        "service": "mobile",
    }
    assert expires_at == 1830268800  # 2028-01-01 00:00 Asia/Shanghai


async def test_a_file_without_the_required_columns_is_refused(
    services: Services, tmp_path: Path
) -> None:
    feed = write_feed(tmp_path / "f.csv", [("13800138000", PERIOD)], header=("msisdn", "period"))
    with pytest.raises(FeedError, match="missing column"):
        await accrue(services, feed, PERIOD)


async def test_the_first_line_of_a_number_opens_it(services: Services, tmp_path: Path) -> None:
    """Issue 15 §3: subscribers and accounts are opened in line order, so a number on
    several lines takes its account type from the first (as its first row is posted and a
    repeat of it reported) and its name from the first line that gives one."""
    feed = write_feed(
        tmp_path / "feed.csv",
        [
            ("13800138000", PERIOD, 5000, 0, 0, "broadband", "李四"),
            ("13800138000", PERIOD, 10000, 0, 0, "mobile", "张三"),
            ("13800138000", PERIOD, 700, 0, 0, "broadband", "王五"),  # line 4: repeat of line 2
            ("01022716860", PERIOD, 6800, 8, 0, "fixed", "商行"),  # trunk-prefixed landline
            ("13900139000", PERIOD, 100, 0, 0, "mobile", ""),  # no name on its first line
            ("13900139000", PERIOD, 200, 0, 0, "broadband", "赵六"),
        ],
    )
    result = await accrue(services, feed, PERIOD)
    assert (result.rows_ok, result.rows_bad) == (5, 1)
    assert "duplicate of line 2" in result.first_bad[0].reason

    def opened(conn: Connection) -> dict[str, tuple[str | None, str, int]]:
        rows = conn.execute(
            select(subscriber.c.msisdn, subscriber.c.name, account.c.type, account.c.balance).join(
                account, account.c.subscriber_id == subscriber.c.id
            )
        )
        return {r.msisdn: (r.name, r.type, int(r.balance)) for r in rows}

    found = await services.db.read(opened)
    assert found["+8613800138000"] == ("李四", "broadband", 150)
    assert found["+861022716860"] == ("商行", "fixed", 68)
    # the name of its first line that has one (an outsider's finding: a blank first line
    # used to wipe it), the account type of its first line
    assert found["+8613900139000"][:2] == ("赵六", "mobile")
