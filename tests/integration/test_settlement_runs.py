"""``settle --now`` settles what is due or says precisely why not (issue 16 §3, seed §6.3).

The field report: on the demo, after the month's early settlement, six more vouchers
were used and ``settle --now`` answered "nothing to settle". The statement of the month
existed (unique per merchant and month), so the new lines waited, unexplained, for the
next month. Now a draft takes them; a statement already agreed is never changed and the
run names the lines and the statement that will take them. Both databases.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, func, select

from core.merchants import merchants
from core.platform.clock import ManualClock, epoch
from core.platform.schema import outbox, settlement_line, statement
from core.settlement import runs, settlement, statements
from core.settlement.runs import SettleRun
from pointshall.bootstrap import Services, bootstrap
from pointshall.scheduling import job_context
from scheduler.runner import run_job
from tests.support.helpers import send
from tests.support.merchant_helpers import STAFF_A, buy, merchant_mall
from tests.support.settings import make_settings

TZ = ZoneInfo("Asia/Shanghai")
DECEMBER = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)  # 03:00 on 2 December in Shanghai


async def used_vouchers(services: Services, n: int) -> None:
    for _ in range(n):
        bought = await buy(services, "3001")
        reply = (await send(services, STAFF_A, f"YZ {bought.no} {bought.password}")).reply
        assert bought.no in reply


async def settle_now(services: Services, **kw: object) -> SettleRun:
    return await runs.settle_due(
        services.db,
        period=None,
        now=epoch(services.clock.now()),
        tz=TZ,
        by="finance",
        early=True,
        **kw,  # type: ignore[arg-type]
    )


def covering(conn: Connection) -> dict[int, int | None]:
    """Each line's statement by watermark (issue 15 §3): the one of its merchant whose
    ``(lines_after, lines_upto]`` holds its id; None when no statement covers it. A line
    covered twice fails."""
    found: dict[int, int | None] = {}
    for lid, sid in conn.execute(
        select(settlement_line.c.id, statement.c.id)
        .select_from(
            settlement_line.outerjoin(
                statement,
                and_(
                    statement.c.merchant_id == settlement_line.c.merchant_id,
                    settlement_line.c.id > statement.c.lines_after,
                    settlement_line.c.id <= statement.c.lines_upto,
                ),
            )
        )
        .order_by(settlement_line.c.id)
    ):
        assert int(lid) not in found, f"line {lid} is in two statements"
        found[int(lid)] = None if sid is None else int(sid)
    return found


async def lines_by_statement(services: Services) -> dict[int | None, int]:
    counts: dict[int | None, int] = {}
    for sid in (await services.db.read(covering)).values():
        counts[sid] = counts.get(sid, 0) + 1
    return counts


async def statements_agree_with_their_lines(services: Services) -> None:
    def q(conn: Connection) -> None:
        for sid, m, after, upto, lines, points, cents in conn.execute(
            select(
                statement.c.id,
                statement.c.merchant_id,
                statement.c.lines_after,
                statement.c.lines_upto,
                statement.c.lines,
                statement.c.points,
                statement.c.amount_cents,
            )
        ):
            got = conn.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(settlement_line.c.points), 0),
                    func.coalesce(func.sum(settlement_line.c.amount_cents), 0),
                ).where(
                    and_(
                        settlement_line.c.merchant_id == m,
                        settlement_line.c.id > after,
                        settlement_line.c.id <= upto,
                    )
                )
            ).one()
            assert (lines, points, cents) == tuple(int(v) for v in got), sid

    await services.db.read(q)


async def confirm(services: Services, statement_id: int) -> None:
    now = epoch(services.clock.now())
    await services.db.write(
        lambda conn: statements.move(conn, statement_id, "confirm", by="m1", now=now)
    )


async def test_a_draft_takes_the_lines_used_after_an_early_settlement(
    services: Services, tmp_path: Path
) -> None:
    await merchant_mall(services, tmp_path)
    await services.db.write(
        lambda conn: settlement.set_rate(conn, "M1", 250, "test", epoch(services.clock.now()))
    )
    await used_vouchers(services, 1)
    first = await settle_now(services, merchant_code="M1")
    assert [s.lines for s in first.made] == [1] and first.topped_up == []
    draft = first.made[0]
    services.clock.advance(timedelta(hours=2))
    await used_vouchers(services, 6)  # the demo's six lines
    second = await settle_now(services)
    assert second.made == [] and second.waiting == []
    assert [(s.id, s.lines, s.points, s.amount_cents) for s in second.topped_up] == [
        (draft.id, 7, 7 * 800, 7 * 200)
    ]
    assert await lines_by_statement(services) == {draft.id: 7}
    await statements_agree_with_their_lines(services)

    def texts(conn: Connection) -> list[str]:
        return list(
            conn.execute(
                select(outbox.c.text).where(outbox.c.recipient == STAFF_A).order_by(outbox.c.id)
            ).scalars()
        )

    told = [t for t in await services.db.read(texts) if "结算单" in t]
    assert len(told) == 2 and "7笔" in told[1] and "已加入" in told[1]
    again = await settle_now(services)
    assert (again.changed, again.waiting, again.later) == (0, [], 0)


async def test_an_agreed_statement_is_never_changed_and_the_run_says_where_lines_go(
    services: Services, tmp_path: Path
) -> None:
    await merchant_mall(services, tmp_path)
    await used_vouchers(services, 1)
    made = (await settle_now(services)).made[0]
    await confirm(services, made.id)
    services.clock.advance(timedelta(hours=1))
    await used_vouchers(services, 2)
    run = await settle_now(services)
    assert run.changed == 0
    [left] = run.waiting
    assert (left.merchant_code, left.lines, left.points) == ("M1", 2, 1600)
    assert (left.statement_id, left.statement_status) == (made.id, "confirmed")
    assert (left.period, left.next_period) == ("2026-11", "2026-12")
    assert left.first_at <= left.last_at < run.cutoff
    assert await lines_by_statement(services) == {made.id: 1, None: 2}
    # The daily job after November finds the statement agreed: it changes nothing ...
    services.clock.set(DECEMBER)
    assert (await run_job(job_context(services), "settlement")).changed == 0
    # ... and December's statement takes the two lines once December is over.
    services.clock.set(datetime(2027, 1, 1, 19, 0, tzinfo=UTC))
    assert (await run_job(job_context(services), "settlement")).changed == 1
    december = await services.db.read(
        lambda conn: settlement.statements(conn, period="2026-12", merchant_code="M1")
    )
    assert [(s.lines, s.points) for s in december] == [(2, 1600)]
    await statements_agree_with_their_lines(services)


async def test_the_monthly_job_adds_late_lines_to_a_draft_made_early(
    services: Services, tmp_path: Path
) -> None:
    await merchant_mall(services, tmp_path)
    await used_vouchers(services, 1)
    made = (await settle_now(services)).made[0]
    services.clock.advance(timedelta(days=3))  # still November in Shanghai
    await used_vouchers(services, 2)
    services.clock.set(DECEMBER)
    assert (await run_job(job_context(services), "settlement")).changed == 1
    assert await lines_by_statement(services) == {made.id: 3}
    assert (await run_job(job_context(services), "settlement")).changed == 0


async def test_settling_now_gives_a_finished_month_its_own_statement(
    services: Services, tmp_path: Path
) -> None:
    await merchant_mall(services, tmp_path)
    await used_vouchers(services, 2)  # November
    services.clock.set(DECEMBER - timedelta(hours=20))  # 1 December 07:00, before the job
    await used_vouchers(services, 1)  # December
    run = await settle_now(services)
    assert sorted((s.period, s.lines) for s in run.made) == [("2026-11", 2), ("2026-12", 1)]
    nothing = await settle_now(services)
    assert (nothing.changed, nothing.waiting) == (0, [])


async def test_nothing_to_settle_says_what_it_looked_at(services: Services, tmp_path: Path) -> None:
    await merchant_mall(services, tmp_path)
    run = await settle_now(services, merchant_code="M2")
    assert (run.made, run.topped_up, run.waiting, run.later) == ([], [], [], 0)
    assert run.cutoff == epoch(services.clock.now()) + 1
    await used_vouchers(services, 1)
    october = await runs.settle_due(
        services.db, period="2026-10", now=epoch(services.clock.now()), tz=TZ, by="finance"
    )
    assert (october.changed, october.waiting, october.later) == (0, [], 1)


async def test_a_confirmation_racing_a_top_up_loses_no_line(
    services: Services, tmp_path: Path
) -> None:
    await merchant_mall(services, tmp_path)
    await used_vouchers(services, 1)
    made = (await settle_now(services)).made[0]
    await used_vouchers(services, 3)
    outcome, _ = await asyncio.gather(settle_now(services), confirm(services, made.id))
    counts = await lines_by_statement(services)
    assert sum(counts.values()) == 4
    if outcome.topped_up:  # the top-up came first: the merchant confirmed four lines
        assert counts == {made.id: 4} and outcome.waiting == []
    else:  # the confirmation came first: the three wait, and the run says so
        assert counts == {made.id: 1, None: 3}
        assert [w.lines for w in outcome.waiting] == [3]
    await statements_agree_with_their_lines(services)


async def line_at(services: Services, when: datetime, ref: str) -> None:
    """An 800-point M1 line consumed at ``when`` (numbered now, whatever ``when`` is)."""

    def unit(conn: Connection) -> None:
        shop = merchants.find_merchant(conn, "M1").id
        settlement.record_line(
            conn, merchant_id=shop, source="pos", ref=ref, points=800, now=epoch(when)
        )

    await services.db.write(unit)


async def test_a_line_numbered_after_the_watermark_waits_and_the_run_says_so(
    services: Services, tmp_path: Path
) -> None:
    """Issue 15 §3 with issue 16 §3: a line consumed in November but numbered after a
    December one is beyond November's watermark; the run names it and why."""
    await merchant_mall(services, tmp_path)
    await line_at(services, datetime(2026, 11, 25, tzinfo=UTC), "a")
    await line_at(services, DECEMBER - timedelta(hours=1), "december")
    await line_at(services, datetime(2026, 11, 28, tzinfo=UTC), "late-numbered")
    services.clock.set(DECEMBER)
    run = await runs.settle_due(
        services.db, period="2026-11", now=epoch(DECEMBER), tz=TZ, by="finance"
    )
    [made] = run.made
    assert (made.period, made.lines, run.upto, run.later) == ("2026-11", 1, 1, 1)
    [left] = run.waiting
    assert (left.merchant_code, left.lines, left.first_id, left.last_id) == ("M1", 1, 3, 3)
    assert (left.numbered_after, left.statement_id) == (1, made.id)
    assert await lines_by_statement(services) == {made.id: 1, None: 2}
    services.clock.set(datetime(2027, 1, 1, 19, 0, tzinfo=UTC))
    december = await runs.settle_due(
        services.db, period="2026-12", now=epoch(services.clock.now()), tz=TZ, by="finance"
    )
    assert [(s.period, s.lines) for s in december.made] == [("2026-12", 2)]
    assert december.waiting == [] and december.topped_up == []
    await statements_agree_with_their_lines(services)


async def test_a_draft_followed_by_a_statement_is_not_moved_up(
    services: Services, tmp_path: Path
) -> None:
    await merchant_mall(services, tmp_path)
    await used_vouchers(services, 1)
    november = (await settle_now(services)).made[0]
    await used_vouchers(services, 1)
    services.clock.set(DECEMBER)
    december = await settlement.settle(
        services.db, period=None, now=epoch(DECEMBER), tz=TZ, by="finance", early=True
    )
    assert [(s.period, s.lines) for s in december] == [("2026-12", 1)]
    await used_vouchers(services, 1)
    now = epoch(services.clock.now())

    def unit(conn: Connection) -> runs.StatementView | None:
        shop = merchants.find_merchant(conn, "M1").id
        upto = settlement.watermark(conn, now + 1)
        return runs.top_up_draft(
            conn, merchant_id=shop, period="2026-11", upto=upto, cutoff=now + 1, now=now, by="t"
        )

    assert await services.db.write(unit) is None
    assert await lines_by_statement(services) == {november.id: 1, december[0].id: 1, None: 1}
    await statements_agree_with_their_lines(services)


async def test_concurrent_runs_move_a_draft_up_and_start_the_next_month_exactly_once(
    services: Services, tmp_path: Path, database_url: str, clock: ManualClock
) -> None:
    """Issue 15 §3 exactly once, with the draft moved up (issue 16 §3): the monthly job
    moving November's draft up, ``settle --now`` (November then December) and a bare
    early settle of December, on two services at once."""
    await merchant_mall(services, tmp_path)
    await used_vouchers(services, 1)
    await settle_now(services)  # November's draft, made early
    await used_vouchers(services, 2)  # November, after it
    clock.set(DECEMBER - timedelta(hours=20))  # 1 December 07:00 in Shanghai
    await used_vouchers(services, 1)  # December
    clock.set(DECEMBER)
    other = await bootstrap(make_settings(database_url), clock=clock, upgrade=False)
    try:
        outcomes = await asyncio.gather(
            run_job(job_context(services), "settlement"),
            settle_now(other),
            settlement.settle(
                other.db, period=None, now=epoch(DECEMBER), tz=TZ, by="cli", early=True
            ),
            settle_now(services),
            run_job(job_context(other), "settlement"),
        )
    finally:
        await other.close()
    assert all(o is not None for o in outcomes)
    await statements_agree_with_their_lines(services)  # and no line in two statements
    await settle_now(services)
    counts = await lines_by_statement(services)
    assert None not in counts and sum(counts.values()) == 4
    await statements_agree_with_their_lines(services)
