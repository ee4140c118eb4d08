"""Orders (DESIGN.md §5): redeem with a hold and a confirm code, pay, fulfil, cancel, refund.

``created → awaiting_otp (points held, stock reserved) → paid →
{shipped → delivered | voucher_issued → verified}``; an unpaid order may be
cancelled or expire (hold released, stock returned); a paid order or an unused
voucher may be refunded (a +refund entry); a shipped parcel, a top-up or a
verified voucher cannot. Every transition is a conditional UPDATE checked
against ``TRANSITIONS``; the rest are refused with ``IllegalTransition``.

On PostgreSQL each operation first locks the subscriber's account row, so one
subscriber's redemptions are serialised (limits are counted safely); SQLite has
a single writer.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Connection, and_, bindparam, func, insert, select, update

from core import catalog, ledger, notices, outbox, pay_methods
from core.catalog import ItemView
from core.codes import OTP_DIGITS, VOUCHER_PASSWORD_DIGITS, Keyring, digits, token
from core.errors import (
    ActivityNotOngoing,
    BadQuantity,
    CannotCancel,
    DuplicateEntry,
    IllegalTransition,
    LimitReached,
    NeedAddress,
    NoAccount,
    NothingToConfirm,
    NoVoucherToResend,
    OutOfStock,
    UnknownItem,
    UnknownOrder,
)
from core.prepared import Prepared
from core.schema import account, address, item, order_event, orders, otp, topup, voucher
from core.sql import for_update, ignoring
from core.subscribers import Subscriber

TRANSITIONS: dict[str, frozenset[str]] = {
    "created": frozenset({"awaiting_otp", "paid", "cancelled", "expired"}),
    "awaiting_otp": frozenset({"paid", "cancelled", "expired"}),
    "paid": frozenset({"shipped", "delivered", "voucher_issued", "refunded"}),
    "shipped": frozenset({"delivered"}),
    "voucher_issued": frozenset({"verified", "refunded"}),
    "delivered": frozenset(),
    "verified": frozenset(),
    "cancelled": frozenset(),
    "expired": frozenset(),
    "refunded": frozenset(),
}
UNPAID = ("created", "awaiting_otp")
LIVE = ("created", "awaiting_otp", "paid", "shipped", "delivered", "voucher_issued", "verified")
DAY = 86_400
DEFAULT_ZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class OrderPolicy:
    pay_seconds: int = 15 * 60
    otp_seconds: int = 5 * 60
    otp_tries: int = 5
    max_qty: int = 10
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_ZONE))


@dataclass(frozen=True)
class Pending:
    """A redemption waiting for its confirm code; ``code`` is shown once and stored hashed."""

    no: str
    item: ItemView
    qty: int
    points: int
    code: str
    code_expires_at: int
    method: str = "points"
    cash_cents: int = 0
    """For a method with cash: no confirm code; the money is paid through the gateway."""


@dataclass(frozen=True)
class OrderView:
    id: int
    no: str
    subscriber_id: int
    item_id: int
    item_code: str
    item_zh: str
    item_en: str
    kind: str
    qty: int
    points: int
    status: str
    hold_id: int | None
    address: str | None
    carrier: str | None
    tracking_no: str | None
    created_at: int
    paid_at: int | None

    def item_name(self, lang: str) -> str:
        return self.item_en if lang == "en" else self.item_zh


@dataclass(frozen=True)
class Paid:
    order: OrderView
    voucher_expires_at: int | None = None
    voucher_token: str | None = None
    """The QR token, shown once (only its keyed hash is stored): render it with ``core.qr``."""
    voucher_password: str | None = None
    """The verification password, shown once (for the chat's voucher message)."""


@dataclass(frozen=True)
class WrongCode:
    tries_left: int


@dataclass(frozen=True)
class CodeDead:
    """The code expired or was guessed wrong too often; the order has been cancelled."""

    no: str
    reason: str


ConfirmOutcome = Paid | WrongCode | CodeDead

_ORDER_COLUMNS = (
    orders.c.id,
    orders.c.no,
    orders.c.subscriber_id,
    orders.c.item_id,
    item.c.code,
    item.c.name_zh,
    item.c.name_en,
    item.c.kind,
    orders.c.qty,
    orders.c.points,
    orders.c.status,
    orders.c.hold_id,
    orders.c.address,
    orders.c.carrier,
    orders.c.tracking_no,
    orders.c.created_at,
    orders.c.paid_at,
)


def _order_query() -> Any:
    return select(*_ORDER_COLUMNS).select_from(orders.join(item, item.c.id == orders.c.item_id))


_FIND = Prepared(
    _order_query().where(
        and_(orders.c.no == bindparam("no"), orders.c.subscriber_id == bindparam("sid"))
    )
)
_PENDING = Prepared(
    _order_query()
    .where(and_(orders.c.subscriber_id == bindparam("sid"), orders.c.status == "awaiting_otp"))
    .order_by(orders.c.id.desc())
    .limit(1)
)
_MOVE = Prepared(
    update(orders)
    .where(and_(orders.c.id == bindparam("oid"), orders.c.status == bindparam("current")))
    .values(status=bindparam("wanted"), updated_at=bindparam("now"))
)
_EVENT = Prepared(
    insert(order_event).values(
        order_id=bindparam("oid"),
        from_status=bindparam("current"),
        to_status=bindparam("wanted"),
        at=bindparam("now"),
        note=bindparam("note"),
    )
)
_STATUS_OF = Prepared(select(orders.c.status).where(orders.c.id == bindparam("oid")))
_ACCOUNT_OF = Prepared(select(orders.c.account_id).where(orders.c.id == bindparam("oid")))
_RESERVE = Prepared(
    update(item)
    .where(and_(item.c.id == bindparam("iid"), item.c.stock >= bindparam("qty")))
    .values(stock=item.c.stock - bindparam("qty", type_=BigInteger))
)
_SELL = Prepared(
    update(item)
    .where(item.c.id == bindparam("iid"))
    .values(sold=item.c.sold + bindparam("qty", type_=BigInteger))
)
_NEW_ORDER = Prepared(
    lambda d: (
        ignoring(d, orders)
        .values(
            no=bindparam("no"),
            subscriber_id=bindparam("sid"),
            account_id=bindparam("aid"),
            item_id=bindparam("iid"),
            activity_id=bindparam("activity_id"),
            qty=bindparam("qty"),
            points=bindparam("points"),
            cash_cents=bindparam("cash_cents"),
            pay_method=bindparam("method"),
            status="created",
            channel=bindparam("channel"),
            address=bindparam("address"),
            idempotency_key=bindparam("key"),
            created_at=bindparam("now"),
            updated_at=bindparam("now"),
            pay_by=bindparam("pay_by"),
            hold_id=bindparam("hold_id"),
        )
        .returning(orders.c.id)
    )
)
_NEW_OTP = Prepared(
    insert(otp).values(
        order_id=bindparam("oid"),
        msisdn=bindparam("msisdn"),
        code_hash=bindparam("code_hash"),
        expires_at=bindparam("expires_at"),
        attempts=0,
    )
)
_OTP_OF = Prepared(
    select(otp.c.id, otp.c.code_hash, otp.c.expires_at, otp.c.attempts, otp.c.used_at).where(
        otp.c.order_id == bindparam("oid")
    )
)
_OTP_TRIED = Prepared(
    update(otp).where(otp.c.id == bindparam("otp_id")).values(attempts=bindparam("tries"))
)
_OTP_USED = Prepared(
    update(otp).where(otp.c.id == bindparam("otp_id")).values(used_at=bindparam("now"))
)
_PAID_AT = Prepared(
    update(orders).where(orders.c.id == bindparam("oid")).values(paid_at=bindparam("now"))
)
_FACE_VALUE = Prepared(select(item.c.face_value_cents).where(item.c.id == bindparam("iid")))
_NEW_TOPUP = Prepared(
    insert(topup).values(
        order_id=bindparam("oid"),
        msisdn=bindparam("msisdn"),
        amount_cents=bindparam("cents"),
        status="requested",
        created_at=bindparam("now"),
    )
)
_CASH_OF = Prepared(
    select(item.c.cash_cents, item.c.price_cents).where(item.c.id == bindparam("iid"))
)
_PAY_METHOD = Prepared(select(orders.c.pay_method).where(orders.c.id == bindparam("oid")))
_LOCK_ACCOUNT = Prepared(
    select(account.c.id).where(account.c.id == bindparam("aid")).with_for_update()
)


def find(conn: Connection, subscriber_id: int, no: str) -> OrderView:
    """The subscriber's order ``no``; someone else's order is as unknown as a missing one."""
    row = _FIND.first(conn, no=no, sid=subscriber_id)
    if row is None:
        raise UnknownOrder(no)
    return OrderView(*row)


def by_no(conn: Connection, no: str) -> OrderView | None:
    row = conn.execute(_order_query().where(orders.c.no == no)).first()
    return OrderView(*row) if row else None


def recent(
    conn: Connection, subscriber_id: int, offset: int, limit: int
) -> tuple[list[OrderView], int]:
    total = conn.execute(
        select(func.count()).select_from(orders).where(orders.c.subscriber_id == subscriber_id)
    ).scalar_one()
    rows = conn.execute(
        _order_query()
        .where(orders.c.subscriber_id == subscriber_id)
        .order_by(orders.c.id.desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return [OrderView(*r) for r in rows], int(total)


def set_status(conn: Connection, order: OrderView, wanted: str, now: int, note: str = "") -> None:
    """Move ``order`` from the status it was read with to ``wanted``, or refuse."""
    if wanted not in TRANSITIONS[order.status]:
        raise IllegalTransition(order.no, order.status, wanted)
    params = {"oid": order.id, "current": order.status, "wanted": wanted, "now": now}
    if _MOVE.run(conn, **params) != 1:
        raise IllegalTransition(order.no, str(_STATUS_OF.scalar(conn, oid=order.id)), wanted)
    _EVENT.run(conn, note=note[:200], **params)


def _lock_account(conn: Connection, account_id: int) -> None:
    if for_update(conn):
        _LOCK_ACCOUNT.rows(conn, aid=account_id)


def _day_start(now: int, tz: ZoneInfo) -> int:
    local = datetime.fromtimestamp(now, tz)
    return int(local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp())


def _already(conn: Connection, account_id: int, *conditions: Any) -> int:
    return int(
        conn.execute(
            select(func.coalesce(func.sum(orders.c.qty), 0)).where(
                and_(orders.c.account_id == account_id, orders.c.status.in_(LIVE), *conditions)
            )
        ).scalar_one()
    )


def _check_limits(
    conn: Connection, it: ItemView, account_id: int, qty: int, now: int, policy: OrderPolicy
) -> None:
    if it.per_account_limit is not None:
        today = _already(
            conn,
            account_id,
            orders.c.item_id == it.id,
            orders.c.created_at >= _day_start(now, policy.timezone),
        )
        if today + qty > it.per_account_limit:
            raise LimitReached(it.per_account_limit, "day")
    if it.activity_id is not None:
        act = catalog.find_activity(conn, it.activity_id)
        assert act is not None
        if act.state(now) != "ongoing":
            raise ActivityNotOngoing(act.title_zh, act.title_en, act.starts_at, act.ends_at, now)
        if act.per_account_limit is not None:
            taken = _already(conn, account_id, orders.c.activity_id == act.id)
            if taken + qty > act.per_account_limit:
                raise LimitReached(act.per_account_limit, "activity")


def default_address(conn: Connection, subscriber_id: int) -> str | None:
    return conn.execute(
        select(address.c.text)
        .where(address.c.subscriber_id == subscriber_id)
        .order_by(address.c.is_default.desc(), address.c.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def set_default_address(conn: Connection, subscriber_id: int, text: str, now: int) -> None:
    conn.execute(
        update(address).where(address.c.subscriber_id == subscriber_id).values(is_default=False)
    )
    conn.execute(
        address.insert().values(
            subscriber_id=subscriber_id, text=text[:200], is_default=True, created_at=now
        )
    )


def _new_order_no(now: int, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(now, tz).strftime("%y%m%d") + f"{secrets.randbelow(10**6):06d}"


def redeem(
    conn: Connection,
    *,
    subscriber: Subscriber,
    code: str,
    qty: int,
    channel: str,
    key: str,
    now: int,
    policy: OrderPolicy,
    keyring: Keyring,
    method: str = "points",
) -> Pending:
    """Create an order, hold its points and reserve its stock; return the confirm code.

    With a ``method`` other than ``points`` (§3.5.6) the order stays ``created``
    with its points (if any) held and no confirm code: ``core.payments`` opens
    the payment saga that pays it once the cash has arrived.
    Nothing is changed when it raises: the caller's unit of work rolls back.
    """
    it = catalog.find_item(conn, code)
    if it is None:
        raise UnknownItem(code)
    if not 1 <= qty <= policy.max_qty:
        raise BadQuantity(qty, policy.max_qty)
    points, cash = pay_methods.amounts(
        code=it.code,
        offered=pay_methods.offered_by(conn, it.id),
        method=method,
        points=it.points,
        cash_cents=_CASH_OF.first(conn, iid=it.id),
        qty=qty,
    )
    account_id = ledger.account_id_of(conn, subscriber.id)
    if account_id is None:
        raise NoAccount(subscriber.msisdn)
    _lock_account(conn, account_id)
    _check_limits(conn, it, account_id, qty, now, policy)
    if it.stock is not None and _RESERVE.run(conn, iid=it.id, qty=qty) != 1:
        left = conn.execute(select(item.c.stock).where(item.c.id == it.id)).scalar_one()
        raise OutOfStock(it.code, int(left or 0))
    shipping = None
    if it.kind == "physical":
        shipping = default_address(conn, subscriber.id)
        if shipping is None:
            raise NeedAddress()
    hold_id = None
    if points > 0:
        hold_id = ledger.place_hold(
            conn,
            account_id=account_id,
            amount=points,
            key=f"order:{key}:hold",
            now=now,
            expires_at=now + policy.pay_seconds,
        )
    order_id, no = _insert_order(
        conn,
        {
            "sid": subscriber.id,
            "aid": account_id,
            "iid": it.id,
            "activity_id": it.activity_id,
            "qty": qty,
            "points": points,
            "channel": channel,
            "address": shipping,
            "key": key,
            "now": now,
            "pay_by": now + policy.pay_seconds,
            "hold_id": hold_id,
            "cash_cents": cash,
            "method": method,
        },
        policy,
    )
    if method != "points":
        return Pending(no, it, qty, points, "", now + policy.pay_seconds, method, cash)
    confirm_code = digits(OTP_DIGITS)
    _NEW_OTP.run(
        conn,
        oid=order_id,
        msisdn=subscriber.msisdn,
        code_hash=keyring.digest("otp", no, confirm_code),
        expires_at=now + policy.otp_seconds,
    )
    order = find(conn, subscriber.id, no)
    set_status(conn, order, "awaiting_otp", now)
    return Pending(no, it, qty, points, confirm_code, now + policy.otp_seconds)


def _insert_order(
    conn: Connection, values: dict[str, object], policy: OrderPolicy
) -> tuple[int, str]:
    """Insert with a fresh random order number, retrying on the rare collision."""
    for _ in range(8):
        no = _new_order_no(int(values["now"]), policy.timezone)  # type: ignore[call-overload]
        order_id = _NEW_ORDER.scalar(conn, no=no, **values)
        if order_id is not None:
            return int(order_id), no
        if conn.execute(
            select(orders.c.id).where(orders.c.idempotency_key == values["key"])
        ).first():
            raise DuplicateEntry(str(values["key"]))
    raise RuntimeError("could not find a free order number")


def pending_order(conn: Connection, subscriber_id: int) -> OrderView | None:
    row = _PENDING.first(conn, sid=subscriber_id)
    return OrderView(*row) if row else None


def confirm(
    conn: Connection,
    *,
    subscriber: Subscriber,
    code: str,
    now: int,
    policy: OrderPolicy,
    keyring: Keyring,
    no: str | None = None,
) -> ConfirmOutcome:
    """Check the confirm code for the subscriber's waiting order and, if right, pay it."""
    order = find(conn, subscriber.id, no) if no else pending_order(conn, subscriber.id)
    if order is None or order.status != "awaiting_otp":
        raise NothingToConfirm()
    _lock_account(conn, _account_of(conn, order))
    found = _OTP_OF.first(conn, oid=order.id)
    assert found is not None
    otp_id, code_hash, expires_at, attempts, used_at = found
    if used_at is not None:
        raise NothingToConfirm()
    if now >= expires_at:
        _end_unpaid(conn, order, "cancelled", now, "confirm code expired")
        return CodeDead(order.no, "expired")
    if not keyring.matches(code_hash, "otp", order.no, code):
        tries = int(attempts) + 1
        _OTP_TRIED.run(conn, otp_id=otp_id, tries=tries)
        if tries >= policy.otp_tries:
            _end_unpaid(conn, order, "cancelled", now, "too many wrong confirm codes")
            return CodeDead(order.no, "tries")
        return WrongCode(policy.otp_tries - tries)
    _OTP_USED.run(conn, otp_id=otp_id, now=now)
    return _pay(conn, order, subscriber, now, keyring, policy.timezone)


def _reason_args(order: OrderView) -> dict[str, object]:
    """What ``MX`` needs to word a redeem or refund entry in either language."""
    return {"zh": order.item_zh, "en": order.item_en, "qty": order.qty, "no": order.no}


def _account_of(conn: Connection, order: OrderView) -> int:
    return int(_ACCOUNT_OF.scalar(conn, oid=order.id))


def _pay(
    conn: Connection,
    order: OrderView,
    subscriber: Subscriber,
    now: int,
    keyring: Keyring,
    tz: ZoneInfo,
) -> Paid:
    set_status(conn, order, "paid", now)
    _PAID_AT.run(conn, oid=order.id, now=now)
    if order.hold_id is not None:  # a cash-only order holds no points
        captured = ledger.capture_hold(
            conn,
            order.hold_id,
            source="order",
            key=f"order:{order.no}:pay",
            reason_key="redeem",
            reason_args=_reason_args(order),
            ref=f"order {order.no}",
            now=now,
        )
        if captured is None:
            raise IllegalTransition(order.no, order.status, "paid")
    _SELL.run(conn, iid=order.item_id, qty=order.qty)
    paid = find(conn, subscriber.id, order.no)
    if order.kind == "credit":
        face = _FACE_VALUE.scalar(conn, iid=order.item_id)
        _NEW_TOPUP.run(
            conn,
            oid=order.id,
            msisdn=subscriber.msisdn,
            cents=int(face or 0) * order.qty,
            now=now,
        )
        return Paid(paid)
    if order.kind == "voucher":
        expires_at, qr, password = _issue_voucher(
            conn, paid, subscriber, now, keyring, tz, resend=False
        )
        set_status(conn, paid, "voucher_issued", now)
        return Paid(find(conn, subscriber.id, order.no), expires_at, qr, password)
    return Paid(paid)


def pay_for_money(
    conn: Connection,
    order: OrderView,
    subscriber: Subscriber,
    now: int,
    keyring: Keyring,
    tz: ZoneInfo,
) -> Paid:
    """Pay and fulfil a ``created`` order whose money has arrived (the saga's points step)."""
    return _pay(conn, order, subscriber, now, keyring, tz)


def lock_account_of(conn: Connection, order: OrderView) -> None:
    """Lock the order's account row first (PostgreSQL), as every order operation does,
    so the payment saga and the timeout job take their locks in one order."""
    _lock_account(conn, _account_of(conn, order))


def end_unpaid(conn: Connection, order: OrderView, status: str, now: int, note: str) -> None:
    """End a waiting order (``cancelled`` or ``expired``): hold released, stock returned."""
    _end_unpaid(conn, order, status, now, note)


def _issue_voucher(
    conn: Connection,
    order: OrderView,
    subscriber: Subscriber,
    now: int,
    keyring: Keyring,
    tz: ZoneInfo,
    *,
    resend: bool,
) -> tuple[int, str, str]:
    """Make a voucher password and QR token, store their keyed hashes, queue the SMS.

    Returns the expiry, the QR token (for an MMS or chat picture) and the password.
    """
    it = catalog.find_item(conn, order.item_code)
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
            .where(and_(voucher.c.order_id == order.id, voucher.c.status == "issued"))
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
    text = notices.notice(
        lang,
        "voucher_resent" if resend else "voucher",
        no=order.no,
        item=notices.short(order.item_name(lang), lang),
        password=password,
        date=notices.day(expires_at - 1, tz),
        merchant=it.merchant_name(lang) or "",
    )
    outbox.enqueue(
        conn,
        key=f"voucher:{order.no}:{token_hash[:16]}",
        recipient=subscriber.msisdn,
        text=text,
        now=now,
    )
    return expires_at, qr, password


def resend_voucher(
    conn: Connection,
    *,
    subscriber: Subscriber,
    no: str,
    now: int,
    keyring: Keyring,
    policy: OrderPolicy,
) -> int:
    """Replace the voucher's password and token (the old ones stop working) and resend."""
    order = find(conn, subscriber.id, no)
    status = conn.execute(
        select(voucher.c.status).where(voucher.c.order_id == order.id)
    ).scalar_one_or_none()
    if order.status != "voucher_issued" or status != "issued":
        raise NoVoucherToResend(order.no)
    return _issue_voucher(conn, order, subscriber, now, keyring, policy.timezone, resend=True)[0]


def _end_unpaid(conn: Connection, order: OrderView, status: str, now: int, note: str) -> None:
    set_status(conn, order, status, now, note)
    if order.hold_id is not None:
        ledger.release_hold(conn, order.hold_id)
    _restock(conn, order)
    conn.execute(
        update(otp)
        .where(and_(otp.c.order_id == order.id, otp.c.used_at.is_(None)))
        .values(used_at=now)
    )


def _restock(conn: Connection, order: OrderView) -> None:
    conn.execute(
        update(item)
        .where(and_(item.c.id == order.item_id, item.c.stock.is_not(None)))
        .values(stock=item.c.stock + order.qty)
    )


def cancel(conn: Connection, *, subscriber: Subscriber, no: str, now: int) -> str:
    """Cancel an unpaid order or refund a paid one; return the new status."""
    order = find(conn, subscriber.id, no)
    _lock_account(conn, _account_of(conn, order))
    if order.status in UNPAID:
        _end_unpaid(conn, order, "cancelled", now, "cancelled by subscriber")
        return "cancelled"
    refundable = order.status == "voucher_issued" or (
        order.status == "paid" and order.kind == "physical"
    )
    if not refundable or _PAY_METHOD.scalar(conn, oid=order.id) != "points":
        raise CannotCancel(order.no, order.status)  # money back goes through the operator
    if order.status == "voucher_issued":
        voided = conn.execute(
            update(voucher)
            .where(and_(voucher.c.order_id == order.id, voucher.c.status == "issued"))
            .values(status="refunded")
        ).rowcount
        if voided != 1:
            raise CannotCancel(order.no, "voucher used or locked")
    set_status(conn, order, "refunded", now, "refunded at subscriber's request")
    ledger.refund(
        conn,
        paid_key=f"order:{order.no}:pay",
        key=f"order:{order.no}:refund",
        source="order",
        reason_key="refund",
        reason_args=_reason_args(order),
        ref=f"order {order.no}",
        now=now,
    )
    _restock(conn, order)
    conn.execute(
        update(item).where(item.c.id == order.item_id).values(sold=item.c.sold - order.qty)
    )
    return "refunded"


def expire_unpaid(conn: Connection, now: int, limit: int = 500) -> int:
    """Expire orders not paid in time: release holds and stock. Idempotent."""
    rows = conn.execute(
        _order_query()
        .where(and_(orders.c.status.in_(UNPAID), orders.c.pay_by <= now))
        .order_by(orders.c.pay_by)
        .limit(limit)
    ).all()
    done = 0
    for row in rows:
        order = OrderView(*row)
        _lock_account(conn, _account_of(conn, order))  # the lock order every writer keeps
        try:
            _end_unpaid(conn, order, "expired", now, "not paid in time")
            done += 1
        except IllegalTransition:
            continue
    return done


def expire_vouchers(conn: Connection, now: int) -> int:
    """Mark issued vouchers past their date as expired. Idempotent."""
    return int(
        conn.execute(
            update(voucher)
            .where(and_(voucher.c.status == "issued", voucher.c.expires_at <= now))
            .values(status="expired")
        ).rowcount
    )
