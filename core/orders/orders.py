"""Orders (DESIGN §5): the record of one redemption of one item, and how it is looked up.

An order belongs to one subscriber and one account, holds ``points`` (and, paid
with money, ``cash_cents``) for ``qty`` of one item, and moves through the state
machine in ``core.orders.states``. On PostgreSQL every operation on an order
first locks its account row (``lock_account``), so one subscriber's redemptions
are serialised and limits are counted safely; SQLite has a single writer.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Select, and_, bindparam, func, select

from core.orders.errors import UnknownOrder
from core.platform.prepared import Prepared
from core.platform.schema import account, item, orders
from core.platform.sql import for_update

DEFAULT_ZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class OrderPolicy:
    """Times in seconds; ``max_qty`` per order; ``timezone`` for days and order numbers."""

    pay_seconds: int = 15 * 60
    max_qty: int = 10
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_ZONE))


@dataclass(frozen=True)
class OrderView:
    id: int
    no: str
    subscriber_id: int
    item_id: int
    item_code: str
    item_zh: str
    item_en: str
    kind: str
    qty: int
    points: int
    status: str
    hold_id: int | None
    address: str | None
    carrier: str | None
    tracking_no: str | None
    created_at: int
    paid_at: int | None
    cash_cents: int = 0
    """Money the order costs besides its points (§3.5.6), in cents."""
    pay_method: str = "points"

    def item_name(self, lang: str) -> str:
        return self.item_en if lang == "en" else self.item_zh


_ORDER_COLUMNS = (
    orders.c.id,
    orders.c.no,
    orders.c.subscriber_id,
    orders.c.item_id,
    item.c.code,
    item.c.name_zh,
    item.c.name_en,
    item.c.kind,
    orders.c.qty,
    orders.c.points,
    orders.c.status,
    orders.c.hold_id,
    orders.c.address,
    orders.c.carrier,
    orders.c.tracking_no,
    orders.c.created_at,
    orders.c.paid_at,
    orders.c.cash_cents,
    orders.c.pay_method,
)


def order_query() -> Select[Any]:
    """A SELECT of ``OrderView`` columns (in field order), to add conditions to."""
    return select(*_ORDER_COLUMNS).select_from(orders.join(item, item.c.id == orders.c.item_id))


_FIND = Prepared(
    order_query().where(
        and_(orders.c.no == bindparam("no"), orders.c.subscriber_id == bindparam("sid"))
    )
)
_PENDING = Prepared(
    order_query()
    .where(and_(orders.c.subscriber_id == bindparam("sid"), orders.c.status == "awaiting_otp"))
    .order_by(orders.c.id.desc())
    .limit(1)
)
_ACCOUNT_OF = Prepared(select(orders.c.account_id).where(orders.c.id == bindparam("oid")))
_LOCK_ACCOUNT = Prepared(
    select(account.c.id).where(account.c.id == bindparam("aid")).with_for_update()
)
_LOCK_ORDER_ACCOUNT = Prepared(
    select(account.c.id)
    .where(
        account.c.id
        == select(orders.c.account_id).where(orders.c.id == bindparam("oid")).scalar_subquery()
    )
    .with_for_update()
)
_LOCK_SUBSCRIBER_ACCOUNT = Prepared(
    select(account.c.id).where(account.c.subscriber_id == bindparam("sid")).with_for_update()
)


def find(conn: Connection, subscriber_id: int, no: str) -> OrderView:
    """The subscriber's order ``no``; someone else's order is as unknown as a missing one.

    Raises ``UnknownOrder``.
    """
    row = _FIND.first(conn, no=no, sid=subscriber_id)
    if row is None:
        raise UnknownOrder(no)
    return OrderView(*row)


def by_no(conn: Connection, no: str) -> OrderView | None:
    """Order ``no`` of whoever placed it (for staff, merchants and jobs)."""
    row = conn.execute(order_query().where(orders.c.no == no)).first()
    return OrderView(*row) if row else None


def recent(
    conn: Connection, subscriber_id: int, offset: int, limit: int
) -> tuple[list[OrderView], int]:
    """One page of the subscriber's orders, newest first, and how many there are in all."""
    total = conn.execute(
        select(func.count()).select_from(orders).where(orders.c.subscriber_id == subscriber_id)
    ).scalar_one()
    rows = conn.execute(
        order_query()
        .where(orders.c.subscriber_id == subscriber_id)
        .order_by(orders.c.id.desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return [OrderView(*r) for r in rows], int(total)


def pending_order(conn: Connection, subscriber_id: int) -> OrderView | None:
    """The subscriber's newest order waiting for its confirm code, if any."""
    row = _PENDING.first(conn, sid=subscriber_id)
    return OrderView(*row) if row else None


def lock_account(conn: Connection, account_id: int) -> None:
    """Lock the account row (PostgreSQL ``FOR UPDATE``; SQLite has one writer anyway).

    Every operation on a subscriber's orders takes this lock first, so they run one at
    a time per account and always take their locks in the same order.
    """
    if for_update(conn):
        _LOCK_ACCOUNT.rows(conn, aid=account_id)


def account_of(conn: Connection, order: OrderView) -> int:
    """The id of the account the order's points come from."""
    return int(_ACCOUNT_OF.scalar(conn, oid=order.id))


def lock_account_of(conn: Connection, order: OrderView) -> None:
    """``lock_account`` for the order's account (the saga and the timeout job use it), in
    one statement (issue 15 §2)."""
    if for_update(conn):
        _LOCK_ORDER_ACCOUNT.rows(conn, oid=order.id)


def lock_subscriber_account(conn: Connection, subscriber_id: int) -> int | None:
    """The id of the subscriber's account, locked as ``lock_account`` locks it, or None
    when there is none: what a new order starts with, in one statement (issue 15 §2)."""
    found = _LOCK_SUBSCRIBER_ACCOUNT.scalar(conn, sid=subscriber_id)
    return int(found) if found is not None else None


def new_order_no(now: int, tz: ZoneInfo) -> str:
    """``YYMMDD`` in the operator's zone and six random digits: 261130116288."""
    return datetime.fromtimestamp(now, tz).strftime("%y%m%d") + f"{secrets.randbelow(10**6):06d}"


def reason_args(order: OrderView) -> dict[str, object]:
    """What ``MX`` needs to word a redeem or refund entry of this order in either language."""
    return {"zh": order.item_zh, "en": order.item_en, "qty": order.qty, "no": order.no}
