"""Subscriber lookup (§1): profile, balance and the journal of entries, read-only."""

from __future__ import annotations

from dataclasses import dataclass

from api.admin.fields import integer, text
from api.admin.registry import ADMIN, FINANCE, SUPPORT, Call, Route
from core.platform.phones import to_e164
from core.points import accounts
from core.points.accounts import SubscriberCard
from core.points.ledger import EntryView

READ = frozenset({SUPPORT, FINANCE, ADMIN})
MSISDN = (text("msisdn", 32, pattern=r"^\+?[0-9 -]{5,31}$", description="E.164 or local"),)
PAGE = (integer("offset", 0, 1_000_000, required=False), integer("limit", 1, 200, required=False))


@dataclass(frozen=True)
class EntriesPage:
    total: int
    offset: int
    entries: list[EntryView]


def msisdn_of(call: Call) -> str:
    return to_e164(call.path["msisdn"], call.deps.region)


async def get_subscriber(call: Call) -> SubscriberCard:
    """Show a subscriber and their points account."""
    return await call.read(accounts.card, msisdn=msisdn_of(call), now=call.now)


async def get_entries(call: Call) -> EntriesPage:
    """Page through a subscriber's journal, newest first."""
    offset = call.query.get("offset", 0)
    total, found = await call.read(
        accounts.entries,
        msisdn=msisdn_of(call),
        offset=offset,
        limit=call.query.get("limit", 20),
    )
    return EntriesPage(total, offset, found)


TAG = "subscribers"
ROUTES = (
    Route(
        "GET",
        "/subscribers/{msisdn}",
        get_subscriber,
        READ,
        "look up a subscriber",
        TAG,
        SubscriberCard,
        MSISDN,
    ),
    Route(
        "GET",
        "/subscribers/{msisdn}/entries",
        get_entries,
        READ,
        "page through a subscriber's entries",
        TAG,
        EntriesPage,
        MSISDN,
        query=PAGE,
    ),
)
