"""The figures of the finance reports (§6.3): points cost of a month, a statement's lines.

Points consumed in a month, by category and payment method:

* ``credit`` and ``goods``: orders of phone credit / physical goods paid in the
  month and not refunded; money value = the item's face value × quantity (0 for
  goods without one).
* ``merchant``: settlement lines consumed in the month (vouchers verified, POS
  payments); money value = the frozen settlement amount.

Payment method: the order's (§3.5.6: ``points``, ``points_cash``, ``cash``,
``phone_bill``, ``online_bank``) and ``pos_points`` for payments at a merchant's
terminal. For orders paid partly or wholly in money, ``value_cents`` is the part
of the face value the points carried (face value − cash paid, never below 0; 0
without points) and
``cash_cents`` the money paid.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, case, func, literal, select

from core.platform.schema import (
    item,
    settlement_line,
    statement,
)
from core.platform.schema import orders as orders_table
from core.settlement.settlement import period_bounds, period_of

KIND_CATEGORY = {"credit": "credit", "physical": "goods"}
CATEGORIES = ("credit", "goods", "merchant")
NOT_CONSUMED = ("created", "awaiting_otp", "cancelled", "expired", "refunded")


@dataclass(frozen=True)
class CostRow:
    category: str
    method: str
    count: int
    points: int
    value_cents: int
    cash_cents: int = 0


@dataclass(frozen=True)
class LineRow:
    id: int
    consumed_at: int
    source: str
    ref: str
    points: int
    rate_cents: int
    rate_points: int
    amount_cents: int
    item_code: str = ""
    """The voucher's item (empty for a payment at a terminal, which names none)."""
    item_zh: str = ""
    item_en: str = ""


def points_cost(conn: Connection, period: str, tz: ZoneInfo) -> list[CostRow]:
    start, end = period_bounds(period, tz)
    order_method = orders_table.c.pay_method
    face = func.coalesce(item.c.face_value_cents, 0) * orders_table.c.qty
    by_points = case(
        (orders_table.c.points == 0, 0),
        (face > orders_table.c.cash_cents, face - orders_table.c.cash_cents),
        else_=0,
    )
    rows: list[CostRow] = []
    for kind, method, n, points, value, cash in conn.execute(
        select(
            item.c.kind,
            order_method,
            func.count(),
            func.sum(orders_table.c.points),
            func.sum(by_points),
            func.sum(orders_table.c.cash_cents),
        )
        .select_from(orders_table.join(item, item.c.id == orders_table.c.item_id))
        .where(
            and_(
                item.c.kind.in_(tuple(KIND_CATEGORY)),
                orders_table.c.paid_at >= start,
                orders_table.c.paid_at < end,
                orders_table.c.status.not_in(NOT_CONSUMED),
            )
        )
        .group_by(item.c.kind, order_method)
    ):
        rows.append(
            CostRow(KIND_CATEGORY[kind], method, int(n), int(points), int(value), int(cash))
        )
    line_method = case(
        (settlement_line.c.source == "pos", literal("pos_points")),
        else_=func.coalesce(orders_table.c.pay_method, literal("points")),
    )
    for method, n, points, value in conn.execute(
        select(
            line_method,
            func.count(),
            func.sum(settlement_line.c.points),
            func.sum(settlement_line.c.amount_cents),
        )
        .select_from(
            settlement_line.outerjoin(orders_table, orders_table.c.id == settlement_line.c.order_id)
        )
        .where(and_(settlement_line.c.consumed_at >= start, settlement_line.c.consumed_at < end))
        .group_by(line_method)
    ):
        rows.append(CostRow("merchant", method, int(n), int(points), int(value)))
    order = {c: i for i, c in enumerate(CATEGORIES)}
    return sorted(rows, key=lambda r: (order[r.category], r.method))


def statement_lines(conn: Connection, statement_id: int, batch: int = 5000) -> Iterator[LineRow]:
    """The statement's lines in consumption order, streamed ``batch`` rows at a time: its
    merchant's lines numbered in the statement's ``(lines_after, lines_upto]``, each with
    the item its voucher was for (empty strings for a terminal payment)."""
    span = conn.execute(
        select(statement.c.merchant_id, statement.c.lines_after, statement.c.lines_upto).where(
            statement.c.id == statement_id
        )
    ).first()
    if span is None:
        return
    result = conn.execution_options(yield_per=batch).execute(
        select(
            settlement_line.c.id,
            settlement_line.c.consumed_at,
            settlement_line.c.source,
            settlement_line.c.ref,
            settlement_line.c.points,
            settlement_line.c.rate_cents,
            settlement_line.c.rate_points,
            settlement_line.c.amount_cents,
            item.c.code,
            item.c.name_zh,
            item.c.name_en,
        )
        .select_from(
            settlement_line.outerjoin(
                orders_table, orders_table.c.id == settlement_line.c.order_id
            ).outerjoin(item, item.c.id == orders_table.c.item_id)
        )
        .where(
            and_(
                settlement_line.c.merchant_id == span[0],
                settlement_line.c.id > span[1],
                settlement_line.c.id <= span[2],
            )
        )
        .order_by(settlement_line.c.consumed_at, settlement_line.c.id)
    )
    for r in result:
        yield LineRow(
            int(r[0]),
            int(r[1]),
            r[2],
            r[3],
            int(r[4]),
            int(r[5]),
            int(r[6]),
            int(r[7]),
            r[8] or "",
            r[9] or "",
            r[10] or "",
        )


@dataclass(frozen=True)
class MonthFigures:
    """One month of a merchant: ``points`` consumed in it (every voucher verified and till
    payment), of which ``unsettled_points`` are on no statement yet (consumed after an early
    settlement, or not settled yet); and the month's statement: ``statement_points`` and
    ``settled_cents``. The two differ when a statement was made before the month ended."""

    period: str
    points: int
    settled_cents: int
    unsettled_points: int = 0
    statement_points: int = 0


def merchant_months(
    conn: Connection, merchant_id: int, now: int, tz: ZoneInfo, months: int = 12
) -> list[MonthFigures]:
    """Points consumed at the merchant (and how many are not yet settled) and the month's
    statement, for the last ``months`` months (``now``: UTC epoch; months in ``tz``)."""
    periods = [period_of(now, tz)]
    for _ in range(months - 1):
        start, _end = period_bounds(periods[0], tz)
        periods.insert(0, period_of(start - 1, tz))
    settled = {
        str(period): (int(points), int(cents))
        for period, points, cents in conn.execute(
            select(statement.c.period, statement.c.points, statement.c.amount_cents).where(
                and_(statement.c.merchant_id == merchant_id, statement.c.period.in_(periods))
            )
        ).all()
    }
    # On no statement yet: numbered after the merchant's watermark (issue 15 §3).
    upto = conn.execute(
        select(func.coalesce(func.max(statement.c.lines_upto), 0)).where(
            statement.c.merchant_id == merchant_id
        )
    ).scalar_one()
    unsettled = func.coalesce(
        func.sum(case((settlement_line.c.id > int(upto), settlement_line.c.points), else_=0)),
        0,
    )
    figures = []
    for period in periods:
        start, end = period_bounds(period, tz)
        points, open_points = conn.execute(
            select(func.coalesce(func.sum(settlement_line.c.points), 0), unsettled).where(
                and_(
                    settlement_line.c.merchant_id == merchant_id,
                    settlement_line.c.consumed_at >= start,
                    settlement_line.c.consumed_at < end,
                )
            )
        ).one()
        on_statement, cents = settled.get(period, (0, 0))
        figures.append(MonthFigures(period, int(points), cents, int(open_points), on_statement))
    return figures
