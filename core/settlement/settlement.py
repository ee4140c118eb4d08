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

Settling a merchant for a period claims its unsettled lines consumed before the
cutoff (the end of the month in the operator's time zone, or "now" when settled
early) with one conditional ``UPDATE … WHERE statement_id IS NULL``, into the one
statement row that the unique (merchant, period) allows; so concurrent or
repeated runs never put a line into two statements. Lines consumed after an
early settlement of the month go into the next month's statement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Row, and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from core.merchants import merchants
from core.messaging import outbox
from core.platform import audit
from core.platform.db import Database, savepoint
from core.platform.schema import merchant, merchant_rate, settlement_line, statement
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


def merchants_to_settle(conn: Connection, cutoff: int) -> list[int]:
    """Merchants with unsettled lines consumed before ``cutoff``."""
    return [
        int(m)
        for m in conn.execute(
            select(settlement_line.c.merchant_id)
            .where(
                and_(
                    settlement_line.c.statement_id.is_(None),
                    settlement_line.c.consumed_at < cutoff,
                )
            )
            .group_by(settlement_line.c.merchant_id)
            .order_by(settlement_line.c.merchant_id)
        ).scalars()
    ]


class _Empty(Exception):
    """Nothing to claim: the statement row is rolled back."""


def settle_merchant(
    conn: Connection, *, merchant_id: int, period: str, cutoff: int, now: int, by: str
) -> StatementView | None:
    """Make ``merchant_id``'s statement for ``period``; None if it exists or has no lines.

    A unit of work. The statement row is inserted first: of two concurrent runs
    the second waits on the unique (merchant, period) and then finds it taken.
    """
    try:
        with savepoint(conn, "settle"):
            statement_id = int(
                conn.execute(
                    insert(statement)
                    .values(
                        merchant_id=merchant_id,
                        period=period,
                        status="draft",
                        cutoff=cutoff,
                        created_at=now,
                        updated_at=now,
                        updated_by=by[:64],
                    )
                    .returning(statement.c.id)
                ).scalar_one()
            )
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
                raise _Empty
    except (IntegrityError, _Empty):
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
    made = statement_by_id(conn, statement_id)
    assert made is not None
    audit.record(
        conn,
        actor_kind="operator",
        actor=by,
        action="statement_draft",
        subject=f"statement:{statement_id}",
        result="draft",
        now=now,
        details={"period": period, "lines": made.lines, "amount_cents": made.amount_cents},
    )
    _tell_merchant(conn, made, now)
    return made


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
    """Settle ``period`` (or, ``early``, the current month up to now); one unit per merchant.

    Returns the statements made by this run; running it again makes none.
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
    if merchant_code is not None:
        shop = await db.read(lambda conn: merchants.find_merchant(conn, merchant_code))
        candidates = [shop.id]
    else:
        candidates = await db.read(lambda conn: merchants_to_settle(conn, cutoff))
    made: list[StatementView] = []
    for merchant_id in candidates:

        def unit(conn: Connection, merchant_id: int = merchant_id) -> StatementView | None:
            return settle_merchant(
                conn, merchant_id=merchant_id, period=settled, cutoff=cutoff, now=now, by=by
            )

        result = await db.write(unit)
        if result is not None:
            made.append(result)
    return made
