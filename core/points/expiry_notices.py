"""Expiry notices (issue 3 §5, issue 14 item 5): one SMS per subscriber and expiry date,
N days before, with all the points that expire then.

Points of an account that expire at the same moment (every lot earned in one year
expires at the end of the next, operator time) are told in one text: the notice's
outbox key is ``expiry-notice:{account_id}:{expires_at}``, so an account is told
about a date once however often the job runs, and what was told is skipped in SQL,
which lets the caller loop over batches until one comes back short. Lots told one by
one under the older key ``expiry-notice:{lot_id}`` count as told.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, Exists, String, and_, cast, func, literal, select

from core.messaging import outbox
from core.messaging.texts import day
from core.platform.schema import account, lot, subscriber
from core.platform.schema import outbox as outbox_table
from core.points import texts

DAY = 86_400
KEY_PREFIX = "expiry-notice:"


def notice_key(account_id: int, expires_at: int) -> str:
    """The outbox key of the notice to one account about one expiry (UTC epoch seconds)."""
    return f"{KEY_PREFIX}{account_id}:{expires_at}"


def _told(*parts: ColumnElement[int]) -> Exists:
    """Whether the outbox holds the notice keyed by ``parts`` (joined by ``:``)."""
    key: ColumnElement[str] = literal(KEY_PREFIX)
    for i, part in enumerate(parts):
        key = key + (literal(":") if i else literal("")) + cast(part, String)
    return select(outbox_table.c.id).where(outbox_table.c.idempotency_key == key).exists()


def queue_expiry_notices(
    conn: Connection, *, now: int, days: int, tz: ZoneInfo, limit: int = 500
) -> int:
    """Queue a notice for up to ``limit`` (account, expiry) pairs whose points expire within
    ``days`` of ``now`` (UTC epoch), in each subscriber's language; return how many."""
    points = func.sum(lot.c.remaining)
    rows = conn.execute(
        select(lot.c.account_id, lot.c.expires_at, points, subscriber.c.msisdn, subscriber.c.lang)
        .select_from(
            lot.join(account, account.c.id == lot.c.account_id).join(
                subscriber, subscriber.c.id == account.c.subscriber_id
            )
        )
        .where(
            and_(
                lot.c.remaining > 0,
                lot.c.expires_at > now,
                lot.c.expires_at <= now + days * DAY,
                ~_told(lot.c.id),
                ~_told(lot.c.account_id, lot.c.expires_at),
            )
        )
        .group_by(lot.c.account_id, lot.c.expires_at, subscriber.c.msisdn, subscriber.c.lang)
        .order_by(lot.c.expires_at, lot.c.account_id)
        .limit(limit)
    ).all()
    queued = 0
    for account_id, expires_at, remaining, msisdn, lang in rows:
        text = texts.notice(
            lang, "expiry", points=int(remaining), date=day(int(expires_at) - 1, tz)
        )
        key = notice_key(int(account_id), int(expires_at))
        if outbox.enqueue(conn, key=key, recipient=msisdn, text=text, now=now, kind="service"):
            queued += 1
    return queued
