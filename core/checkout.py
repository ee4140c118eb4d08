"""Checking out a cart (§2.2.11–12): one order per cart line, one code for all of them.

Each line becomes an ordinary order through ``core.orders.redeem`` (limits, stock,
hold, all as for an SMS redemption), so every ledger rule stays per order: one
hold, one ``order:{no}:pay`` entry, one refund key. The orders share a
``checkout_no`` (the first order's number) and ONE 6-digit code sent by SMS to the
subscriber's number: each order's ``otp`` row holds the keyed hash of that code
over its own order number, with the same life (5 minutes), tries (5, counted on
all rows at once) and single use. The right code pays every order of the
checkout in one unit of work; the fifth wrong one, or an expired code, cancels
them all and releases their holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, select, update

from core import addresses, cart, ledger, outbox
from core import orders as core_orders
from core.codes import OTP_DIGITS, Keyring, digits
from core.errors import NeedAddress, NoAccount, NothingToConfirm
from core.orders import CodeDead, OrderPolicy, OrderView, Paid, Pending, WrongCode
from core.schema import orders, otp
from core.shop_errors import EmptyCart
from core.subscribers import Subscriber

OTP_SMS = {
    "zh": "您正在积分商城下单{count}件商品,共{points:,}积分,支付验证码{code},{minutes}分钟内有效。"
    "请在聊天中输入验证码完成支付,切勿告诉他人。",
    "en": "Your points mall order of {count} item(s), {points:,} points: payment code {code}, "
    "valid {minutes} minutes. Type it in the chat to pay; never share it.",
}


@dataclass(frozen=True)
class Submitted:
    checkout_no: str
    orders: list[Pending]
    code_expires_at: int

    @property
    def points(self) -> int:
        return sum(p.points for p in self.orders)


@dataclass(frozen=True)
class CheckoutPaid:
    checkout_no: str
    paid: list[Paid]


CheckoutOutcome = CheckoutPaid | WrongCode | CodeDead


def submit(
    conn: Connection,
    *,
    subscriber: Subscriber,
    address_id: int | None,
    note: str,
    channel: str,
    key: str,
    now: int,
    policy: OrderPolicy,
    keyring: Keyring,
) -> Submitted:
    """Turn the cart into orders holding their points, and text the payment code.

    Raises (and the caller's unit of work rolls back, nothing held) when the cart is
    empty, a physical item has no address, points or stock are short, a limit is hit.
    """
    account_id = ledger.account_id_of(conn, subscriber.id)
    if account_id is None:
        raise NoAccount(subscriber.msisdn)
    core_orders._lock_account(conn, account_id)  # before reading the cart: two submits, one order
    lines = cart.lines(conn, subscriber.id)
    if not lines:
        raise EmptyCart()
    shipping = None
    if any(line.kind == "physical" for line in lines):
        if address_id is None:
            raise NeedAddress()
        shipping = addresses.get(conn, subscriber.id, address_id).text
    pendings = [
        core_orders.redeem(
            conn,
            subscriber=subscriber,
            code=line.code,
            qty=line.qty,
            channel=channel,
            key=f"{key}:{line.item_id}",
            now=now,
            policy=policy,
            keyring=keyring,
        )
        for line in lines
    ]
    checkout_no = pendings[0].no
    code = digits(OTP_DIGITS)
    for pending, line in zip(pendings, lines, strict=True):
        conn.execute(
            update(orders)
            .where(orders.c.no == pending.no)
            .values(
                checkout_no=checkout_no,
                note=note[:200] or None,
                address=shipping if line.kind == "physical" else None,
            )
        )
        order_id = select(orders.c.id).where(orders.c.no == pending.no).scalar_subquery()
        conn.execute(
            update(otp)
            .where(otp.c.order_id == order_id)
            .values(code_hash=keyring.digest("otp", pending.no, code))
        )
    cart.clear(conn, subscriber.id, [line.item_id for line in lines])
    expires_at = now + policy.otp_seconds
    outbox.enqueue(
        conn,
        key=f"checkout:{checkout_no}:otp",
        recipient=subscriber.msisdn,
        text=OTP_SMS.get(subscriber.lang, OTP_SMS["zh"]).format(
            count=sum(p.qty for p in pendings),
            points=sum(p.points for p in pendings),
            code=code,
            minutes=policy.otp_seconds // 60,
        ),
        now=now,
    )
    return Submitted(checkout_no, [_without_code(p) for p in pendings], expires_at)


def _without_code(pending: Pending) -> Pending:
    """The per-order codes made by ``redeem`` were replaced; do not hand them out."""
    return Pending(pending.no, pending.item, pending.qty, pending.points, "", 0)


def _waiting(conn: Connection, subscriber_id: int, checkout_no: str) -> list[OrderView]:
    rows = conn.execute(
        core_orders._order_query()
        .where(
            and_(
                orders.c.subscriber_id == subscriber_id,
                orders.c.checkout_no == checkout_no,
                orders.c.status == "awaiting_otp",
            )
        )
        .order_by(orders.c.id)
    ).all()
    return [OrderView(*r) for r in rows]


def pending_checkout(conn: Connection, subscriber_id: int) -> str | None:
    """The subscriber's latest checkout still waiting for its code."""
    found = conn.execute(
        select(orders.c.checkout_no)
        .where(
            and_(
                orders.c.subscriber_id == subscriber_id,
                orders.c.status == "awaiting_otp",
                orders.c.checkout_no.is_not(None),
            )
        )
        .order_by(orders.c.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return str(found) if found is not None else None


def confirm(
    conn: Connection,
    *,
    subscriber: Subscriber,
    code: str,
    now: int,
    policy: OrderPolicy,
    keyring: Keyring,
) -> CheckoutOutcome:
    """Check the payment code of the latest waiting checkout and, if right, pay all of it."""
    checkout_no = pending_checkout(conn, subscriber.id)
    if checkout_no is None:
        raise NothingToConfirm()
    account_id = ledger.account_id_of(conn, subscriber.id)
    assert account_id is not None
    core_orders._lock_account(conn, account_id)
    waiting = _waiting(conn, subscriber.id, checkout_no)  # read again under the lock
    if not waiting:
        raise NothingToConfirm()
    ids = [o.id for o in waiting]
    first = conn.execute(
        select(otp.c.code_hash, otp.c.expires_at, otp.c.attempts, otp.c.used_at).where(
            otp.c.order_id == waiting[0].id
        )
    ).one()
    if first.used_at is not None:
        raise NothingToConfirm()
    if now >= first.expires_at:
        _end_all(conn, waiting, now, "confirm code expired")
        return CodeDead(checkout_no, "expired")
    if not keyring.matches(first.code_hash, "otp", waiting[0].no, code):
        tries = int(first.attempts) + 1
        conn.execute(update(otp).where(otp.c.order_id.in_(ids)).values(attempts=tries))
        if tries >= policy.otp_tries:
            _end_all(conn, waiting, now, "too many wrong confirm codes")
            return CodeDead(checkout_no, "tries")
        return WrongCode(policy.otp_tries - tries)
    used = conn.execute(
        update(otp)
        .where(and_(otp.c.order_id.in_(ids), otp.c.used_at.is_(None)))
        .values(used_at=now)
    ).rowcount
    if used != len(ids):
        raise NothingToConfirm()
    paid = [
        core_orders._pay(conn, order, subscriber, now, keyring, policy.timezone)
        for order in waiting
    ]
    return CheckoutPaid(checkout_no, paid)


def _end_all(conn: Connection, waiting: list[OrderView], now: int, note: str) -> None:
    for order in waiting:
        core_orders._end_unpaid(conn, order, "cancelled", now, note)


def local_time(now: int, policy: OrderPolicy) -> str:
    return datetime.fromtimestamp(now, policy.timezone).strftime("%Y-%m-%d %H:%M")
