"""Vouchers after they are issued (§3.6.1–3.6.2): sent again on request, expired on their date.

Issuing is part of paying the order (``core.orders.voucher_issue``); verifying is
``core.vouchers.verification``.
"""

from __future__ import annotations

from sqlalchemy import Connection, and_, select, update

from core.orders import orders, voucher_issue
from core.orders.orders import OrderPolicy
from core.platform import audit
from core.platform.codes import Keyring
from core.platform.schema import voucher
from core.subscribers.subscribers import Subscriber
from core.vouchers.errors import NoVoucherToResend


def resend(
    conn: Connection,
    *,
    subscriber: Subscriber,
    no: str,
    now: int,
    keyring: Keyring,
    policy: OrderPolicy,
) -> int:
    """Replace the voucher's password and token (the old ones stop working) and text the new
    password (``CF``). Returns the voucher's expiry (UTC epoch, unchanged).

    A voucher locked by five wrong passwords is unlocked by it too (issue 13 §4): the
    subscriber recovers it without an operator, and whoever guessed faces a new password
    with five fresh tries.

    Raises ``UnknownOrder``, or ``NoVoucherToResend`` unless the voucher is unused (issued
    or locked).
    """
    order = orders.find(conn, subscriber.id, no)
    status = conn.execute(
        select(voucher.c.status).where(voucher.c.order_id == order.id)
    ).scalar_one_or_none()
    if order.status != "voucher_issued" or status not in voucher_issue.RESENDABLE:
        raise NoVoucherToResend(order.no)
    if status == "locked":
        audit.record(
            conn,
            actor_kind="subscriber",
            actor=subscriber.msisdn,
            action="voucher_unlock",
            subject=f"order:{order.no}",
            result="resent",
            now=now,
        )
    issued = voucher_issue.issue(
        conn, order, subscriber, now, keyring, policy.timezone, resend=True
    )
    return issued.expires_at


def expire(conn: Connection, now: int) -> int:
    """Mark issued vouchers past their date (UTC epoch ``now``) expired; how many. Idempotent."""
    return int(
        conn.execute(
            update(voucher)
            .where(and_(voucher.c.status == "issued", voucher.c.expires_at <= now))
            .values(status="expired")
        ).rowcount
    )
