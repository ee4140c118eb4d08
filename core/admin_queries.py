"""Read-only views the admin API needs that no other module offers: application and
goods-review queues, a subscriber's card, the audit log newest first."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from core import admission, ledger, subscribers
from core.admission import Application
from core.errors import UnknownSubscriber
from core.schema import audit_log, item, merchant, merchant_application


@dataclass(frozen=True)
class PendingGoods:
    code: str
    name_zh: str
    name_en: str
    merchant: str
    points: int


@dataclass(frozen=True)
class AccountCard:
    balance: int
    held: int
    available: int
    next_expiry_points: int
    next_expiry_at: int | None


@dataclass(frozen=True)
class SubscriberCard:
    msisdn: str
    name: str | None
    lang: str
    opted_out: bool
    account: AccountCard | None


@dataclass(frozen=True)
class LoggedAction:
    id: int
    actor_kind: str
    actor: str
    action: str
    subject: str
    result: str
    at: int
    details: dict[str, Any]


def applications(
    conn: Connection, *, status: str | None = None, offset: int = 0, limit: int = 50
) -> list[Application]:
    query = select(merchant_application.c.id).order_by(merchant_application.c.id.desc())
    if status is not None:
        query = query.where(merchant_application.c.status == status)
    ids = conn.execute(query.offset(offset).limit(limit)).scalars().all()
    return [admission.find(conn, int(i)) for i in ids]


def pending_goods(conn: Connection) -> list[PendingGoods]:
    rows = conn.execute(
        select(item.c.code, item.c.name_zh, item.c.name_en, merchant.c.code, item.c.points)
        .select_from(item.join(merchant, merchant.c.id == item.c.merchant_id))
        .where(item.c.review == "pending")
        .order_by(item.c.id)
    )
    return [PendingGoods(r[0], r[1], r[2], r[3], int(r[4])) for r in rows]


def subscriber_card(conn: Connection, msisdn: str, now: int) -> SubscriberCard:
    found = subscribers.find(conn, msisdn)
    if found is None:
        raise UnknownSubscriber(msisdn)
    account_id = ledger.account_id_of(conn, found.id)
    card = None
    if account_id is not None:
        s = ledger.summary(conn, account_id, now)
        card = AccountCard(s.balance, s.held, s.available, s.next_expiry_points, s.next_expiry_at)
    return SubscriberCard(found.msisdn, found.name, found.lang, found.opted_out, card)


def entries(
    conn: Connection, msisdn: str, offset: int, limit: int
) -> tuple[int, list[ledger.EntryView]]:
    """The subscriber's journal, newest first, and how many entries there are."""
    found = subscribers.find(conn, msisdn)
    if found is None:
        raise UnknownSubscriber(msisdn)
    account_id = ledger.account_id_of(conn, found.id)
    if account_id is None:
        return 0, []
    return ledger.count_entries(conn, account_id), ledger.history(conn, account_id, offset, limit)


def audit_page(
    conn: Connection, *, subject: str | None, offset: int, limit: int
) -> list[LoggedAction]:
    query = select(
        audit_log.c.id,
        audit_log.c.actor_kind,
        audit_log.c.actor,
        audit_log.c.action,
        audit_log.c.subject,
        audit_log.c.result,
        audit_log.c.at,
        audit_log.c.details,
    ).order_by(audit_log.c.id.desc())
    if subject is not None:
        query = query.where(audit_log.c.subject == subject)
    rows = conn.execute(query.offset(offset).limit(limit))
    return [LoggedAction(int(r[0]), *r[1:6], int(r[6]), json.loads(r[7])) for r in rows]
