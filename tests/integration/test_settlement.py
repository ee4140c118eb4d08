"""Settlement (issue 6 §3–4): lines frozen at consumption, statements, reports — both databases."""

from __future__ import annotations

import asyncio
import csv
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy import Connection, and_, func, insert, select, text

from core.merchants import merchants
from core.messaging import segments
from core.payments import pos
from core.platform.clock import ManualClock, epoch
from core.platform.schema import entry, merchant, settlement_line, statement, voucher
from core.platform.schema import orders as orders_table
from core.settlement import report_files, reports, settlement, statements
from core.settlement.errors import (
    IllegalStatementMove,
    PeriodNotOver,
    ReasonRequired,
    UnknownStatement,
)
from core.settlement.settlement import Rate
from pointshall.bootstrap import Services, bootstrap
from pointshall.scheduling import job_context
from scheduler.runner import run_job
from tests.integration.test_pos import set_passwords
from tests.support.helpers import redeem_paid, send
from tests.support.merchant_helpers import ALICE, STAFF_A, STAFF_B, buy, merchant_mall, texts_to
from tests.support.settings import make_settings

TZ = ZoneInfo("Asia/Shanghai")
PERIOD = "2026-11"
RATES = {"M1": Rate(250, 1000), "M2": Rate(333, 1000)}
POS_POINTS = (777, 1201)
DECEMBER = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)  # 03:00 on 2 December in Shanghai


async def set_rate(services: Services, code: str, cents: int) -> None:
    now = epoch(services.clock.now())
    await services.db.write(lambda conn: settlement.set_rate(conn, code, cents, "test", now))


async def verify(services: Services, staff: str, code: str) -> None:
    bought = await buy(services, code)
    reply = (await send(services, staff, f"YZ {bought.no} {bought.password}")).reply
    assert bought.no in reply


async def pos_pay(services: Services, terminal: str, points: int) -> None:
    now = epoch(services.clock.now())

    def unit(conn: Connection) -> pos.PaymentOutcome:
        view = merchants.find_terminal(conn, terminal)
        assert view is not None
        request = pos.PaymentRequest(
            ALICE, "135790", "246801", points, f"receipt-{uuid.uuid4().hex[:8]}"
        )
        return pos.pay(conn, view, request, now, services.keyring)

    assert isinstance(await services.db.write(unit), pos.PaymentDone)


async def month_of_consumption(services: Services, tmp_path: Path) -> None:
    """Two M1 vouchers, one M2 voucher and two POS payments at M2, in November."""
    await merchant_mall(services, tmp_path)
    for code, rate in RATES.items():
        await set_rate(services, code, rate.cents)
    await set_passwords(services, ALICE, "135790", "246801")
    await verify(services, STAFF_A, "3001")
    await verify(services, STAFF_A, "3001")
    await verify(services, STAFF_B, "3002")
    for points in POS_POINTS:
        await pos_pay(services, "T-B", points)


async def buy_credit(services: Services) -> None:
    await services.db.write(lambda conn: redeem_paid(conn, services, ALICE, "1001"))


async def snapshot(services: Services) -> tuple[list[Any], list[Any]]:
    def q(conn: Connection) -> tuple[list[Any], list[Any]]:
        return (
            [tuple(r) for r in conn.execute(select(statement).order_by(statement.c.id))],
            [
                tuple(r)
                for r in conn.execute(select(settlement_line).order_by(settlement_line.c.id))
            ],
        )

    return await services.db.read(q)


async def settle_all(services: Services, **kw: Any) -> list[settlement.StatementView]:
    return await settlement.settle(
        services.db, now=epoch(services.clock.now()), tz=TZ, by="test", **kw
    )


def covered_times(conn: Connection) -> list[int]:
    """For each line, in id order, how many statements cover it (issue 15 §3 watermark)."""
    st = statement
    covering = (
        select(func.count())
        .where(
            and_(
                st.c.merchant_id == settlement_line.c.merchant_id,
                settlement_line.c.id > st.c.lines_after,
                settlement_line.c.id <= st.c.lines_upto,
            )
        )
        .select_from(st)
        .correlate(settlement_line)
        .scalar_subquery()
    )
    query = select(covering).select_from(settlement_line).order_by(settlement_line.c.id)
    return [int(n) for n in conn.execute(query).scalars()]


def mismatches(conn: Connection) -> list[tuple[int, tuple[int, int, int], tuple[int, int, int]]]:
    """Statements whose recorded totals differ from the lines in their range."""
    found = []
    for s in conn.execute(select(statement)).all():
        line = settlement_line
        n, points, amount = conn.execute(
            select(
                func.count(),
                func.coalesce(func.sum(line.c.points), 0),
                func.coalesce(func.sum(line.c.amount_cents), 0),
            ).where(
                and_(
                    line.c.merchant_id == s.merchant_id,
                    line.c.id > s.lines_after,
                    line.c.id <= s.lines_upto,
                )
            )
        ).one()
        actual = (int(n), int(points), int(amount))
        if actual != (s.lines, s.points, s.amount_cents):
            found.append((int(s.id), (s.lines, s.points, s.amount_cents), actual))
    return found


async def add_line(services: Services, conn: Any, ref: str) -> None:
    """A 100-point POS line of M1 consumed in November, on ``conn`` (not committed)."""
    m1 = await services.db.read(lambda c: merchants.find_merchant(c, "M1").id)
    await conn.execute(
        insert(settlement_line).values(
            merchant_id=m1,
            source="pos",
            ref=ref,
            points=100,
            rate_cents=250,
            rate_points=1000,
            amount_cents=25,
            consumed_at=epoch(datetime(2026, 11, 20, tzinfo=UTC)),
        )
    )


# ------------------------------------------------------------------------------ tests


async def test_lines_freeze_the_rate_and_a_period_settles_once(
    services: Services, tmp_path: Path
) -> None:
    await month_of_consumption(services, tmp_path)
    await set_rate(services, "M1", 999)  # later contract change: history stays
    with pytest.raises(PeriodNotOver):
        await settle_all(services, period=PERIOD)
    _, lines = await snapshot(services)
    assert len(lines) == 5
    assert {(r[5], r[6], r[8]) for r in lines if r[2] == "voucher"} == {
        (800, 250, 200),
        (1500, 333, 500),  # 499.5 rounds half up
    }
    services.clock.set(DECEMBER)
    result = await run_job(job_context(services), "settlement")
    assert (result.ran, result.changed) == (True, 2)
    before = await snapshot(services)
    again = await run_job(job_context(services), "settlement")
    assert again.changed == 0
    assert await settle_all(services, period=PERIOD) == []
    assert await snapshot(services) == before
    made = {s.merchant_code: s for s in await services.db.read(settlement.statements)}
    assert made["M1"].lines == 2 and made["M1"].points == 1600 and made["M1"].amount_cents == 400
    assert made["M2"].status == "draft"
    texts = await texts_to(services, STAFF_B)
    summary = [t for t in texts if "结算单" in t]
    assert len(summary) == 1 and segments.count(summary[0]) <= 2
    assert "2026-11" in summary[0] and f"{made['M2'].points:,}" in summary[0]


async def test_statement_amounts_equal_the_ledger(services: Services, tmp_path: Path) -> None:
    await month_of_consumption(services, tmp_path)
    services.clock.set(DECEMBER)
    await settle_all(services, period=PERIOD)
    start, end = settlement.period_bounds(PERIOD, TZ)

    def independent(conn: Connection) -> dict[str, list[int]]:
        """Points consumed per merchant, from vouchers/orders and the POS journal entries."""
        consumed: dict[str, list[int]] = {}
        for code, points in conn.execute(
            select(merchant.c.code, orders_table.c.points)
            .select_from(
                voucher.join(orders_table, orders_table.c.id == voucher.c.order_id).join(
                    merchant, merchant.c.id == voucher.c.merchant_id
                )
            )
            .where(
                and_(
                    voucher.c.status == "verified",
                    voucher.c.verified_at >= start,
                    voucher.c.verified_at < end,
                )
            )
        ):
            consumed.setdefault(code, []).append(int(points))
        for amount in conn.execute(
            select(entry.c.amount).where(
                and_(
                    entry.c.idempotency_key.like("pos:T-B:%"),
                    entry.c.created_at >= start,
                    entry.c.created_at < end,
                )
            )
        ).scalars():
            consumed.setdefault("M2", []).append(-int(amount))
        return consumed

    consumed = await services.db.read(independent)
    assert sorted(consumed["M2"]) == sorted([1500, *POS_POINTS])
    made = {s.merchant_code: s for s in await services.db.read(settlement.statements)}
    for code, points in consumed.items():
        rate = RATES[code]
        assert made[code].points == sum(points)
        assert made[code].amount_cents == sum(rate.amount(p) for p in points)
    cost = await services.db.read(partial_cost)
    by_category: dict[str, int] = {}
    for row in cost:
        by_category[row.category] = by_category.get(row.category, 0) + row.points
    assert by_category["merchant"] == sum(sum(p) for p in consumed.values())
    assert sum(r.value_cents for r in cost if r.category == "merchant") == sum(
        s.amount_cents for s in made.values()
    )
    assert {r.method for r in cost if r.category == "merchant"} == {"points", "pos_points"}


def partial_cost(conn: Connection) -> list[reports.CostRow]:
    return reports.points_cost(conn, PERIOD, TZ)


async def test_concurrent_settles_make_one_set_of_statements(
    services: Services, tmp_path: Path, database_url: str, clock: ManualClock
) -> None:
    """Finance's early settle, the CLI and two replicas' scheduled runs, all at once."""
    await month_of_consumption(services, tmp_path)
    clock.set(DECEMBER)
    other = await bootstrap(make_settings(database_url), clock=clock, upgrade=False)
    try:
        runs = await asyncio.gather(
            settle_all(services, period=PERIOD, merchant_code="M1"),
            settle_all(other, period=PERIOD, merchant_code="M1"),
            settle_all(services, period=PERIOD),
            settle_all(other, period=PERIOD),
            run_job(job_context(services), "settlement"),
            run_job(job_context(other), "settlement"),
        )
    finally:
        await other.close()
    made = [s for run in runs[:4] for s in run]  # type: ignore[union-attr]
    made_by_jobs = sum(run.changed for run in runs[4:])  # type: ignore[union-attr]
    assert len(made) + made_by_jobs == 2

    def check(conn: Connection) -> tuple[int, int, int]:
        n_statements = conn.execute(select(func.count()).select_from(statement)).scalar_one()
        summed = conn.execute(select(func.sum(statement.c.lines))).scalar_one()
        return int(n_statements), covered_times(conn).count(0), int(summed)

    assert await services.db.read(check) == (2, 0, 5)
    assert await services.db.read(mismatches) == []


async def test_early_settlement_never_pays_a_line_twice(services: Services, tmp_path: Path) -> None:
    await month_of_consumption(services, tmp_path)
    early = await asyncio.gather(
        settle_all(services, period=None, merchant_code="M1", early=True),
        settle_all(services, period=None, merchant_code="M1", early=True),
    )
    assert sorted(len(r) for r in early) == [0, 1]
    await verify(services, STAFF_A, "3001")  # after the early statement: next month's
    services.clock.set(DECEMBER)
    made = await settle_all(services, period=PERIOD)
    assert [s.merchant_code for s in made] == ["M2"]
    services.clock.set(datetime(2027, 1, 1, 19, 0, tzinfo=UTC))
    december = await settle_all(services, period="2026-12")
    assert [(s.merchant_code, s.lines, s.points) for s in december] == [("M1", 1, 800)]

    assert await services.db.read(covered_times) == [1] * 6
    assert await services.db.read(mismatches) == []


async def test_statement_state_machine_refuses_illegal_moves(
    services: Services, tmp_path: Path
) -> None:
    await month_of_consumption(services, tmp_path)
    services.clock.set(DECEMBER)
    made = {s.merchant_code: s for s in await settle_all(services, period=PERIOD)}
    now = epoch(services.clock.now())

    async def move(sid: int, action: str, reason: str | None = None) -> str:
        def unit(conn: Connection) -> str:
            return statements.move(conn, sid, action, by="t", now=now, reason=reason).status

        return await services.db.write(unit)

    one, two = made["M1"].id, made["M2"].id
    for action in ("approve", "pay"):
        with pytest.raises(IllegalStatementMove):
            await move(one, action)
    with pytest.raises(ReasonRequired):
        await move(one, "dispute", "  ")
    with pytest.raises(UnknownStatement):
        await move(9999, "confirm")
    assert await move(one, "dispute", "two coffees missing") == "disputed"
    with pytest.raises(IllegalStatementMove):
        await move(one, "dispute", "again")
    with pytest.raises(IllegalStatementMove):
        await move(one, "approve")
    assert await move(one, "confirm") == "confirmed"
    assert await move(one, "approve") == "approved"
    with pytest.raises(IllegalStatementMove):
        await move(one, "confirm")
    assert await move(one, "pay") == "paid"
    for action in statements.ACTIONS:
        with pytest.raises(IllegalStatementMove):
            await move(one, action, "x")
    assert await move(two, "confirm") == "confirmed"
    view = await services.db.read(lambda conn: settlement.statement_by_id(conn, one))
    assert view is not None and view.reason == "two coffees missing"


async def test_reports_open_with_openpyxl_and_csv_parses(
    services: Services, tmp_path: Path
) -> None:
    await month_of_consumption(services, tmp_path)
    await buy_credit(services)  # phone credit: 5,000 points, face value 50 yuan
    services.clock.set(DECEMBER)
    made = {s.merchant_code: s for s in await settle_all(services, period=PERIOD)}
    cost = await services.db.read(partial_cost)
    assert any(r.category == "credit" and r.value_cents == 5000 for r in cost)

    report_files.write_points_cost(tmp_path / "cost.xlsx", PERIOD, cost)
    report_files.write_points_cost(tmp_path / "cost.csv", PERIOD, cost)
    book = openpyxl.load_workbook(tmp_path / "cost.xlsx")
    assert len(book["points cost"]._charts) == 1  # noqa: SLF001 (openpyxl: no public chart list)
    with (tmp_path / "cost.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert sum(int(r["points"]) for r in rows) == sum(r.points for r in cost)

    view = made["M2"]
    seen: list[int] = []
    for name in ("m2.xlsx", "m2.csv"):

        def unit(conn: Connection, name: str = name) -> int:
            return report_files.write_statement(
                tmp_path / name, view, reports.statement_lines(conn, view.id), TZ, seen.append
            )

        assert await services.db.read(unit) == view.lines
    assert seen and seen[-1] == view.lines
    book = openpyxl.load_workbook(tmp_path / "m2.xlsx")
    assert len(book["statement"]._charts) == 1  # noqa: SLF001 (openpyxl: no public chart list)
    detail = list(book["lines"].iter_rows(min_row=2, values_only=True))
    assert sum(int(r[7]) for r in detail) == view.amount_cents  # type: ignore[arg-type]
    with (tmp_path / "m2.csv").open(encoding="utf-8") as f:
        lines = list(csv.DictReader(f))
    assert len(lines) == view.lines
    assert sum(int(r["amount_cents"]) for r in lines) == view.amount_cents
    with pytest.raises(ValueError):
        report_files.write_points_cost(tmp_path / "cost.pdf", PERIOD, cost)


async def test_a_line_still_being_written_is_settled_exactly_once(
    services: Services, tmp_path: Path
) -> None:
    """Issue 15 §3: a statement covers line ids up to a watermark. On PostgreSQL a line
    numbered below a committed one may still be uncommitted when a run starts; the run
    waits for it (SHARE lock) instead of leaving it behind its watermark uncounted. On
    SQLite the one writer leaves nothing in flight; lines written during the run land
    in this statement or the next, never both nor neither."""
    await month_of_consumption(services, tmp_path)
    services.clock.set(DECEMBER)
    engine = services.db.async_engine
    if services.db.dialect == "postgresql":
        async with engine.connect() as open_tx, engine.connect() as other:
            await add_line(services, open_tx, "late:1")  # numbered first, not committed
            await add_line(services, other, "late:2")
            await other.commit()
            run = asyncio.create_task(settle_all(services, period=PERIOD))
            for _ in range(500):  # until the run waits for the open transaction's lock
                waiting = await other.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                        " AND query LIKE 'LOCK TABLE settlement_line%'"
                    )
                )
                await other.rollback()
                if waiting or run.done():
                    break
                await asyncio.sleep(0.02)
            assert not run.done()
            await open_tx.commit()
            made = await run
    else:

        async def write_late() -> None:
            async with engine.connect() as conn:
                await add_line(services, conn, "late:1")
                await conn.commit()

        made, _ = await asyncio.gather(settle_all(services, period=PERIOD), write_late())
    assert await services.db.read(mismatches) == []
    times = await services.db.read(covered_times)
    if services.db.dialect == "postgresql":
        assert times == [1] * 7 and sum(s.lines for s in made) == 7
    else:
        assert times in ([1] * 6, [1] * 5 + [0])  # the late line: now or next time
