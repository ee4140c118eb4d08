"""The monthly reconciliation report (§6.2, §6.3; issue 16 §3): ledger and money, tied out.

For a month (operator time zone, ``[start, end)`` in UTC epoch seconds) the report has

* **points rows** whose ``points`` sum to the ledger's movement of the month, the
  sum of every entry created in it (= closing − opening balance of all accounts):
  ``earned`` (the billing feed), ``redeemed_*`` by what was redeemed (phone credit,
  goods, merchant vouchers split by the voucher's state at the month's end — used,
  **unused (a liability: the operator still owes the service)**, expired, refunded —
  payments at merchants' terminals, anything else), ``refunded``, ``expired``,
  ``adjusted_up`` and ``adjusted_down``. ``count`` is the number of ledger entries.
* **money rows**, one per payment method that takes money (§3.5.6), whose
  ``captured_cents`` and ``refunded_cents`` sum to what the payment gateway captured
  and refunded in the month (the saga's ``cash_succeeded`` and ``cash_refunded``
  steps, whole cents). ``count`` is the number of charges captured.
* **check rows** that restate the month from other sides: the ledger's opening and
  closing balance, the voucher liability rolled forward (opening + issued − used −
  expired − refunded = closing, by voucher and order data, not by the ledger), and the
  settlement lines consumed in the month (points and the merchants' amounts).

A voucher's state at a moment is decided by the first of its end events: verified
(``voucher.verified_at``), refunded (the order's move to ``refunded`` before the
voucher's date) or expired (``voucher.expires_at``); an event counts when it happened
before the moment. Integers only: points and cents.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, case, func, literal, select

from core.platform.schema import (
    entry,
    item,
    order_event,
    payment_saga,
    payment_step,
    settlement_line,
    voucher,
)
from core.platform.schema import orders as orders_table
from core.settlement.settlement import period_bounds

POINTS, MONEY = "points", "money"
BALANCE, VOUCHERS, SETTLEMENT = "balance", "vouchers", "settlement"
VOUCHER_ENDS = ("used", "unused", "expired", "refunded")
POINT_ROWS = (
    "earned",
    "redeemed_credit",
    "redeemed_goods",
    *(f"redeemed_voucher_{end}" for end in VOUCHER_ENDS),
    "redeemed_pos",
    "redeemed_other",
    "refunded",
    "expired",
    "adjusted_up",
    "adjusted_down",
)
MONEY_METHODS = ("points_cash", "cash", "phone_bill", "online_bank")
CHECK_ROWS = (
    "balance_opening",
    "balance_closing",
    "vouchers_opening",
    "vouchers_issued",
    "vouchers_used",
    "vouchers_expired",
    "vouchers_refunded",
    "vouchers_closing",
    "settlement_voucher",
    "settlement_pos",
)


@dataclass(frozen=True)
class Line:
    """One row of the report. Points are signed (a redemption is negative); cents ≥ 0."""

    section: str
    code: str
    count: int = 0
    points: int = 0
    captured_cents: int = 0
    refunded_cents: int = 0
    merchant_cents: int = 0


@dataclass(frozen=True)
class Reconciliation:
    period: str
    start: int
    end: int
    lines: tuple[Line, ...]
    """Points rows then money rows: their columns sum to ``total``."""
    checks: tuple[Line, ...]

    @property
    def total(self) -> Line:
        return Line(
            "total",
            "total",
            sum(r.count for r in self.lines),
            sum(r.points for r in self.lines),
            sum(r.captured_cents for r in self.lines),
            sum(r.refunded_cents for r in self.lines),
        )

    def check(self, code: str) -> Line:
        return next(r for r in self.checks if r.code == code)

    def line(self, code: str) -> Line:
        return next(r for r in self.lines if r.code == code)


def _in(column: Any, start: int, end: int) -> Any:
    return and_(column >= start, column < end)


# ------------------------------------------------------------------- vouchers


def _refunded_at() -> Any:
    """When each refunded order moved to ``refunded`` (its order_event)."""
    return (
        select(order_event.c.order_id, func.min(order_event.c.at).label("at"))
        .where(order_event.c.to_status == "refunded")
        .group_by(order_event.c.order_id)
        .subquery("refunded_at")
    )


def _voucher_life(*where: Any) -> Any:
    """One row per issued voucher (of those ``where`` keeps): its order, points, when it was
    issued, how and when it ended."""
    refunded = _refunded_at()
    refund_first = and_(refunded.c.at.is_not(None), refunded.c.at < voucher.c.expires_at)
    end_kind = case(
        (voucher.c.verified_at.is_not(None), literal("used")),
        (refund_first, literal("refunded")),
        else_=literal("expired"),
    )
    end_at = case(
        (voucher.c.verified_at.is_not(None), voucher.c.verified_at),
        (refund_first, refunded.c.at),
        else_=voucher.c.expires_at,
    )
    return (
        select(
            orders_table.c.id.label("order_id"),
            orders_table.c.points.label("points"),
            orders_table.c.paid_at.label("issued_at"),
            end_kind.label("end_kind"),
            end_at.label("end_at"),
        )
        .select_from(
            voucher.join(orders_table, orders_table.c.id == voucher.c.order_id).outerjoin(
                refunded, refunded.c.order_id == voucher.c.order_id
            )
        )
        .where(orders_table.c.paid_at.is_not(None), *where)
        .subquery("voucher_life")
    )


def _voucher_checks(conn: Connection, start: int, end: int) -> list[Line]:
    # A voucher ends no later than its date, so one that expired before the month is out.
    life = _voucher_life(orders_table.c.paid_at < end, voucher.c.expires_at >= start)

    def tally(condition: Any, sign: int = 1) -> tuple[Any, Any]:
        return (
            func.coalesce(func.sum(case((condition, 1), else_=0)), 0),
            func.coalesce(func.sum(case((condition, sign * life.c.points), else_=0)), 0),
        )

    def ended(kind: str) -> Any:
        return and_(life.c.end_kind == kind, _in(life.c.end_at, start, end))

    columns = {
        "vouchers_opening": tally(and_(life.c.issued_at < start, life.c.end_at >= start)),
        "vouchers_issued": tally(_in(life.c.issued_at, start, end)),
        "vouchers_used": tally(ended("used"), -1),
        "vouchers_expired": tally(ended("expired"), -1),
        "vouchers_refunded": tally(ended("refunded"), -1),
        "vouchers_closing": tally(life.c.end_at >= end),
    }
    row = conn.execute(select(*(c for pair in columns.values() for c in pair))).one()
    return [
        Line(VOUCHERS, code, int(row[2 * i]), int(row[2 * i + 1])) for i, code in enumerate(columns)
    ]


# ---------------------------------------------------------------------- ledger


def _redemptions(conn: Connection, start: int, end: int) -> dict[str, tuple[int, int]]:
    """The month's redeem entries of orders, by row code (the rest is ``redeemed_other``)."""
    life = _voucher_life(_in(orders_table.c.paid_at, start, end))
    pay_key = literal("order:") + orders_table.c.no + literal(":pay")
    ended = case((life.c.end_at < end, life.c.end_kind), else_=literal("unused"))
    found: dict[str, tuple[int, int]] = {}
    for kind, how, n, points in conn.execute(
        select(item.c.kind, ended, func.count(), func.sum(entry.c.amount))
        .select_from(
            entry.join(orders_table, entry.c.idempotency_key == pay_key)
            .join(item, item.c.id == orders_table.c.item_id)
            .outerjoin(life, life.c.order_id == orders_table.c.id)
        )
        .where(
            and_(
                entry.c.kind == "redeem",
                entry.c.source == "order",
                _in(entry.c.created_at, start, end),
            )
        )
        .group_by(item.c.kind, ended)
    ):
        if kind == "voucher":
            code = f"redeemed_voucher_{how or 'unused'}"
        else:
            code = {"credit": "redeemed_credit", "physical": "redeemed_goods"}.get(
                kind, "redeemed_other"
            )
        count, total = found.get(code, (0, 0))
        found[code] = (count + int(n), total + int(points))
    return found


def _point_lines(conn: Connection, start: int, end: int) -> list[Line]:
    sign = case((entry.c.amount > 0, literal("up")), else_=literal("down"))
    by_kind: dict[tuple[str, str, str], tuple[int, int]] = {
        (str(kind), str(source), str(way)): (int(n), int(points))
        for kind, source, way, n, points in conn.execute(
            select(entry.c.kind, entry.c.source, sign, func.count(), func.sum(entry.c.amount))
            .where(_in(entry.c.created_at, start, end))
            .group_by(entry.c.kind, entry.c.source, sign)
        )
    }

    def total(**match: str) -> tuple[int, int]:
        n = points = 0
        for (kind, source, way), (count, amount) in by_kind.items():
            key = {"kind": kind, "source": source, "way": way}
            if all(key[k] == v for k, v in match.items()):
                n, points = n + count, points + amount
        return n, points

    found = _redemptions(conn, start, end)
    found.pop("redeemed_other", None)  # whatever is not classified, counted once below
    found["redeemed_pos"] = total(kind="redeem", source="pos")
    redeemed = total(kind="redeem")
    found["redeemed_other"] = (
        redeemed[0] - sum(n for n, _ in found.values()),
        redeemed[1] - sum(p for _, p in found.values()),
    )
    found["earned"] = total(kind="earn")
    found["refunded"] = total(kind="refund")
    found["expired"] = total(kind="expire")
    found["adjusted_up"] = total(kind="adjust", way="up")
    found["adjusted_down"] = total(kind="adjust", way="down")
    return [Line(POINTS, code, *found.get(code, (0, 0))) for code in POINT_ROWS]


def _money_lines(conn: Connection, start: int, end: int) -> list[Line]:
    def by_method(step: str) -> dict[str, tuple[int, int]]:
        return {
            str(method): (int(n), int(cents))
            for method, n, cents in conn.execute(
                select(payment_saga.c.method, func.count(), func.sum(payment_saga.c.amount_cents))
                .select_from(
                    payment_step.join(payment_saga, payment_saga.c.id == payment_step.c.saga_id)
                )
                .where(and_(payment_step.c.step == step, _in(payment_step.c.at, start, end)))
                .group_by(payment_saga.c.method)
            )
        }

    captured, refunded = by_method("cash_succeeded"), by_method("cash_refunded")
    methods = [*MONEY_METHODS, *sorted((set(captured) | set(refunded)) - set(MONEY_METHODS))]
    return [
        Line(
            MONEY,
            f"money_{method}",
            captured.get(method, (0, 0))[0],
            0,
            captured.get(method, (0, 0))[1],
            refunded.get(method, (0, 0))[1],
        )
        for method in methods
    ]


def _balance_checks(conn: Connection, start: int, end: int) -> list[Line]:
    def balance(before: int) -> tuple[int, int]:
        n, points = conn.execute(
            select(func.count(), func.coalesce(func.sum(entry.c.amount), 0)).where(
                entry.c.created_at < before
            )
        ).one()
        return int(n), int(points)

    return [
        Line(BALANCE, "balance_opening", *balance(start)),
        Line(BALANCE, "balance_closing", *balance(end)),
    ]


def _settlement_checks(conn: Connection, start: int, end: int) -> list[Line]:
    found = {
        str(source): (int(n), int(points), int(cents))
        for source, n, points, cents in conn.execute(
            select(
                settlement_line.c.source,
                func.count(),
                func.sum(settlement_line.c.points),
                func.sum(settlement_line.c.amount_cents),
            )
            .where(_in(settlement_line.c.consumed_at, start, end))
            .group_by(settlement_line.c.source)
        )
    }
    rows = []
    for source in ("voucher", "pos"):
        n, points, cents = found.get(source, (0, 0, 0))
        rows.append(Line(SETTLEMENT, f"settlement_{source}", n, points, merchant_cents=cents))
    return rows


def reconcile(conn: Connection, period: str, tz: ZoneInfo) -> Reconciliation:
    """The reconciliation of ``period`` (YYYY-MM in ``tz``); raises ``BadPeriod``.

    Every figure is an integer (points, cents); see the module notes for what each
    row counts and what the rows sum to.
    """
    start, end = period_bounds(period, tz)
    lines = _point_lines(conn, start, end) + _money_lines(conn, start, end)
    checks = (
        _balance_checks(conn, start, end)
        + _voucher_checks(conn, start, end)
        + _settlement_checks(conn, start, end)
    )
    return Reconciliation(period, start, end, tuple(lines), tuple(checks))
