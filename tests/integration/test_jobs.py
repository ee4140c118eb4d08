"""Scheduled jobs (DESIGN.md §9): each idempotent under a controllable clock, on both databases."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import Connection, select

from core.catalogue import editing
from core.catalogue.editing import ItemSpec
from core.merchants import merchants
from core.platform.clock import ManualClock, epoch
from core.platform.job_lock import job_lock, lock_key
from core.platform.schema import account, hold, item, orders, outbox, voucher
from core.points import doctor, ledger
from core.subscribers import subscribers
from pointshall.app import build_app
from pointshall.bootstrap import Services
from pointshall.scheduling import SCHEDULER_KEY, attach_scheduler, job_context
from scheduler.jobs import JOBS
from scheduler.runner import UnknownJob, run_job
from scheduler.service import build_scheduler, schedule_jobs
from tests.support.helpers import accrue, count, send, write_feed

RICH = "+8613800138000"
DAY = 86_400


@pytest.fixture
async def shop(services: Services, tmp_path: Path) -> Services:
    """A subscriber with 2,100 points, a stocked gift and a coffee voucher."""
    feed = write_feed(tmp_path / "feed.csv", [("13800138000", "2026-10", 100000, 70, 100, "", "")])
    await accrue(services, feed, "2026-10")
    now = epoch(services.clock.now())

    def unit(conn: Connection) -> None:
        editing.upsert_category(conn, "3", "美食", "Food")
        merchants.upsert(conn, "COFFEE", "咖啡", "Coffee", now)
        editing.upsert_item(
            conn,
            ItemSpec(
                "3001",
                "咖啡券",
                "Coffee",
                "3",
                "voucher",
                180,
                merchant="COFFEE",
                stock=5,
                voucher_days=30,
            ),
            now,
        )

    await services.db.write(unit)
    return services


async def state(services: Services) -> tuple[int, int, int, list[str]]:
    def q(conn: Connection) -> tuple[int, int, int, list[str]]:
        balance, held = conn.execute(select(account.c.balance, account.c.held)).one()
        stock = conn.execute(select(item.c.stock).where(item.c.code == "3001")).scalar_one()
        statuses = list(conn.execute(select(orders.c.status).order_by(orders.c.id)).scalars())
        return int(balance), int(held), int(stock), statuses

    return await services.db.read(q)


async def place(services: Services, text: str = "DH 3001") -> str:
    reply = (await send(services, RICH, text)).reply
    found = re.search(r"回复(\d{6})确认", reply)
    assert found, reply
    return found.group(1)


async def ledger_ok(services: Services) -> None:
    report = await services.db.read(doctor.examine)
    assert report.ok, report.discrepancies


async def test_orders_timeout_releases_hold_and_stock_once(
    shop: Services, clock: ManualClock
) -> None:
    ctx = job_context(shop)
    await place(shop)
    assert await state(shop) == (2100, 180, 4, ["awaiting_otp"])
    clock.advance(timedelta(minutes=14))
    assert (await run_job(ctx, "orders-timeout")).changed == 0
    clock.advance(timedelta(minutes=2))
    first = await run_job(ctx, "orders-timeout")
    assert (first.ran, first.changed) == (True, 1)
    assert await state(shop) == (2100, 0, 5, ["expired"])
    assert (await run_job(ctx, "orders-timeout")).changed == 0
    assert await state(shop) == (2100, 0, 5, ["expired"])

    def holds(conn: Connection) -> list[str]:
        return list(conn.execute(select(hold.c.status)).scalars())

    assert await shop.db.read(holds) == ["released"]
    await ledger_ok(shop)


async def test_orders_timeout_works_through_batches(shop: Services, clock: ManualClock) -> None:
    ctx = job_context(shop)
    for _ in range(3):
        await place(shop)
    clock.advance(timedelta(minutes=16))
    small = type(ctx)(ctx.db, ctx.clock, ctx.timezone, ctx.expiry_notice_days, batch=2)
    assert (await run_job(small, "orders-timeout")).changed == 3
    assert (await state(shop))[1:3] == (0, 5)


async def test_vouchers_expiry_marks_unused_vouchers_once(
    shop: Services, clock: ManualClock
) -> None:
    ctx = job_context(shop)
    code = await place(shop)
    assert "兑换成功" in (await send(shop, RICH, code)).reply
    clock.advance(timedelta(days=29))
    assert (await run_job(ctx, "vouchers-expiry")).changed == 0
    clock.advance(timedelta(days=2))
    assert (await run_job(ctx, "vouchers-expiry")).changed == 1
    assert (await run_job(ctx, "vouchers-expiry")).changed == 0

    def statuses(conn: Connection) -> list[str]:
        return list(conn.execute(select(voucher.c.status)).scalars())

    assert await shop.db.read(statuses) == ["expired"]


async def _credit(services: Services, msisdn: str, amount: int, key: str, days: float) -> int:
    now = epoch(services.clock.now())

    def unit(conn: Connection) -> int:
        sub = subscribers.get_or_create(conn, msisdn, now)
        account_id = ledger.open_account(conn, sub.id, "mobile", now)
        ledger.credit(
            conn,
            account_id=account_id,
            amount=amount,
            kind="earn",
            source="test",
            key=key,
            reason_key="accrual",
            reason_args={},
            ref="test",
            now=now,
            expires_at=now + int(days * DAY),
        )
        return account_id

    return await services.db.write(unit)


async def balances(services: Services) -> list[tuple[int, int]]:
    def q(conn: Connection) -> list[tuple[int, int]]:
        rows = conn.execute(select(account.c.balance, account.c.held).order_by(account.c.id))
        return [(int(b), int(h)) for b, h in rows]

    return await services.db.read(q)


async def test_lots_expiry_expires_due_lots_once_and_walks_past_held_points(
    services: Services, clock: ManualClock
) -> None:
    ctx = job_context(services)
    ctx = type(ctx)(ctx.db, ctx.clock, ctx.timezone, ctx.expiry_notice_days, batch=2)
    for n in range(3):
        await _credit(services, f"+86138001380{n:02d}", 100, f"a{n}", days=1)
        await _credit(services, f"+86138001380{n:02d}", 50, f"b{n}", days=400)
    held_account = await _credit(services, "+8613800138099", 70, "held", days=1)
    now = epoch(clock.now())

    def hold_all(conn: Connection) -> None:
        ledger.place_hold(
            conn, account_id=held_account, amount=70, key="h", now=now, expires_at=now + 9 * DAY
        )

    await services.db.write(hold_all)
    assert (await run_job(ctx, "lots-expiry")).changed == 0
    clock.advance(timedelta(days=2))
    assert (await run_job(ctx, "lots-expiry")).changed == 300
    assert await balances(services) == [(50, 0), (50, 0), (50, 0), (70, 70)]
    assert (await run_job(ctx, "lots-expiry")).changed == 0
    assert await balances(services) == [(50, 0), (50, 0), (50, 0), (70, 70)]
    await ledger_ok(services)


async def test_expiry_notices_are_queued_once_per_date_in_the_subscribers_language(
    services: Services, clock: ManualClock
) -> None:
    ctx = job_context(services)
    await _credit(services, RICH, 1200, "zh-soon", days=10)
    await _credit(services, RICH, 300, "zh-sooner", days=5)
    await _credit(services, "+14155550100", 80, "en-soon", days=20)
    await _credit(services, RICH, 999, "zh-later", days=45)
    assert (await run_job(ctx, "expiry-notices")).changed == 3
    assert (await run_job(ctx, "expiry-notices")).changed == 0

    def texts(conn: Connection) -> list[tuple[str, str, str, str]]:
        rows = conn.execute(
            select(
                outbox.c.idempotency_key, outbox.c.recipient, outbox.c.kind, outbox.c.text
            ).order_by(outbox.c.id)
        ).all()
        return [tuple(r) for r in rows]  # type: ignore[misc]

    queued = await services.db.read(texts)
    keys = [q[0].split(":") for q in queued]
    assert [k[0] for k in keys] == ["expiry-notice"] * 3
    assert keys[0][1] == keys[1][1] != keys[2][1]  # one account, two dates; another account
    assert queued[0][1:] == (
        RICH,
        "service",
        "温馨提示:您有300积分将于2026-11-25到期,回复SP兑换商品。",
    )
    assert queued[2][1:] == (
        "+14155550100",
        "service",
        "80 of your points expire after 2026-12-10. Reply SP to redeem them.",
    )
    clock.advance(timedelta(days=16))  # the 45-day lot is now 29 days away; the others told
    assert (await run_job(ctx, "expiry-notices")).changed == 1
    assert (await run_job(ctx, "expiry-notices")).changed == 0
    assert await count(services, outbox) == 4


async def test_one_expiry_notice_per_subscriber_and_date(
    services: Services, clock: ManualClock
) -> None:
    """Issue 14 item 5: three lots expiring the same day were three texts at once."""
    ctx = job_context(services)
    for period, points in (("2026-01", 100), ("2026-02", 200), ("2026-03", 300)):
        await _credit(services, RICH, points, period, days=10)
    await _credit(services, RICH, 50, "later", days=12)
    assert (await run_job(ctx, "expiry-notices")).changed == 2
    assert (await run_job(ctx, "expiry-notices")).changed == 0

    def texts(conn: Connection) -> list[str]:
        return list(conn.execute(select(outbox.c.text).order_by(outbox.c.id)).scalars())

    assert await services.db.read(texts) == [
        "温馨提示:您有600积分将于2026-11-30到期,回复SP兑换商品。",
        "温馨提示:您有50积分将于2026-12-02到期,回复SP兑换商品。",
    ]


async def test_unknown_job_is_refused(services: Services) -> None:
    with pytest.raises(UnknownJob):
        await run_job(job_context(services), "make-coffee")


async def test_scheduler_holds_each_job_once_under_its_name(services: Services) -> None:
    scheduler = build_scheduler(job_context(services))
    scheduler.start()
    try:
        schedule_jobs(scheduler, job_context(services))  # again: replaced, not added twice
        assert sorted(j.id for j in scheduler.get_jobs()) == sorted(j.name for j in JOBS)
    finally:
        scheduler.shutdown(wait=False)


async def test_job_lock_is_exclusive_on_postgresql(services: Services) -> None:
    async with job_lock(services.db, "lots-expiry") as first:
        assert first
        async with job_lock(services.db, "lots-expiry") as second:
            assert second is (services.db.dialect != "postgresql")
        async with job_lock(services.db, "orders-timeout") as other:
            assert other
    async with job_lock(services.db, "lots-expiry") as again:
        assert again
    assert lock_key("a") != lock_key("b")


async def test_the_web_app_starts_and_stops_the_scheduler(services: Services) -> None:
    app = build_app(services)
    attach_scheduler(app, services)
    runner = web.AppRunner(app)
    await runner.setup()
    scheduler = app[SCHEDULER_KEY]
    try:
        assert scheduler.running
        assert {j.id for j in scheduler.get_jobs()} == {j.name for j in JOBS}
        assert "hour='10'" in str(scheduler.get_job("expiry-notices").trigger)
        assert "interval[0:01:00]" in str(scheduler.get_job("orders-timeout").trigger)
    finally:
        await runner.cleanup()
    assert not scheduler.running
