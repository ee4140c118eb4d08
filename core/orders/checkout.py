"""Checking out a cart (§2.2.11–12): one order per cart line, one code for all of them.

Each line becomes an ordinary order through ``core.orders.redemption.redeem`` (limits,
stock, hold, all as for an SMS redemption), so every ledger rule stays per order: one
hold, one ``order:{no}:pay`` entry, one refund key. The orders share a
``checkout_no`` (the first order's number) and ONE 6-digit code sent by SMS to the
subscriber's number (``core.platform.otp.ORDER_CONFIRM``): each order's ``otp`` row
holds the keyed hash of that code over its own order number, with the same life
(5 minutes), tries (5, counted on all rows at once) and single use. The right code
pays every order of the checkout in one unit of work; the fifth wrong one, or an
expired code, cancels them all and releases their holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, and_, select, update

from core.messaging import outbox
from core.orders import cart, orders, payment, redemption, texts
from core.orders.errors import EmptyCart, NeedAddress, NothingToConfirm
from core.orders.orders import OrderPolicy, OrderView
from core.orders.payment import Paid
from core.orders.redemption import CodeDead, Pending, WrongCode
from core.platform import otp
from core.platform.codes import Keyring
from core.platform.schema import orders as orders_table
from core.points import ledger
from core.points.errors import NoAccount
from core.subscribers import addresses
from core.subscribers.subscribers import Subscriber


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

    ``key`` is the request's idempotency key; ``note`` (≤ 200 chars) goes with every order.
    Raises (and the caller's unit of work rolls back, nothing held) ``EmptyCart``,
    ``NeedAddress`` for a physical item without an address, ``UnknownAddress``, or what
    ``redemption.redeem`` raises (points or stock short, a limit hit).
    """
    account_id = ledger.account_id_of(conn, subscriber.id)
    if account_id is None:
        raise NoAccount(subscriber.msisdn)
    orders.lock_account(conn, account_id)  # before reading the cart: two submits, one order
    lines = cart.lines(conn, subscriber.id)
    if not lines:
        raise EmptyCart()
    shipping = None
    if any(line.kind == "physical" for line in lines):
        if address_id is None:
            raise NeedAddress()
        shipping = addresses.get(conn, subscriber.id, address_id).text
    pendings = [
        redemption.redeem(
            conn,
            subscriber=subscriber,
            code=line.code,
            qty=line.qty,
            channel=channel,
            key=f"{key}:{line.item_id}",
            now=now,
            policy=policy,
            keyring=keyring,
            with_code=False,
        )
        for line in lines
    ]
    checkout_no = pendings[0].no
    for pending, line in zip(pendings, lines, strict=True):
        conn.execute(
            update(orders_table)
            .where(orders_table.c.no == pending.no)
            .values(
                checkout_no=checkout_no,
                note=note[:200] or None,
                address=shipping if line.kind == "physical" else None,
            )
        )
    ids = dict(
        conn.execute(
            select(orders_table.c.no, orders_table.c.id).where(
                orders_table.c.no.in_([p.no for p in pendings])
            )
        ).all()
    )
    code = redemption.issue_code(
        conn, subscriber, [(int(ids[p.no]), p.no) for p in pendings], now, keyring
    )
    cart.clear(conn, subscriber.id, [line.item_id for line in lines])
    lifetime = otp.ORDER_CONFIRM.lifetime_seconds
    outbox.enqueue(
        conn,
        key=f"checkout:{checkout_no}:otp",
        recipient=subscriber.msisdn,
        text=texts.notice(
            subscriber.lang,
            "checkout_code",
            count=sum(p.qty for p in pendings),
            points=sum(p.points for p in pendings),
            code=code,
            minutes=lifetime // 60,
        ),
        now=now,
        secrets=(code,),
        keyring=keyring,
    )
    return Submitted(checkout_no, pendings, now + lifetime)


def _waiting(conn: Connection, subscriber_id: int, checkout_no: str) -> list[OrderView]:
    rows = conn.execute(
        orders.order_query()
        .where(
            and_(
                orders_table.c.subscriber_id == subscriber_id,
                orders_table.c.checkout_no == checkout_no,
                orders_table.c.status == "awaiting_otp",
            )
        )
        .order_by(orders_table.c.id)
    ).all()
    return [OrderView(*r) for r in rows]


def pending_checkout(conn: Connection, subscriber_id: int) -> str | None:
    """The subscriber's latest checkout still waiting for its code."""
    found = conn.execute(
        select(orders_table.c.checkout_no)
        .where(
            and_(
                orders_table.c.subscriber_id == subscriber_id,
                orders_table.c.status == "awaiting_otp",
                orders_table.c.checkout_no.is_not(None),
            )
        )
        .order_by(orders_table.c.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return str(found) if found is not None else None


def of_order(conn: Connection, no: str) -> str | None:
    """The checkout order ``no`` was placed in, if it came from a cart."""
    found = conn.execute(
        select(orders_table.c.checkout_no).where(orders_table.c.no == no)
    ).scalar_one_or_none()
    return None if found is None else str(found)


def confirm(
    conn: Connection,
    *,
    subscriber: Subscriber,
    code: str,
    now: int,
    policy: OrderPolicy,
    keyring: Keyring,
    checkout_no: str | None = None,
) -> CheckoutOutcome:
    """Check the payment code of checkout ``checkout_no`` (default: the latest waiting
    one) and, if right, pay all of it.

    Raises ``NothingToConfirm`` when no checkout waits for a code.
    """
    checkout_no = checkout_no or pending_checkout(conn, subscriber.id)
    if checkout_no is None:
        raise NothingToConfirm()
    account_id = ledger.account_id_of(conn, subscriber.id)
    assert account_id is not None
    orders.lock_account(conn, account_id)
    waiting = _waiting(conn, subscriber.id, checkout_no)  # read again under the lock
    if not waiting:
        raise NothingToConfirm()
    refused = redemption.check_code(conn, waiting, code, now, keyring)
    if refused is not None:
        return refused
    paid = [
        payment.pay(conn, order, subscriber, now, keyring, policy.timezone) for order in waiting
    ]
    return CheckoutPaid(checkout_no, paid)


def local_time(now: int, policy: OrderPolicy) -> str:
    return datetime.fromtimestamp(now, policy.timezone).strftime("%Y-%m-%d %H:%M")
