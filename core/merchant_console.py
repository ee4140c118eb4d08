"""What a merchant's console reads, always scoped to one merchant (§3.4.3, §3.4.4).

Every query here takes the merchant's id and filters by it, so a page can never
show another merchant's orders, vouchers, statements, staff or goods; a row of
another merchant looked up by id is reported as absent (``None``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, func, select

from core import merchant_goods, merchants
from core.catalog_admin import ItemSpec
from core.schema import (
    category,
    item,
    merchant_staff,
    settlement_line,
    statement,
    subscriber,
    voucher,
)
from core.schema import orders as orders_table
from core.settlement import StatementView, period_bounds, period_of, statement_by_id

VOUCHER_STATUSES = ("issued", "verified", "locked", "expired", "refunded")
PAGE_SIZE = 20


@dataclass(frozen=True)
class VoucherLine:
    no: str
    created_at: int
    item_zh: str
    item_en: str
    qty: int
    points: int
    order_status: str
    voucher_status: str
    expires_at: int
    verified_at: int | None
    customer: str

    def item(self, lang: str) -> str:
        return self.item_en if lang == "en" else self.item_zh


@dataclass(frozen=True)
class VoucherPage:
    lines: list[VoucherLine]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class MonthFigures:
    period: str
    points: int
    settled_cents: int


@dataclass(frozen=True)
class GoodsLine:
    code: str
    name_zh: str
    name_en: str
    points: int
    stock: int | None
    review: str | None
    note: str | None
    active: bool


def mask(msisdn: str) -> str:
    """A customer's number as the merchant sees it: +86138****8000."""
    return msisdn[:-8] + "****" + msisdn[-4:] if len(msisdn) > 8 else "****"


def vouchers(
    conn: Connection,
    merchant_id: int,
    *,
    status: str | None = None,
    start: int | None = None,
    end: int | None = None,
    page: int = 1,
    size: int = PAGE_SIZE,
) -> VoucherPage:
    """The merchant's voucher orders, newest first, filtered by voucher status and
    ``[start, end)`` of the order's creation time."""
    conditions = [voucher.c.merchant_id == merchant_id]
    if status in VOUCHER_STATUSES:
        conditions.append(voucher.c.status == status)
    if start is not None:
        conditions.append(orders_table.c.created_at >= start)
    if end is not None:
        conditions.append(orders_table.c.created_at < end)
    joined = (
        voucher.join(orders_table, orders_table.c.id == voucher.c.order_id)
        .join(item, item.c.id == orders_table.c.item_id)
        .join(subscriber, subscriber.c.id == orders_table.c.subscriber_id)
    )
    total = int(
        conn.execute(select(func.count()).select_from(joined).where(*conditions)).scalar_one()
    )
    pages = max(1, -(-total // size))
    page = min(max(1, page), pages)
    rows = conn.execute(
        select(
            orders_table.c.no,
            orders_table.c.created_at,
            item.c.name_zh,
            item.c.name_en,
            orders_table.c.qty,
            orders_table.c.points,
            orders_table.c.status,
            voucher.c.status,
            voucher.c.expires_at,
            voucher.c.verified_at,
            subscriber.c.msisdn,
        )
        .select_from(joined)
        .where(*conditions)
        .order_by(orders_table.c.created_at.desc(), orders_table.c.id.desc())
        .limit(size)
        .offset((page - 1) * size)
    ).all()
    lines = [
        VoucherLine(
            r[0],
            int(r[1]),
            r[2],
            r[3],
            int(r[4]),
            int(r[5]),
            r[6],
            r[7],
            int(r[8]),
            None if r[9] is None else int(r[9]),
            mask(r[10]),
        )
        for r in rows
    ]
    return VoucherPage(lines, total, page, pages)


def statements_of(conn: Connection, merchant_id: int) -> list[StatementView]:
    ids = conn.execute(
        select(statement.c.id)
        .where(statement.c.merchant_id == merchant_id)
        .order_by(statement.c.period.desc())
    ).scalars()
    found = [statement_by_id(conn, int(i)) for i in ids]
    return [s for s in found if s is not None]


def statement_of(conn: Connection, merchant_id: int, statement_id: int) -> StatementView | None:
    """The statement if it is this merchant's; None otherwise (as if it did not exist)."""
    found = statement_by_id(conn, statement_id)
    return found if found is not None and found.merchant_id == merchant_id else None


def monthly(
    conn: Connection, merchant_id: int, now: int, tz: ZoneInfo, months: int = 12
) -> list[MonthFigures]:
    """Points consumed at the merchant and amounts settled, for the last ``months`` months."""
    periods = [period_of(now, tz)]
    for _ in range(months - 1):
        start, _end = period_bounds(periods[0], tz)
        periods.insert(0, period_of(start - 1, tz))
    settled = dict(
        conn.execute(
            select(statement.c.period, statement.c.amount_cents).where(
                and_(statement.c.merchant_id == merchant_id, statement.c.period.in_(periods))
            )
        ).all()
    )
    figures = []
    for period in periods:
        start, end = period_bounds(period, tz)
        points = conn.execute(
            select(func.coalesce(func.sum(settlement_line.c.points), 0)).where(
                and_(
                    settlement_line.c.merchant_id == merchant_id,
                    settlement_line.c.consumed_at >= start,
                    settlement_line.c.consumed_at < end,
                )
            )
        ).scalar_one()
        figures.append(MonthFigures(period, int(points), int(settled.get(period, 0))))
    return figures


def staff_of(conn: Connection, merchant_id: int) -> list[tuple[str, str]]:
    """Active staff phones and roles, owners first."""
    return [
        (r[0], r[1])
        for r in conn.execute(
            select(merchant_staff.c.msisdn, merchant_staff.c.role)
            .where(
                and_(merchant_staff.c.merchant_id == merchant_id, merchant_staff.c.active.is_(True))
            )
            .order_by(merchant_staff.c.role, merchant_staff.c.id)
        ).all()
    ]


def goods_of(conn: Connection, merchant_id: int) -> list[GoodsLine]:
    return [
        GoodsLine(r[0], r[1], r[2], int(r[3]), None if r[4] is None else int(r[4]), *r[5:8])
        for r in conn.execute(
            select(
                item.c.code,
                item.c.name_zh,
                item.c.name_en,
                item.c.points,
                item.c.stock,
                item.c.review,
                item.c.review_note,
                item.c.active,
            )
            .where(item.c.merchant_id == merchant_id)
            .order_by(item.c.code)
        ).all()
    ]


def categories(conn: Connection) -> list[tuple[str, str, str]]:
    return [
        (r[0], r[1], r[2])
        for r in conn.execute(
            select(category.c.code, category.c.name_zh, category.c.name_en).order_by(
                category.c.sort, category.c.code
            )
        ).all()
    ]


def submit_goods(conn: Connection, merchant_id: int, spec: ItemSpec, by: str, now: int) -> int:
    """Submit a voucher item of this merchant for review; a code of anyone else's is refused."""
    shop = merchants.merchant_by_id(conn, merchant_id)
    return merchant_goods.submit(conn, shop.code, replace(spec, kind="voucher"), by, now)
