"""A settlement run (§6.3; issue 16 §3, issue 15 §3): settle what is due, or say
precisely why not.

A statement covers its merchant's lines numbered ``(lines_after, lines_upto]`` (the
per-merchant watermark of ``core.settlement.settlement``); a merchant's line is settled
exactly when its id is at most the highest ``lines_upto`` of its statements. A run picks
the watermark ``W`` for its cutoff once, sums what each merchant has after its own
watermark up to ``W`` in one read, then:

* a merchant with no statement for the month gets one (``settlement.make_statements``);
* a merchant whose statement of the month is still a ``draft`` and is its latest (the
  month was settled **early**, ``settle --now``, and more was consumed since) has that
  draft **moved up**: its ``lines_upto`` becomes ``W`` and its totals are those of its
  lines in the wider range (``top_up_draft``; the merchant's staff get the new summary
  by SMS). A draft has been agreed by nobody; no line is ever updated;
* a statement already confirmed, disputed, approved or paid is never changed: the lines
  wait for the next statement, and the run says so (``Waiting``), with their ids, count,
  points, amount and consumption times.

``--now`` first settles each **finished** month that still has unsettled lines into
that month's own statement (oldest first), then the current month up to now, so a
month's lines do not land in a later month's statement just because the daily job had
not run yet. A line consumed before the cutoff but numbered after a line consumed at or
past it is beyond the watermark: it waits for the next statement, and the run says so.

Exactly once under concurrent runs: a draft is moved up by a conditional ``UPDATE …
WHERE status = 'draft' AND lines_upto < W`` (so a confirmation and a move up cannot
both win, and of two runs the one with the higher ``W`` has the last word), and then
only if no statement of its merchant starts after it (checked once its row is held); a
new statement is made only from the merchant's watermark as it stands once its drafts
are locked (``settlement.as_of_now``). Times are UTC epoch seconds; points and cents are
integers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, case, func, select, update

from core.merchants import merchants
from core.messaging import outbox
from core.platform import audit
from core.platform.db import Database, savepoint
from core.platform.schema import merchant, settlement_line, statement
from core.settlement import settlement
from core.settlement import texts as settlement_texts
from core.settlement.errors import BadPeriod, PeriodNotOver
from core.settlement.settlement import Due, StatementView, period_bounds, period_of

OPEN_STATUS = "draft"


@dataclass(frozen=True)
class Waiting:
    """A merchant's unsettled lines consumed before the run's cutoff that it could not
    take, and why: they are numbered after the run's watermark (``numbered_after``), or
    the merchant's statement of ``period`` is no longer a draft (``statement_id``,
    ``statement_status``)."""

    merchant_code: str
    lines: int
    points: int
    amount_cents: int
    first_at: int
    last_at: int
    statement_id: int | None
    """The merchant's statement of ``period``, if it has one."""
    statement_status: str | None
    period: str
    next_period: str
    """The month whose statement will take them (the next statement, when
    ``numbered_after`` is set: it may be this month's draft at the next run)."""
    first_id: int = 0
    last_id: int = 0
    numbered_after: int | None = None
    """The run's watermark, when these lines are numbered after it (a line consumed at
    or after the cutoff was numbered before them)."""


@dataclass(frozen=True)
class SettleRun:
    """What a run did: statements made, drafts that took more lines, lines left and why."""

    cutoff: int
    made: list[StatementView] = field(default_factory=list)
    topped_up: list[StatementView] = field(default_factory=list)
    waiting: list[Waiting] = field(default_factory=list)
    later: int = 0
    """Unsettled lines consumed at or after the cutoff (a later month's business)."""
    upto: int = 0
    """The watermark of the run's last month: every line settled by it is numbered at
    most this."""

    @property
    def changed(self) -> int:
        return len(self.made) + len(self.topped_up)


class _Nothing(Exception):
    """The draft is no longer its merchant's latest, or took no line: left as it was."""


def top_up_draft(
    conn: Connection,
    *,
    merchant_id: int,
    period: str,
    upto: int,
    cutoff: int,
    now: int,
    by: str,
) -> StatementView | None:
    """Move ``merchant_id``'s ``draft`` statement of ``period`` up to the watermark
    ``upto`` (a line id whose lines were all consumed before ``cutoff``, UTC epoch
    seconds), so it also covers the lines numbered after its ``lines_upto``; the
    statement, or None when there is no such draft, it is not the merchant's latest or
    it gains no line.

    A unit of work. The conditional ``UPDATE … WHERE status = 'draft' AND lines_upto <
    upto`` holds the draft's row until the commit, so a confirmation waits for the new
    lines (or wins first, and nothing changes); once held, a statement of the merchant
    starting after the draft means its lines are taken: nothing changes either.
    """
    try:
        with savepoint(conn, "top_up"):
            held = conn.execute(
                update(statement)
                .where(
                    and_(
                        statement.c.merchant_id == merchant_id,
                        statement.c.period == period,
                        statement.c.status == OPEN_STATUS,
                        statement.c.lines_upto < upto,
                    )
                )
                .values(lines_upto=upto, updated_at=now, updated_by=by[:64])
                .returning(
                    statement.c.id, statement.c.lines_after, statement.c.lines, statement.c.cutoff
                )
            ).first()
            if held is None:
                raise _Nothing
            statement_id, after, before = int(held[0]), int(held[1]), int(held[2])
            followed = conn.execute(
                select(statement.c.id)
                .where(
                    and_(
                        statement.c.merchant_id == merchant_id,
                        statement.c.lines_after > after,
                    )
                )
                .limit(1)
            ).first()
            lines, points, cents = settlement.range_totals(conn, merchant_id, after, upto)
            if followed is not None or lines <= before:
                raise _Nothing
            conn.execute(
                update(statement)
                .where(statement.c.id == statement_id)
                .values(
                    lines=lines,
                    points=points,
                    amount_cents=cents,
                    cutoff=max(int(held[3]), cutoff),
                )
            )
    except _Nothing:
        return None
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
        details={
            "added": lines - before,
            "lines": done.lines,
            "amount_cents": done.amount_cents,
            "lines_upto": upto,
        },
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


def _owed_and_theirs(
    conn: Connection, period: str, upto: int, merchant_id: int | None
) -> tuple[list[Due], dict[int, str]]:
    """What each merchant has after its watermark up to ``upto``, and the status of the
    ``period`` statement of those that have one."""
    owed = settlement.due(conn, upto, merchant_id)
    if not owed:
        return owed, {}
    ids = [o.merchant_id for o in owed]
    theirs: dict[int, str] = {}
    for i in range(0, len(ids), settlement.IN_LIST):
        theirs.update(
            (int(m), str(s))
            for m, s in conn.execute(
                select(statement.c.merchant_id, statement.c.status).where(
                    and_(
                        statement.c.period == period,
                        statement.c.merchant_id.in_(ids[i : i + settlement.IN_LIST]),
                    )
                )
            )
        )
    return owed, theirs


def _oldest_unsettled(conn: Connection, cutoff: int, merchant_id: int | None) -> int | None:
    found = [
        conn.execute(
            select(func.min(settlement_line.c.consumed_at)).where(
                and_(where, settlement_line.c.consumed_at < cutoff)
            )
        ).scalar()
        for where in settlement.unsettled(conn, merchant_id)
    ]
    times = [int(t) for t in found if t is not None]
    return min(times) if times else None


def next_period(period: str, tz: ZoneInfo) -> str:
    """The month after ``period`` (YYYY-MM)."""
    return period_of(period_bounds(period, tz)[1], tz)


def waiting(
    conn: Connection,
    *,
    period: str,
    cutoff: int,
    upto: int,
    tz: ZoneInfo,
    merchant_id: int | None = None,
) -> tuple[list[Waiting], int]:
    """Unsettled lines consumed before ``cutoff``, by merchant and by why they were not
    taken: numbered after the watermark ``upto``, or the merchant's ``period`` statement
    is no longer a draft; and how many unsettled lines were consumed at or after
    ``cutoff`` (a later month's business)."""
    line = settlement_line.c
    rows: list[tuple[int, ...]] = []
    for where in settlement.unsettled(conn, merchant_id):
        lines = (
            select(
                line.id,
                line.merchant_id,
                line.points,
                line.amount_cents,
                line.consumed_at,
                case((line.consumed_at >= cutoff, 1), else_=0).label("late"),
                case((line.id > upto, 1), else_=0).label("beyond"),
            )
            .where(where)
            .subquery("unsettled")
        )
        u = lines.c
        rows += [
            tuple(int(v) for v in r)
            for r in conn.execute(
                select(
                    u.merchant_id,
                    u.late,
                    u.beyond,
                    func.count(),
                    func.sum(u.points),
                    func.sum(u.amount_cents),
                    func.min(u.consumed_at),
                    func.max(u.consumed_at),
                    func.min(u.id),
                    func.max(u.id),
                ).group_by(u.late, u.beyond, u.merchant_id)  # SQLite: not by the merchant index
            )
        ]
    later = sum(int(r[3]) for r in rows if r[1])
    left = [r for r in rows if not r[1]]
    if not left:
        return [], later
    shops = {int(r[0]) for r in left}
    codes = dict(
        conn.execute(select(merchant.c.id, merchant.c.code).where(merchant.c.id.in_(shops))).all()
    )
    theirs = {
        int(m): (int(sid), str(status))
        for m, sid, status in conn.execute(
            select(statement.c.merchant_id, statement.c.id, statement.c.status).where(
                and_(statement.c.period == period, statement.c.merchant_id.in_(shops))
            )
        )
    }
    after = next_period(period, tz)
    found = []
    for mid, _, numbered_late, n, points, cents, first, last, first_id, last_id in left:
        missed = theirs.get(int(mid))
        found.append(
            Waiting(
                str(codes[int(mid)]),
                int(n),
                int(points),
                int(cents),
                int(first),
                int(last),
                None if missed is None else missed[0],
                None if missed is None else missed[1],
                period,
                after,
                first_id=int(first_id),
                last_id=int(last_id),
                numbered_after=upto if numbered_late else None,
            )
        )
    found.sort(key=lambda w: (w.merchant_code, w.first_id))
    return found, later


async def _settle_period(
    db: Database,
    run: SettleRun,
    *,
    period: str,
    cutoff: int,
    now: int,
    by: str,
    merchant_id: int | None,
) -> int:
    """Settle ``period`` up to ``cutoff``: new statements, drafts moved up; the watermark."""
    upto = await db.write(lambda conn: settlement.watermark(conn, cutoff))
    owed, theirs = await db.read(lambda conn: _owed_and_theirs(conn, period, upto, merchant_id))
    fresh = [o for o in owed if o.merchant_id not in theirs]
    if fresh:
        run.made.extend(
            await db.write(
                lambda conn: settlement.make_statements(
                    conn, owed=fresh, period=period, cutoff=cutoff, now=now, by=by
                )
            )
        )
    drafts = sorted(o.merchant_id for o in owed if theirs.get(o.merchant_id) == OPEN_STATUS)
    if drafts:

        def unit(conn: Connection) -> list[StatementView]:
            topped = []
            for mid in drafts:
                done = top_up_draft(
                    conn,
                    merchant_id=mid,
                    period=period,
                    upto=upto,
                    cutoff=cutoff,
                    now=now,
                    by=by,
                )
                if done is not None:
                    topped.append(done)
            return topped

        run.topped_up.extend(await db.write(unit))
    return upto


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
                by=by,
                merchant_id=merchant_id,
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
    upto = await _settle_period(
        db, run, period=settled, cutoff=cutoff, now=now, by=by, merchant_id=merchant_id
    )
    left, later = await db.read(
        lambda conn: waiting(
            conn, period=settled, cutoff=cutoff, upto=upto, tz=tz, merchant_id=merchant_id
        )
    )
    return SettleRun(cutoff, run.made, run.topped_up, left, later, upto)
