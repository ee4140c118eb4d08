"""Orders as operator staff find them (issue 16 §1, §2.2.15): a search over every order, and
one order's detail with its status history.

Read-only. The search pages newest first by id and asks for one row more than a page, so
the caller knows whether a next page exists without counting the whole table.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Connection, and_, select

from core.orders import logistics
from core.orders.logistics import Event
from core.orders.orders import OrderView, order_query
from core.platform.schema import item, orders, subscriber, topup, voucher

MAX_PAGE = 200
FULL_NO = 12
"""Digits of an order number (``core.orders.orders.new_order_no``): a whole one is looked
up by equality, a shorter beginning by prefix."""


@dataclass(frozen=True)
class OrderFilter:
    """What staff search by; every field is optional and they combine with AND.

    ``no`` is a whole order number or its beginning; ``msisdn`` an E.164 number;
    ``status`` one of ``core.platform.schema.ORDER_STATUSES``; ``since``/``until`` bound
    ``created_at`` as UTC epoch seconds, ``until`` excluded.
    """

    no: str | None = None
    msisdn: str | None = None
    status: str | None = None
    since: int | None = None
    until: int | None = None


@dataclass(frozen=True)
class OrderLine:
    """One row of the staff's order search."""

    no: str
    msisdn: str
    item_code: str
    item_zh: str
    item_en: str
    kind: str
    qty: int
    points: int
    cash_cents: int
    pay_method: str
    status: str
    created_at: int

    def item_name(self, lang: str) -> str:
        return self.item_en if lang == "en" else self.item_zh


@dataclass(frozen=True)
class OrderDetail:
    """An order as staff see it: the order, who placed it, how it was paid, its voucher or
    top-up status (None when it has none) and every status change, oldest first."""

    order: OrderView
    msisdn: str
    pay_method: str
    cash_cents: int
    channel: str
    updated_at: int
    voucher_status: str | None
    topup_status: str | None
    events: list[Event]


def _conditions(found: OrderFilter) -> list[Any]:
    where: list[Any] = []
    if found.no and len(found.no) >= FULL_NO:
        where.append(orders.c.no == found.no)  # the unique index, on both databases
    elif found.no:
        where.append(orders.c.no.startswith(found.no, autoescape=True))
    if found.msisdn:
        where.append(subscriber.c.msisdn == found.msisdn)
    if found.status:
        where.append(orders.c.status == found.status)
    if found.since is not None:
        where.append(orders.c.created_at >= found.since)
    if found.until is not None:
        where.append(orders.c.created_at < found.until)
    return where


def search(conn: Connection, found: OrderFilter, offset: int, limit: int) -> list[OrderLine]:
    """Orders matching ``found``, newest first: rows ``offset`` to ``offset + limit``.

    ``limit`` is at most ``MAX_PAGE`` (+1, so a caller may ask for one row more than a page
    to learn whether there is another).
    """
    limit = max(0, min(limit, MAX_PAGE + 1))
    query = (
        select(
            orders.c.no,
            subscriber.c.msisdn,
            item.c.code,
            item.c.name_zh,
            item.c.name_en,
            item.c.kind,
            orders.c.qty,
            orders.c.points,
            orders.c.cash_cents,
            orders.c.pay_method,
            orders.c.status,
            orders.c.created_at,
        )
        .select_from(
            orders.join(item, item.c.id == orders.c.item_id).join(
                subscriber, subscriber.c.id == orders.c.subscriber_id
            )
        )
        .order_by(orders.c.id.desc())
        .offset(max(0, offset))
        .limit(limit)
    )
    where = _conditions(found)
    if where:
        query = query.where(and_(*where))
    return [
        OrderLine(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            int(r[6]),
            int(r[7]),
            int(r[8]),
            r[9],
            r[10],
            int(r[11]),
        )
        for r in conn.execute(query).all()
    ]


def detail(conn: Connection, no: str) -> OrderDetail | None:
    """Order ``no`` with who placed it, its payment, voucher or top-up and its history."""
    row = conn.execute(
        order_query()
        .add_columns(
            subscriber.c.msisdn,
            orders.c.pay_method,
            orders.c.cash_cents,
            orders.c.channel,
            orders.c.updated_at,
            voucher.c.status,
            topup.c.status,
        )
        .join(subscriber, subscriber.c.id == orders.c.subscriber_id)
        .outerjoin(voucher, voucher.c.order_id == orders.c.id)
        .outerjoin(topup, topup.c.order_id == orders.c.id)
        .where(orders.c.no == no)
    ).first()
    if row is None:
        return None
    width = len(fields(OrderView))
    view = OrderView(*row[:width])
    msisdn, method, cash, channel, updated, voucher_status, topup_status = row[width:]
    return OrderDetail(
        view,
        msisdn,
        method,
        int(cash),
        channel,
        int(updated),
        voucher_status,
        topup_status,
        logistics.events(conn, view.id),
    )
