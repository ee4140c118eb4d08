"""Settlement (§6.3, issue 6): contract rates, lines frozen at consumption, monthly statements.

A **settlement line** is written in the same transaction as the voucher
verification or POS payment that consumed the points (``record_line``). It keeps
the points, the merchant's contract rate *at that moment* and the amount, so a
later rate change never rewrites history.

Rates are rationals of integers: ``cents`` per ``points`` (the CLI sets cents per
1,000 points). **Rounding**: each line's amount is rounded half up to a whole
cent, ``amount = (points × cents × 2 + rate_points) // (2 × rate_points)``; a
statement's amount is the sum of its lines' amounts (never re-rounded). A
merchant without a contract rate gets lines at 0 cents (the points still count).

Settling a period works by **watermark** (issue 15 §3), not by claiming line by line:

1. one short unit picks ``W``, the highest line id such that every line numbered up to it
   was consumed before the cutoff (the end of the month in the operator's time zone, or
   "now" when settled early): the line before the first consumed at or after the
   cutoff, else the last line. On PostgreSQL it first takes ``SHARE`` lock on the lines
   for that instant, so every transaction that may still add a line below ``W`` has
   ended and every later line is numbered above it (a sequence only grows); on SQLite
   the one writer makes that so already;
2. one read sums each merchant's lines after its previous statement's ``lines_upto`` up
   to ``W`` (lines are never changed once written, so a read sees what the statement
   will cover);
3. one unit inserts every merchant's statement ``(lines_after, lines_upto] =
   (previous, W]`` with those sums, then audits each and texts the merchant's staff.

Exactly once holds by constraints, whatever runs at the same time: a merchant has one
statement per period and no two statements starting after the same line
(``UNIQUE (merchant_id, lines_after)``), so of two runs that read the same previous
watermark one inserts and the other's insert does nothing. ``settle`` alone puts a line
consumed after an early settlement of the month, or numbered after a line consumed past
the cutoff, into the next statement; ``core.settlement.runs`` (``settle --now``, the
monthly job) first lets a merchant's latest statement take such lines while it is still
a draft, by moving its ``lines_upto`` up. So that a draft moved up and a new statement
never cover the same lines, ``make_statements`` locks the merchant's drafts and reads
each merchant's watermark again inside its unit (and starts there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, Row, Subquery, and_, func, insert, select

from core.merchants import merchants
from core.messaging import outbox
from core.platform import audit
from core.platform.db import Database
from core.platform.schema import merchant, merchant_rate, settlement_line, statement
from core.platform.sql import for_update, insert_ignoring
from core.settlement import texts as settlement_texts
from core.settlement.errors import BadPeriod, BadRate, PeriodNotOver

PER_THOUSAND = 1000
_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Rate:
    cents: int
    points: int

    def amount(self, points: int) -> int:
        """Cents for ``points`` at this rate, rounded half up (see the module notes)."""
        return (points * self.cents * 2 + self.points) // (2 * self.points)


NO_RATE = Rate(0, PER_THOUSAND)


@dataclass(frozen=True)
class StatementView:
    id: int
    merchant_id: int
    merchant_code: str
    merchant_zh: str
    merchant_en: str
    period: str
    status: str
    lines: int
    points: int
    amount_cents: int
    reason: str | None
    cutoff: int
    created_at: int
    updated_at: int
    updated_by: str

    def merchant_name(self, lang: str) -> str:
        return self.merchant_en if lang == "en" else self.merchant_zh


# ------------------------------------------------------------------------ periods


def period_bounds(period: str, tz: ZoneInfo) -> tuple[int, int]:
    """[start, end) of the month ``period`` (YYYY-MM) in ``tz``, as Unix seconds."""
    match = _PERIOD.match(period)
    if match is None:
        raise BadPeriod(period)
    year, month = int(match.group(1)), int(match.group(2))
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
    return int(start.timestamp()), int(end.timestamp())


def period_of(now: int, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(now, tz).strftime("%Y-%m")


def previous_period(now: int, tz: ZoneInfo) -> str:
    start, _ = period_bounds(period_of(now, tz), tz)
    return period_of(start - 1, tz)


# -------------------------------------------------------------------------- rates


def set_rate(
    conn: Connection, code: str, cents: int, by: str, now: int, points: int = PER_THOUSAND
) -> Rate:
    """Set merchant ``code``'s contract rate from now on (earlier lines keep theirs)."""
    if cents < 0 or points <= 0:
        raise BadRate(cents, points)
    shop = merchants.find_merchant(conn, code)
    conn.execute(
        insert(merchant_rate).values(
            merchant_id=shop.id, cents=cents, points=points, set_by=by[:64], set_at=now
        )
    )
    audit.record(
        conn,
        actor_kind="operator",
        actor=by,
        action="merchant_rate",
        subject=f"merchant:{shop.code}",
        result="ok",
        now=now,
        details={"cents": cents, "points": points},
    )
    return Rate(cents, points)


def current_rate(conn: Connection, merchant_id: int) -> Rate:
    row = conn.execute(
        select(merchant_rate.c.cents, merchant_rate.c.points)
        .where(merchant_rate.c.merchant_id == merchant_id)
        .order_by(merchant_rate.c.id.desc())
        .limit(1)
    ).first()
    return NO_RATE if row is None else Rate(int(row[0]), int(row[1]))


@dataclass(frozen=True)
class RateChange:
    """One contract rate as it was set: ``cents`` per ``points``, from ``set_at`` (UTC epoch)."""

    cents: int
    points: int
    set_by: str
    set_at: int


def rate_history(conn: Connection, merchant_id: int) -> list[RateChange]:
    """Every rate the merchant had, newest (the current one) first."""
    rows = conn.execute(
        select(
            merchant_rate.c.cents,
            merchant_rate.c.points,
            merchant_rate.c.set_by,
            merchant_rate.c.set_at,
        )
        .where(merchant_rate.c.merchant_id == merchant_id)
        .order_by(merchant_rate.c.id.desc())
    ).all()
    return [RateChange(int(r[0]), int(r[1]), r[2], int(r[3])) for r in rows]


# -------------------------------------------------------------------------- lines


def record_line(
    conn: Connection,
    *,
    merchant_id: int,
    source: str,
    ref: str,
    points: int,
    now: int,
    order_id: int | None = None,
) -> int:
    """Freeze one settlement line at the merchant's current rate; returns its amount in cents.

    Call it inside the unit of work that consumes the points, once per ``ref``.
    Nothing is recorded for zero points (an order that cost none settles nothing).
    """
    if points <= 0:
        return 0
    rate = current_rate(conn, merchant_id)
    amount = rate.amount(points)
    conn.execute(
        insert(settlement_line).values(
            merchant_id=merchant_id,
            source=source,
            ref=ref,
            order_id=order_id,
            points=points,
            rate_cents=rate.cents,
            rate_points=rate.points,
            amount_cents=amount,
            consumed_at=now,
        )
    )
    return amount


# ---------------------------------------------------------------------- statements

_VIEW = select(
    statement.c.id,
    statement.c.merchant_id,
    merchant.c.code,
    merchant.c.name_zh,
    merchant.c.name_en,
    statement.c.period,
    statement.c.status,
    statement.c.lines,
    statement.c.points,
    statement.c.amount_cents,
    statement.c.reason,
    statement.c.cutoff,
    statement.c.created_at,
    statement.c.updated_at,
    statement.c.updated_by,
).select_from(statement.join(merchant, merchant.c.id == statement.c.merchant_id))


def _view(r: Row[*tuple[Any, ...]]) -> StatementView:
    return StatementView(
        int(r[0]),
        int(r[1]),
        r[2],
        r[3],
        r[4],
        r[5],
        r[6],
        int(r[7]),
        int(r[8]),
        int(r[9]),
        r[10],
        int(r[11]),
        int(r[12]),
        int(r[13]),
        r[14],
    )


def statement_by_id(conn: Connection, statement_id: int) -> StatementView | None:
    row = conn.execute(_VIEW.where(statement.c.id == statement_id)).first()
    return None if row is None else _view(row)


def statements(
    conn: Connection, *, period: str | None = None, merchant_code: str | None = None
) -> list[StatementView]:
    query = _VIEW.order_by(statement.c.period, merchant.c.code)
    if period is not None:
        query = query.where(statement.c.period == period)
    if merchant_code is not None:
        query = query.where(merchant.c.code == merchant_code)
    return [_view(row) for row in conn.execute(query)]


@dataclass(frozen=True)
class Due:
    """What one merchant's statement will cover: its lines with ids in ``(after, upto]``,
    how many, their points and their amount in cents."""

    merchant_id: int
    after: int
    upto: int
    lines: int
    points: int
    amount_cents: int


def watermark(conn: Connection, cutoff: int) -> int:
    """The highest line id below which every line was consumed before ``cutoff`` (UTC
    epoch seconds), and below which no line can still appear. A unit of work of its own:
    on PostgreSQL it holds a ``SHARE`` lock on the lines until it commits (a moment)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("LOCK TABLE settlement_line IN SHARE MODE")
    first_after = conn.execute(
        select(func.min(settlement_line.c.id)).where(settlement_line.c.consumed_at >= cutoff)
    ).scalar()
    if first_after is not None:
        return int(first_after) - 1
    return int(conn.execute(select(func.coalesce(func.max(settlement_line.c.id), 0))).scalar_one())


def settled_upto() -> Subquery:
    """``(merchant_id, upto)``: each merchant's watermark so far, the highest
    ``lines_upto`` of its statements (a merchant with none has no row: 0). A merchant's
    line is settled exactly when its id is at most that."""
    return (
        select(statement.c.merchant_id, func.max(statement.c.lines_upto).label("upto"))
        .group_by(statement.c.merchant_id)
        .subquery("settled")
    )


def _previous(conn: Connection, merchant_id: int | None) -> dict[int, int]:
    """Each merchant's watermark so far (where its last statement ended; 0 before its
    first), for every merchant or only ``merchant_id``."""
    prev = settled_upto()
    query = select(merchant.c.id, func.coalesce(prev.c.upto, 0)).select_from(
        merchant.outerjoin(prev, prev.c.merchant_id == merchant.c.id)
    )
    if merchant_id is not None:
        query = query.where(merchant.c.id == merchant_id)
    return {int(m): int(w) for m, w in conn.execute(query)}


def range_totals(conn: Connection, merchant_id: int, after: int, upto: int) -> tuple[int, int, int]:
    """``(lines, points, cents)`` of ``merchant_id``'s lines numbered in ``(after, upto]``
    (line ids; points and cents are integers)."""
    line = settlement_line
    n, points, cents = conn.execute(
        select(
            func.count(),
            func.coalesce(func.sum(line.c.points), 0),
            func.coalesce(func.sum(line.c.amount_cents), 0),
        ).where(and_(line.c.merchant_id == merchant_id, line.c.id > after, line.c.id <= upto))
    ).one()
    return int(n), int(points), int(cents)


IN_LIST = 500
"""Merchants named in one ``IN (…)`` of the sums, when not every merchant shares a start."""


def due(conn: Connection, upto: int, merchant_id: int | None = None) -> list[Due]:
    """Per merchant (or only ``merchant_id``), its lines after its watermark up to ``upto``
    (a line id): how many, their points and amounts.

    Merchants settled by the same run share their watermark, so the lines are summed in
    one pass per distinct watermark, a range of line ids (normally one pass in all).
    """
    starts: dict[int, list[int]] = {}
    previous = _previous(conn, merchant_id)
    for shop, after in previous.items():
        if after < upto:
            starts.setdefault(after, []).append(shop)
    line = settlement_line
    owed: list[Due] = []
    for after, shops in sorted(starts.items()):
        sums = (
            select(
                line.c.merchant_id,
                func.count(),
                func.sum(line.c.points),
                func.sum(line.c.amount_cents),
            )
            .where(and_(line.c.id > after, line.c.id <= upto))
            .group_by(line.c.merchant_id)
        )
        every = len(shops) == len(previous) and merchant_id is None
        for i in range(0, 1 if every else len(shops), IN_LIST):
            query = sums if every else sums.where(line.c.merchant_id.in_(shops[i : i + IN_LIST]))
            owed += [
                Due(int(m), after, upto, int(n), int(p), int(c))
                for m, n, p, c in conn.execute(query)
            ]
    return sorted(owed, key=lambda d: d.merchant_id)


def unsettled(conn: Connection, merchant_id: int | None = None) -> list[ColumnElement[bool]]:
    """Conditions on ``settlement_line`` that together pick exactly the lines no statement
    covers yet (numbered after their merchant's watermark), of every merchant or only
    ``merchant_id``: one per group of merchants sharing a watermark, ``id > w AND
    merchant_id IN (…)`` (just ``id > w`` when every merchant shares it). Each is a
    range of the primary key or of ``(merchant_id, id)``, so a merchant settled long ago
    costs no scan of the lines since."""
    starts: dict[int, list[int]] = {}
    previous = _previous(conn, merchant_id)
    for shop, after in previous.items():
        starts.setdefault(after, []).append(shop)
    line = settlement_line
    if len(starts) == 1 and merchant_id is None:
        return [line.c.id > next(iter(starts))]
    return [
        and_(line.c.id > after, line.c.merchant_id.in_(shops[i : i + IN_LIST]))
        for after, shops in sorted(starts.items())
        for i in range(0, len(shops), IN_LIST)
    ]


def make_statements(
    conn: Connection, *, owed: list[Due], period: str, cutoff: int, now: int, by: str
) -> list[StatementView]:
    """Insert the statements of ``owed``, but none whose merchant already has one for
    ``period`` or one starting after the same line; audit and text each one made.

    A unit of work. Each statement starts where its merchant's watermark stands inside
    this unit (``as_of_now``), not where ``owed`` read it: a draft may have been moved
    up since (``core.settlement.runs``)."""
    owed = as_of_now(conn, owed)
    if not owed:
        return []
    made_ids = (
        conn.execute(
            insert_ignoring(conn, statement)
            .values(
                [
                    {
                        "merchant_id": o.merchant_id,
                        "period": period,
                        "status": "draft",
                        "cutoff": cutoff,
                        "lines": o.lines,
                        "points": o.points,
                        "amount_cents": o.amount_cents,
                        "lines_after": o.after,
                        "lines_upto": o.upto,
                        "created_at": now,
                        "updated_at": now,
                        "updated_by": by[:64],
                    }
                    for o in owed
                ]
            )
            .returning(statement.c.id)
        )
        .scalars()
        .all()
    )
    if not made_ids:
        return []
    made = [
        _view(r)
        for r in conn.execute(
            _VIEW.where(statement.c.id.in_([int(i) for i in made_ids])).order_by(merchant.c.code)
        )
    ]
    for view in made:
        audit.record(
            conn,
            actor_kind="operator",
            actor=by,
            action="statement_draft",
            subject=f"statement:{view.id}",
            result="draft",
            now=now,
            details={"period": period, "lines": view.lines, "amount_cents": view.amount_cents},
        )
        _tell_merchant(conn, view, now)
    return made


def as_of_now(conn: Connection, owed: list[Due]) -> list[Due]:
    """``owed`` restarted from each merchant's watermark as it stands in this unit.

    For the merchants that already have a statement, first locks their drafts
    (PostgreSQL ``FOR UPDATE``, in merchant and id order; SQLite's one writer needs no
    lock): a run moving a draft up (``runs.top_up_draft``) has then either committed, and
    the watermark read next sees it, or waits for this unit and then finds the statement
    this unit made after its draft, and leaves the draft alone. A merchant whose
    watermark moved gets the sums of its lines from there up to ``Due.upto`` (none when
    it moved that far already).
    """
    guarded = sorted({o.merchant_id for o in owed if o.after > 0})
    if not guarded:
        return owed
    latest: dict[int, int] = {}
    for i in range(0, len(guarded), IN_LIST):
        chunk = guarded[i : i + IN_LIST]
        if for_update(conn):
            conn.execute(
                select(statement.c.id)
                .where(and_(statement.c.merchant_id.in_(chunk), statement.c.status == "draft"))
                .order_by(statement.c.merchant_id, statement.c.id)
                .with_for_update()
            ).all()
        prev = settled_upto()
        latest.update(
            (int(m), int(w))
            for m, w in conn.execute(select(prev).where(prev.c.merchant_id.in_(chunk)))
        )
    fresh = []
    for o in owed:
        start = latest.get(o.merchant_id, 0) if o.after > 0 else 0
        if start == o.after:
            fresh.append(o)
        elif start < o.upto:
            n, points, cents = range_totals(conn, o.merchant_id, start, o.upto)
            if n:
                fresh.append(Due(o.merchant_id, start, o.upto, n, points, cents))
    return fresh


def _tell_merchant(conn: Connection, made: StatementView, now: int) -> None:
    for phone in merchants.staff_phones(conn, made.merchant_id):
        lang = "zh" if phone.startswith("+86") else "en"
        outbox.enqueue(
            conn,
            key=f"statement:{made.id}:draft:{phone}",
            recipient=phone,
            text=settlement_texts.statement_summary(lang, made),
            now=now,
        )


async def settle(
    db: Database,
    *,
    period: str | None,
    now: int,
    tz: ZoneInfo,
    by: str,
    merchant_code: str | None = None,
    early: bool = False,
) -> list[StatementView]:
    """Settle ``period`` (YYYY-MM; or, ``early``, the current month up to ``now``, UTC epoch
    seconds): pick the watermark, sum what each merchant is owed in one read, then make
    the statements in one unit (see the module notes).

    Returns the statements made by this run; running it again makes none, and of runs at
    the same time each statement is made by one. Raises ``BadPeriod``, ``PeriodNotOver``,
    ``UnknownMerchant`` (``merchant_code``).
    """
    if early:
        period = period_of(now, tz)
        cutoff = min(now + 1, period_bounds(period, tz)[1])
    else:
        if period is None:
            raise BadPeriod("")
        cutoff = period_bounds(period, tz)[1]
        if cutoff > now:
            raise PeriodNotOver(period)
    settled: str = period
    merchant_id = None
    if merchant_code is not None:
        shop = await db.read(lambda conn: merchants.find_merchant(conn, merchant_code))
        merchant_id = shop.id
    upto = await db.write(lambda conn: watermark(conn, cutoff))
    owed = await db.read(lambda conn: due(conn, upto, merchant_id))
    return await db.write(
        lambda conn: make_statements(conn, owed=owed, period=settled, cutoff=cutoff, now=now, by=by)
    )
