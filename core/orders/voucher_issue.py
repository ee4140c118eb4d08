"""Issuing the electronic voucher of a paid merchant item (§3.6.1–3.6.2, DESIGN §5).

A voucher is the order number plus an 8-digit verification password, sent by SMS,
and a QR code carrying an opaque token of 128 bits; only keyed hashes of both are
stored. It is valid for the item's ``voucher_days``. Issuing again (``CF``) replaces
the password and token, so the old ones stop working, and keeps the expiry.
The voucher belongs to its order (one per order), so it is issued here, as the
order is paid; verifying it is ``core.vouchers.verification``.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, select, update

from core.catalogue import catalogue
from core.messaging import outbox
from core.messaging.texts import day
from core.orders import texts
from core.orders.orders import OrderView
from core.platform.codes import VOUCHER_PASSWORD_DIGITS, Keyring, digits, token
from core.platform.schema import voucher
from core.subscribers.subscribers import Subscriber

DAY = 86_400


@dataclass(frozen=True)
class Issued:
    expires_at: int
    """UTC epoch seconds."""
    token: str
    """The QR token, for a picture in the chat or an MMS; shown once."""
    password: str
    """The verification password; shown once."""


RESENDABLE = ("issued", "locked")
"""A voucher in these states can be sent again (``CF``) with a new password."""


def issue(
    conn: Connection,
    order: OrderView,
    subscriber: Subscriber,
    now: int,
    keyring: Keyring,
    tz: ZoneInfo,
    *,
    resend: bool = False,
) -> Issued:
    """Make a password and QR token for ``order``'s voucher, store their keyed hashes and
    queue the SMS with the password to the subscriber, in their language.

    ``resend``: replace those of the voucher already issued (still ``issued``, or
    ``locked`` by wrong passwords: it is ``issued`` again, with five fresh tries).
    """
    it = catalogue.find_item(conn, order.item_code)
    assert it is not None and it.merchant_id is not None
    password = digits(VOUCHER_PASSWORD_DIGITS)
    qr = token()
    token_hash = keyring.digest("qr", qr)
    values: dict[str, object] = {
        "password_hash": keyring.digest("voucher", order.no, password),
        "token_hash": token_hash,
        "status": "issued",
        "failed_attempts": 0,
        "issued_at": now,
    }
    if resend:
        expires_at = int(
            conn.execute(
                select(voucher.c.expires_at).where(voucher.c.order_id == order.id)
            ).scalar_one()
        )
        conn.execute(
            update(voucher)
            .where(and_(voucher.c.order_id == order.id, voucher.c.status.in_(RESENDABLE)))
            .values(**values)
        )
    else:
        expires_at = now + it.voucher_days * DAY
        conn.execute(
            voucher.insert().values(
                order_id=order.id, merchant_id=it.merchant_id, expires_at=expires_at, **values
            )
        )
    lang = subscriber.lang
    text = texts.notice.fitted(
        lang,
        "voucher_resent" if resend else "voucher",
        cut=("item", "merchant"),
        no=order.no,
        item=order.item_name(lang),
        password=password,
        date=day(expires_at - 1, tz),
        merchant=it.merchant_name(lang) or "",
    )
    outbox.enqueue(
        conn,
        key=f"voucher:{order.no}:{token_hash[:16]}",
        recipient=subscriber.msisdn,
        text=text,
        now=now,
        secrets=(password,),
        keyring=keyring,
    )
    return Issued(expires_at, qr, password)
