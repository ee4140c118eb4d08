"""A settlement run (§6.3; issue 16 §3): settle what is due, or say precisely why not.

``settlement.settle`` makes each merchant's statement of a month once (unique per
merchant and month). What it cannot do alone:

* a month settled **early** (``settle --now``) already has its statement, so lines
  consumed after that answered "nothing to settle" until the next month's run. A
  statement still in ``draft`` has been agreed by nobody, so a run now **adds** those
  lines to it (``top_up_draft``: the same conditional claim, ``UPDATE … WHERE
  statement_id IS NULL``, into the existing draft; the merchant's staff get the new
  summary by SMS). A statement already confirmed, disputed, approved or paid is never
  changed: its late lines go into the next month's statement, and the run says so,
  line count, points, amount and consumption times included (``Waiting``).
* ``--now`` first settles each **finished** month that still has unsettled lines into
  that month's own statement (oldest first), then the current month up to now, so a
  month's lines do not land in a later month's statement just because the daily job had
  not run yet.

Every statement is still made by ``settlement.settle``; nothing here changes how lines
are claimed there. Times are UTC epoch seconds; points and cents are integers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, func, select, update

from core.merchants import merchants
from core.messaging import outbox
from core.platform import audit
from core.platform.db import Database, savepoint
from core.platform.schema import merchant, settlement_line, statement
from core.settlement import settlement
from core.settlement import texts as settlement_texts
from core.settlement.errors import BadPeriod, PeriodNotOver
from core.settlement.settlement import StatementView, period_bounds, period_of

OPEN_STATUS = "draft"


@dataclass(frozen=True)
class Waiting:
    """A merchant's unsettled lines consumed before the run's cutoff that it could not take."""

    merchant_code: str
    lines: int
    points: int
    amount_cents: int
    first_at: int
    last_at: int
    statement_id: int | None
    """The statement they missed (its period ``period``), which is no longer a draft."""
    statement_status: str | None
    period: str
    next_period: str
    """The month whose statement will take them."""


@dataclass(frozen=True)
class SettleRun:
    """What a run did: statements made, drafts that took more lines, lines left and why."""

    cutoff: int
    made: list[StatementView] = field(default_factory=list)
    topped_up: list[StatementView] = field(default_factory=list)
    waiting: list[Waiting] = field(default_factory=list)
    later: int = 0
    """Unsettled lines consumed at or after the cutoff (a later month's business)."""

    @property
    def changed(self) -> int:
        return len(self.made) + len(self.topped_up)


class _Nothing(Exception):
    """No line to add: the draft is left as it was."""


def top_up_draft(
    conn: Connection, *, merchant_id: int, period: str, cutoff: int, now: int, by: str
) -> StatementView | None:
    """Add ``merchant_id``'s unsettled lines consumed before ``cutoff`` to its ``draft``
    statement of ``period``; the statement, or None when there is no draft or no line.

    A unit of work. The draft is first moved onto itself (``UPDATE … WHERE status =
    'draft'``), which holds its row until the commit, so a confirmation waits for the
    new lines and a statement no longer in draft is never changed.
    """
    found = conn.execute(
        select(statement.c.id, statement.c.cutoff).where(
            and_(
                statement.c.merchant_id == merchant_id,
                statement.c.period == period,
                statement.c.status == OPEN_STATUS,
            )
        )
    ).first()
    if found is None:
        return None
    statement_id, old_cutoff = int(found[0]), int(found[1])
    try:
        with savepoint(conn, "top_up"):
            held = conn.execute(
                update(statement)
                .where(and_(statement.c.id == statement_id, statement.c.status == OPEN_STATUS))
                .values(cutoff=max(old_cutoff, cutoff), updated_at=now, updated_by=by[:64])
            ).rowcount
            if held != 1:
                raise _Nothing
            claimed = conn.execute(
                update(settlement_line)
                .where(
                    and_(
                        settlement_line.c.merchant_id == merchant_id,
                        settlement_line.c.statement_id.is_(None),
                        settlement_line.c.consumed_at < cutoff,
                    )
                )
                .values(statement_id=statement_id)
            ).rowcount
            if not claimed:
                raise _Nothing
    except _Nothing:
        return None
    totals = conn.execute(
        select(
            func.count(),
            func.coalesce(func.sum(settlement_line.c.points), 0),
            func.coalesce(func.sum(settlement_line.c.amount_cents), 0),
        ).where(settlement_line.c.statement_id == statement_id)
    ).one()
    conn.execute(
        update(statement)
        .where(statement.c.id == statement_id)
        .values(lines=int(totals[0]), points=int(totals[1]), amount_cents=int(totals[2]))
    )
    done = settlement.statement_by_id(conn, statement_id)
    assert done is not None
    audit.record(
        conn,
        actor_kind="operator",
        actor=by,
        action="statement_top_up",
        subject=f"statement:{statement_id}",
        result=OPEN_STATUS,
        now=now,
        details={"added": int(claimed), "lines": done.lines, "amount_cents": done.amount_cents},
    )
    for phone in merchants.staff_phones(conn, merchant_id):
        lang = "zh" if phone.startswith("+86") else "en"
        outbox.enqueue(
            conn,
            key=f"statement:{statement_id}:draft:{done.lines}:{phone}",
            recipient=phone,
            text=settlement_texts.statement_summary(lang, done, updated=True),
            now=now,
        )
    return done


def _drafts_with_lines(
    conn: Connection, period: str, cutoff: int, merchant_id: int | None
) -> list[int]:
    """Merchants whose ``period`` statement is a draft and who have lines it could take."""
    query = (
        select(statement.c.merchant_id)
        .where(
            and_(
                statement.c.period == period,
                statement.c.status == OPEN_STATUS,
                select(settlement_line.c.id)
                .where(
                    and_(
                        settlement_line.c.merchant_id == statement.c.merchant_id,
                        settlement_line.c.statement_id.is_(None),
                        settlement_line.c.consumed_at < cutoff,
                    )
                )
                .exists(),
            )
        )
        .order_by(statement.c.merchant_id)
    )
    if merchant_id is not None:
        query = query.where(statement.c.merchant_id == merchant_id)
    return [int(m) for m in conn.execute(query).scalars()]


def _oldest_unsettled(conn: Connection, cutoff: int, merchant_id: int | None) -> int | None:
    query = select(func.min(settlement_line.c.consumed_at)).where(
        and_(settlement_line.c.statement_id.is_(None), settlement_line.c.consumed_at < cutoff)
    )
    if merchant_id is not None:
        query = query.where(settlement_line.c.merchant_id == merchant_id)
    found = conn.execute(query).scalar()
    return None if found is None else int(found)


def next_period(period: str, tz: ZoneInfo) -> str:
    """The month after ``period`` (YYYY-MM)."""
    return period_of(period_bounds(period, tz)[1], tz)


def waiting(
    conn: Connection, *, period: str, cutoff: int, tz: ZoneInfo, merchant_id: int | None = None
) -> list[Waiting]:
    """Unsettled lines consumed before ``cutoff``, by merchant, with the statement of
    ``period`` that did not take them (it is no longer a draft)."""
    query = (
        select(
            merchant.c.id,
            merchant.c.code,
            func.count(),
            func.sum(settlement_line.c.points),
            func.sum(settlement_line.c.amount_cents),
            func.min(settlement_line.c.consumed_at),
            func.max(settlement_line.c.consumed_at),
        )
        .select_from(settlement_line.join(merchant, merchant.c.id == settlement_line.c.merchant_id))
        .where(
            and_(settlement_line.c.statement_id.is_(None), settlement_line.c.consumed_at < cutoff)
        )
        .group_by(merchant.c.id, merchant.c.code)
        .order_by(merchant.c.code)
    )
    if merchant_id is not None:
        query = query.where(settlement_line.c.merchant_id == merchant_id)
    found = []
    for mid, code, n, points, cents, first, last in conn.execute(query).all():
        missed = conn.execute(
            select(statement.c.id, statement.c.status).where(
                and_(statement.c.merchant_id == mid, statement.c.period == period)
            )
        ).first()
        found.append(
            Waiting(
                code,
                int(n),
                int(points),
                int(cents),
                int(first),
                int(last),
                None if missed is None else int(missed[0]),
                None if missed is None else str(missed[1]),
                period,
                next_period(period, tz),
            )
        )
    return found


def _later(conn: Connection, cutoff: int, merchant_id: int | None) -> int:
    query = select(func.count()).where(
        and_(settlement_line.c.statement_id.is_(None), settlement_line.c.consumed_at >= cutoff)
    )
    if merchant_id is not None:
        query = query.where(settlement_line.c.merchant_id == merchant_id)
    return int(conn.execute(query).scalar_one())


async def _settle_period(
    db: Database,
    run: SettleRun,
    *,
    period: str,
    cutoff: int,
    now: int,
    tz: ZoneInfo,
    by: str,
    merchant_code: str | None,
    merchant_id: int | None,
    early: bool,
) -> None:
    run.made.extend(
        await settlement.settle(
            db,
            period=None if early else period,
            now=now,
            tz=tz,
            by=by,
            merchant_code=merchant_code,
            early=early,
        )
    )
    for mid in await db.read(lambda conn: _drafts_with_lines(conn, period, cutoff, merchant_id)):

        def unit(conn: Connection, mid: int = mid) -> StatementView | None:
            return top_up_draft(conn, merchant_id=mid, period=period, cutoff=cutoff, now=now, by=by)

        topped = await db.write(unit)
        if topped is not None:
            run.topped_up.append(topped)


async def settle_due(
    db: Database,
    *,
    period: str | None,
    now: int,
    tz: ZoneInfo,
    by: str,
    merchant_code: str | None = None,
    early: bool = False,
) -> SettleRun:
    """Settle ``period`` (it must be over), or with ``early`` every finished month that still
    has lines and then the current month up to ``now``; drafts take their late lines.

    Raises ``BadPeriod``, ``PeriodNotOver``, ``UnknownMerchant``. Running it again
    changes nothing; ``SettleRun.waiting`` says which lines are left and why.
    """
    merchant_id = None
    if merchant_code is not None:
        shop = await db.read(lambda conn: merchants.find_merchant(conn, merchant_code))
        merchant_id = shop.id
    current = period_of(now, tz)
    if early:
        cutoff = min(now + 1, period_bounds(current, tz)[1])
        run = SettleRun(cutoff)
        oldest = await db.read(lambda conn: _oldest_unsettled(conn, cutoff, merchant_id))
        month = period_of(oldest, tz) if oldest is not None else current
        while month < current:
            await _settle_period(
                db,
                run,
                period=month,
                cutoff=period_bounds(month, tz)[1],
                now=now,
                tz=tz,
                by=by,
                merchant_code=merchant_code,
                merchant_id=merchant_id,
                early=False,
            )
            month = next_period(month, tz)
        settled = current
    else:
        if period is None:
            raise BadPeriod("")
        cutoff = period_bounds(period, tz)[1]
        if cutoff > now:
            raise PeriodNotOver(period)
        run = SettleRun(cutoff)
        settled = period
    await _settle_period(
        db,
        run,
        period=settled,
        cutoff=cutoff,
        now=now,
        tz=tz,
        by=by,
        merchant_code=merchant_code,
        merchant_id=merchant_id,
        early=early,
    )

    def leftovers(conn: Connection) -> tuple[list[Waiting], int]:
        return (
            waiting(conn, period=settled, cutoff=cutoff, tz=tz, merchant_id=merchant_id),
            _later(conn, cutoff, merchant_id),
        )

    left, later = await db.read(leftovers)
    return SettleRun(cutoff, run.made, run.topped_up, left, later)
