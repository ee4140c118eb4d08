"""Merchants publish bookable goods; a business admin reviews them before they are listed (§3.4.4).

A submitted item exists but is inactive with ``review = 'pending'``; approval lists
it, rejection keeps it unlisted with the reason. The merchant's staff are told by
SMS and every decision is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import Connection, and_, select, update

from core.catalogue import texts
from core.catalogue.editing import ItemSpec, upsert_item
from core.catalogue.errors import ItemCodeTaken, UnknownItem
from core.merchants import merchants
from core.merchants.errors import MerchantNotApproved
from core.messaging import outbox
from core.platform import audit
from core.platform.schema import (
    category,
    item,
    merchant,
)
from core.subscribers import subscribers
from core.subscribers.subscribers import default_lang


def _tell_staff(
    conn: Connection,
    merchant_id: int,
    key: str,
    code: str,
    now: int,
    names: tuple[str, str],
    reason: str = "",
) -> None:
    for phone in merchants.staff_phones(conn, merchant_id):
        known = subscribers.find(conn, phone)
        lang = known.lang if known else default_lang(phone)
        text = texts.notice(
            lang, key, code=code, item=names[1] if lang == "en" else names[0], reason=reason
        )
        outbox.enqueue(
            conn, key=f"goods:{code}:{key}:{now}:{phone}", recipient=phone, text=text, now=now
        )


def submit(conn: Connection, merchant_code: str, spec: ItemSpec, by: str, now: int) -> int:
    """Create or update the merchant's item, unlisted until a business admin approves it.

    ``by`` is the submitting phone (E.164) and must be an active staff phone of the
    merchant (``NotStaffOf`` otherwise, issue 16 §5); ``spec.category`` must exist
    (``UnknownReference``). A code already used by another merchant's item or by the
    operator's own catalogue is refused: submitting must never take over (and unlist)
    someone else's goods.
    """
    merchant = merchants.find_merchant(conn, merchant_code)
    if merchant.status != "approved":
        raise MerchantNotApproved(merchant.code, merchant.status)
    merchants.require_staff(conn, merchant, by)
    owner = conn.execute(select(item.c.merchant_id).where(item.c.code == spec.code.upper())).first()
    if owner is not None and (owner[0] is None or int(owner[0]) != merchant.id):
        raise ItemCodeTaken(spec.code.upper())
    spec = replace(spec, merchant=merchant.code, active=False)
    item_id = upsert_item(conn, spec, now)
    conn.execute(
        update(item).where(item.c.id == item_id).values(review="pending", review_note=None)
    )
    audit.record(
        conn,
        actor_kind="staff",
        actor=by,
        action="goods_submit",
        subject=f"item {spec.code.upper()}",
        result="pending",
        now=now,
    )
    _tell_staff(
        conn, merchant.id, "goods_submitted", spec.code.upper(), now, (spec.name_zh, spec.name_en)
    )
    return item_id


def pending(conn: Connection) -> list[tuple[str, str, str, int]]:
    """Items waiting for review: code, Chinese name, merchant id as text, points."""
    rows = conn.execute(
        select(item.c.code, item.c.name_zh, item.c.merchant_id, item.c.points)
        .where(item.c.review == "pending")
        .order_by(item.c.id)
    ).all()
    return [(r.code, r.name_zh, str(r.merchant_id), int(r.points)) for r in rows]


def review(
    conn: Connection, code: str, *, approve: bool, reviewer: str, reason: str, now: int
) -> None:
    """List (approve) or refuse a pending item; refuses anything not pending."""
    code = code.upper()
    row = conn.execute(
        select(item.c.id, item.c.merchant_id, item.c.name_zh, item.c.name_en).where(
            and_(item.c.code == code, item.c.review == "pending")
        )
    ).first()
    if row is None:
        raise UnknownItem(code)
    decision = "approved" if approve else "rejected"
    conn.execute(
        update(item)
        .where(and_(item.c.id == row.id, item.c.review == "pending"))
        .values(review=decision, review_note=reason[:200] or None, active=approve)
    )
    audit.record(
        conn,
        actor_kind="operator",
        actor=reviewer,
        action="goods_review",
        subject=f"item {code}",
        result=decision,
        now=now,
        details={"reason": reason},
    )
    key = "goods_approved" if approve else "goods_rejected"
    _tell_staff(conn, int(row.merchant_id), key, code, now, (row.name_zh, row.name_en), reason)


@dataclass(frozen=True)
class SubmittedItem:
    code: str
    name_zh: str
    name_en: str
    points: int
    stock: int | None
    review: str | None
    note: str | None
    active: bool


def of_merchant(conn: Connection, merchant_id: int) -> list[SubmittedItem]:
    return [
        SubmittedItem(r[0], r[1], r[2], int(r[3]), None if r[4] is None else int(r[4]), *r[5:8])
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


def submit_for(conn: Connection, merchant_id: int, spec: ItemSpec, by: str, now: int) -> int:
    """Submit a voucher item of this merchant for review; a code of anyone else's is refused."""
    shop = merchants.merchant_by_id(conn, merchant_id)
    return submit(conn, shop.code, replace(spec, kind="voucher"), by, now)


def category_choices(conn: Connection) -> list[tuple[str, str, str]]:
    return [
        (r[0], r[1], r[2])
        for r in conn.execute(
            select(category.c.code, category.c.name_zh, category.c.name_en).order_by(
                category.c.sort, category.c.code
            )
        ).all()
    ]


@dataclass(frozen=True)
class PendingItem:
    code: str
    name_zh: str
    name_en: str
    merchant: str
    points: int


def pending_for_review(conn: Connection) -> list[PendingItem]:
    rows = conn.execute(
        select(item.c.code, item.c.name_zh, item.c.name_en, merchant.c.code, item.c.points)
        .select_from(item.join(merchant, merchant.c.id == item.c.merchant_id))
        .where(item.c.review == "pending")
        .order_by(item.c.id)
    )
    return [PendingItem(r[0], r[1], r[2], r[3], int(r[4])) for r in rows]
