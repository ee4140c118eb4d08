"""Merchant staff verify a voucher by sending a photo of its QR code to the chat (§3.6.1).

The photo is decoded by the adapter; the token goes through the same core
verification as the POS and ``YZ`` (staff check, single use, audit), worded
like ``YZ`` from the same tables.
"""

from __future__ import annotations

from sqlalchemy import Connection

from bot.texts import ct
from core.merchants import merchants
from core.merchants.errors import NotStaff
from core.vouchers import verification
from core.vouchers.verification import Refused
from handlers.errors import reply_for
from handlers.hall import Hall
from handlers.i18n import t
from handlers.paging import fit


def not_staff(lang: str) -> str:
    return reply_for(NotStaff(""), lang)


def verify_photo(
    conn: Connection, hall: Hall, msisdn: str, tokens: list[str], now: int, lang: str
) -> str:
    """Verify the voucher whose QR token was read from the photo; the reply to show."""
    actor = merchants.staff_actor(conn, msisdn)
    if not actor.merchant_ids:
        return ct(lang, "mb_photo_ignored")
    if not tokens:
        return ct(lang, "mb_qr_unreadable")
    outcome = verification.verify_by_token(
        conn, actor, tokens[0], now, keyring=hall.keyring, tz=hall.policy.timezone
    )
    if isinstance(outcome, Refused):
        return reply_for(outcome.error, lang)
    found = outcome.voucher
    return fit(
        lambda name: t(lang, "yz_ok", no=found.no, name=name, qty=found.qty),
        found.item_name(lang),
        hall.policy.segment_budget,
    )
