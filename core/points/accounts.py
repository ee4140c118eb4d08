"""A subscriber's points as operator staff look them up (issue 8, issue 16 §1): a card, the
journal and the lots with their expiry."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from core.platform.schema import lot
from core.points import ledger
from core.subscribers import subscribers
from core.subscribers.errors import UnknownSubscriber


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


def card(conn: Connection, msisdn: str, now: int) -> SubscriberCard:
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


@dataclass(frozen=True)
class LotView:
    """Points one entry credited and what is left of them, with when they expire."""

    id: int
    service: str
    amount: int
    remaining: int
    earned_at: int
    expires_at: int


def lots(conn: Connection, msisdn: str, *, spent: bool = False) -> list[LotView]:
    """The subscriber's lots, first to expire first (the order they are spent in, §1);
    only those with points left unless ``spent``. Raises ``UnknownSubscriber``."""
    found = subscribers.find(conn, msisdn)
    if found is None:
        raise UnknownSubscriber(msisdn)
    account_id = ledger.account_id_of(conn, found.id)
    if account_id is None:
        return []
    query = (
        select(
            lot.c.id,
            lot.c.service,
            lot.c.amount,
            lot.c.remaining,
            lot.c.earned_at,
            lot.c.expires_at,
        )
        .where(lot.c.account_id == account_id)
        .order_by(lot.c.expires_at, lot.c.id)
    )
    if not spent:
        query = query.where(lot.c.remaining > 0)
    return [LotView(int(r[0]), r[1], *(int(v) for v in r[2:])) for r in conn.execute(query)]
