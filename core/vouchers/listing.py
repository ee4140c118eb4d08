"""The vouchers a merchant sees in its console (§3.4.3): its own only, newest first."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from core.platform.phones import mask
from core.platform.schema import (
    item,
    subscriber,
    voucher,
)
from core.platform.schema import orders as orders_table

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


def of_merchant(
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
