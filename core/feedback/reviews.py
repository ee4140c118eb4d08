"""Goods reviews (§2.2.17): one per order, by the subscriber who received the goods.

Reviewable means received: a delivered parcel or a verified voucher (a paid but
unshipped parcel, an unused voucher, a top-up or a refunded order is not). Staff
may hide a review (moderation) and show it again; lists and averages count only
visible reviews.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, and_, func, select, update

from core.feedback.errors import AlreadyReviewed, BadScore, NotReviewable
from core.orders.orders import find
from core.platform import audit
from core.platform.schema import REVIEW_STATUSES, goods_review, item, subscriber

REVIEWABLE = ("delivered", "verified")
MAX_TEXT = 500


@dataclass(frozen=True)
class ReviewView:
    id: int
    item_code: str
    msisdn: str
    score: int
    text: str
    status: str
    created_at: int


def add(conn: Connection, *, subscriber_id: int, no: str, score: int, text: str, now: int) -> int:
    """Review the goods of order ``no``; return the review's id."""
    order = find(conn, subscriber_id, no)
    if order.status not in REVIEWABLE:
        raise NotReviewable(no, order.status)
    if not 1 <= score <= 5:
        raise BadScore(score)
    if reviewed(conn, order.id):
        raise AlreadyReviewed(no)
    return int(
        conn.execute(
            goods_review.insert()
            .values(
                order_id=order.id,
                subscriber_id=subscriber_id,
                item_id=order.item_id,
                score=score,
                text=" ".join(text.split())[:MAX_TEXT],
                status="visible",
                created_at=now,
            )
            .returning(goods_review.c.id)
        ).scalar_one()
    )


def reviewed(conn: Connection, order_id: int) -> bool:
    return (
        conn.execute(select(goods_review.c.id).where(goods_review.c.order_id == order_id)).first()
        is not None
    )


def _query() -> Select[Any]:
    return select(
        goods_review.c.id,
        item.c.code,
        subscriber.c.msisdn,
        goods_review.c.score,
        goods_review.c.text,
        goods_review.c.status,
        goods_review.c.created_at,
    ).select_from(
        goods_review.join(item, item.c.id == goods_review.c.item_id).join(
            subscriber, subscriber.c.id == goods_review.c.subscriber_id
        )
    )


@dataclass(frozen=True)
class Rating:
    """An item's visible reviews: how many, and their average score in tenths (45 = 4.5)."""

    count: int
    average_tenths: int

    def average(self) -> str:
        """``4.5``: the average with one decimal, from integers only."""
        return f"{self.average_tenths // 10}.{self.average_tenths % 10}"


def rating(conn: Connection, item_id: int) -> Rating:
    """The average score of an item's visible reviews, rounded half up to a tenth (§2.2.9,
    §2.2.17); ``Rating(0, 0)`` when it has none."""
    count, total = conn.execute(
        select(func.count(), func.coalesce(func.sum(goods_review.c.score), 0)).where(
            and_(goods_review.c.item_id == item_id, goods_review.c.status == "visible")
        )
    ).one()
    count, total = int(count), int(total)
    if count == 0:
        return Rating(0, 0)
    return Rating(count, (total * 20 + count) // (2 * count))


def for_item(conn: Connection, code: str, limit: int) -> tuple[list[ReviewView], Rating]:
    """The newest ``limit`` visible reviews of item ``code`` and its ``rating`` (the same
    count and average everywhere an item's score is shown, §2.2.17)."""
    visible = and_(item.c.code == code, goods_review.c.status == "visible")
    rows = conn.execute(
        _query().where(visible).order_by(goods_review.c.id.desc()).limit(limit)
    ).all()
    item_id = conn.execute(select(item.c.id).where(item.c.code == code)).scalar_one_or_none()
    rated = rating(conn, int(item_id)) if item_id is not None else Rating(0, 0)
    return [ReviewView(*r) for r in rows], rated


def staff_list(
    conn: Connection, status: str | None, limit: int, offset: int = 0
) -> list[ReviewView]:
    """For staff: reviews newest first (only in ``status`` if given), ``limit`` of them from
    ``offset``."""
    query = _query().order_by(goods_review.c.id.desc()).offset(offset).limit(limit)
    if status is not None:
        query = query.where(goods_review.c.status == status)
    return [ReviewView(*r) for r in conn.execute(query).all()]


def get(conn: Connection, review_id: int) -> ReviewView | None:
    row = conn.execute(_query().where(goods_review.c.id == review_id)).first()
    return None if row is None else ReviewView(*row)


def set_visibility(conn: Connection, review_id: int, status: str, staff: str, now: int) -> bool:
    """Hide or show a review (moderation); False when there is no such review."""
    if status not in REVIEW_STATUSES:
        raise ValueError(f"a review is {' or '.join(REVIEW_STATUSES)}")
    changed = conn.execute(
        update(goods_review).where(goods_review.c.id == review_id).values(status=status)
    ).rowcount
    if changed:
        audit.record(
            conn,
            actor_kind="staff",
            actor=staff,
            action=f"review_{status}",
            subject=f"review:{review_id}",
            result="ok",
            now=now,
        )
    return bool(changed)
