"""A subscriber's points as operator staff look them up (issue 8): a card and the journal."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

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
