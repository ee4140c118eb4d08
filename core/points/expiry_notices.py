"""Expiry notices (issue 3 §5): one SMS per lot, N days before its points expire.

A lot is due a notice when points remain in it and it expires within the window.
The notice's outbox key is ``expiry-notice:{lot_id}``, so a lot is told about once
however often the job runs; lots already told are skipped in SQL, which lets the
caller loop over batches until one comes back short.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import Connection, String, and_, cast, literal, select

from core.messaging import outbox
from core.messaging.texts import day
from core.platform.schema import account, lot, subscriber
from core.platform.schema import outbox as outbox_table
from core.points import texts

DAY = 86_400
KEY_PREFIX = "expiry-notice:"


def notice_key(lot_id: int) -> str:
    return f"{KEY_PREFIX}{lot_id}"


def queue_expiry_notices(
    conn: Connection, *, now: int, days: int, tz: ZoneInfo, limit: int = 500
) -> int:
    """Queue a notice for up to ``limit`` lots expiring within ``days``; return how many."""
    told = (
        select(outbox_table.c.id)
        .where(outbox_table.c.idempotency_key == literal(KEY_PREFIX) + cast(lot.c.id, String))
        .exists()
    )
    rows = conn.execute(
        select(lot.c.id, lot.c.remaining, lot.c.expires_at, subscriber.c.msisdn, subscriber.c.lang)
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
                ~told,
            )
        )
        .order_by(lot.c.expires_at, lot.c.id)
        .limit(limit)
    ).all()
    queued = 0
    for lot_id, remaining, expires_at, msisdn, lang in rows:
        text = texts.notice(
            lang, "expiry", points=int(remaining), date=day(int(expires_at) - 1, tz)
        )
        if outbox.enqueue(
            conn, key=notice_key(int(lot_id)), recipient=msisdn, text=text, now=now, kind="service"
        ):
            queued += 1
    return queued
