"""Redeeming an item (DESIGN §5, §2.2.12): an order that holds the points and reserves the
stock, then a confirm code by SMS that pays it.

``redeem`` checks the item, the quantity, the payment method (§3.5.6), the
per-account limits (per day, per activity) and the stock, holds the points
(``order:{key}:hold``) and, paid with points only, issues the confirm code
(``core.platform.otp.ORDER_CONFIRM``). ``confirm`` checks the code: right pays
the order (``core.orders.payment``), the fifth wrong try or an expired code
cancels it and gives back the hold and the stock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Connection, and_, bindparam, func, select, update

from core.catalogue import catalogue, pay_methods
from core.catalogue.catalogue import ItemView
from core.catalogue.errors import ActivityNotOngoing, UnknownItem
from core.orders import cancellation, orders, payment, states
from core.orders.errors import BadQuantity, LimitReached, NeedAddress, NothingToConfirm, OutOfStock
from core.orders.orders import OrderPolicy
from core.orders.payment import Paid
from core.platform import otp
from core.platform.codes import Keyring
from core.platform.errors import DuplicateEntry
from core.platform.prepared import Prepared
from core.platform.schema import item
from core.platform.schema import orders as orders_table
from core.platform.schema import otp as otp_table
from core.platform.sql import ignoring
from core.points import ledger
from core.points.errors import NoAccount
from core.subscribers import addresses
from core.subscribers.subscribers import Subscriber


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
class WrongCode:
    tries_left: int


@dataclass(frozen=True)
class CodeDead:
    """The code expired or was guessed wrong too often; the order has been cancelled."""

    no: str
    reason: str


ConfirmOutcome = Paid | WrongCode | CodeDead

_RESERVE = Prepared(
    update(item)
    .where(and_(item.c.id == bindparam("iid"), item.c.stock >= bindparam("qty")))
    .values(stock=item.c.stock - bindparam("qty", type_=BigInteger))
)
_NEW_ORDER = Prepared(
    lambda d: (
        ignoring(d, orders_table)
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
        .returning(orders_table.c.id)
    )
)
_CASH_OF = Prepared(
    select(item.c.cash_cents, item.c.price_cents).where(item.c.id == bindparam("iid"))
)


def _day_start(now: int, tz: ZoneInfo) -> int:
    local = datetime.fromtimestamp(now, tz)
    return int(local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp())


def _already(conn: Connection, account_id: int, *conditions: Any) -> int:
    return int(
        conn.execute(
            select(func.coalesce(func.sum(orders_table.c.qty), 0)).where(
                and_(
                    orders_table.c.account_id == account_id,
                    orders_table.c.status.in_(states.LIVE),
                    *conditions,
                )
            )
        ).scalar_one()
    )


def _check_limits(
    conn: Connection, it: ItemView, account_id: int, qty: int, now: int, policy: OrderPolicy
) -> None:
    """The activity first (running? its per-account limit), then the item's per-day limit:
    the refusal names the limit that binds, with what was taken and asked."""
    if it.activity_id is not None:
        act = catalogue.find_activity(conn, it.activity_id)
        assert act is not None
        if act.state(now) != "ongoing":
            raise ActivityNotOngoing(act.title_zh, act.title_en, act.starts_at, act.ends_at, now)
        if act.per_account_limit is not None:
            taken = _already(conn, account_id, orders_table.c.activity_id == act.id)
            if taken + qty > act.per_account_limit:
                raise LimitReached(act.per_account_limit, "activity", taken, qty)
    if it.per_account_limit is not None:
        today = _already(
            conn,
            account_id,
            orders_table.c.item_id == it.id,
            orders_table.c.created_at >= _day_start(now, policy.timezone),
        )
        if today + qty > it.per_account_limit:
            raise LimitReached(it.per_account_limit, "day", today, qty)


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
    with_code: bool = True,
) -> Pending:
    """Create an order of ``qty`` × item ``code``, hold its points and reserve its stock.

    ``key`` is the request's idempotency key (the channel's message id); ``now`` UTC epoch.
    Paid with points, the order awaits its confirm code, returned once in ``Pending.code``
    (``with_code=False``: the caller issues one code for several orders, as a checkout does).
    With another ``method`` (§3.5.6) the order stays ``created`` with its points (if any)
    held and no code: ``core.payments.saga`` pays it once the cash has arrived.

    Raises ``UnknownItem``, ``BadQuantity``, ``MethodNotOffered``, ``NoAccount``,
    ``LimitReached``, ``ActivityNotOngoing``, ``OutOfStock``, ``NeedAddress``,
    ``InsufficientPoints`` or ``DuplicateEntry``; nothing is changed when it raises (the
    caller's unit of work rolls back).
    """
    it = catalogue.find_item(conn, code)
    if it is None:
        raise UnknownItem(code)
    if not 1 <= qty <= policy.max_qty:
        raise BadQuantity(qty, policy.max_qty)
    points, cash = pay_methods.amounts(
        code=it.code,
        offered=pay_methods.parse(it.pay_methods),
        method=method,
        points=it.points,
        cash_cents=(it.cash_cents, it.price_cents),
        qty=qty,
    )
    account_id = orders.lock_subscriber_account(conn, subscriber.id)
    if account_id is None:
        raise NoAccount(subscriber.msisdn)
    _check_limits(conn, it, account_id, qty, now, policy)
    if it.stock is not None and _RESERVE.run(conn, iid=it.id, qty=qty) != 1:
        left = conn.execute(select(item.c.stock).where(item.c.id == it.id)).scalar_one()
        raise OutOfStock(it.code, int(left or 0))
    shipping = None
    if it.kind == "physical":
        shipping = addresses.default_text(conn, subscriber.id)
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
    confirm_code = ""
    if with_code:
        confirm_code = issue_code(conn, subscriber, [(order_id, no)], now, keyring)
    states.move(conn, order_id, no, "created", "awaiting_otp", now)
    return Pending(no, it, qty, points, confirm_code, now + otp.ORDER_CONFIRM.lifetime_seconds)


def issue_code(
    conn: Connection,
    subscriber: Subscriber,
    waiting: list[tuple[int, str]],
    now: int,
    keyring: Keyring,
) -> str:
    """One confirm code for the ``(order id, order no)`` pairs in ``waiting``, returned once."""
    return otp.issue(
        conn,
        otp.ORDER_CONFIRM,
        replaces=None,
        challenges=[({"order_id": oid, "msisdn": subscriber.msisdn}, (no,)) for oid, no in waiting],
        now=now,
        keyring=keyring,
    )


def _insert_order(
    conn: Connection, values: dict[str, object], policy: OrderPolicy
) -> tuple[int, str]:
    """Insert with a fresh random order number, retrying on the rare collision."""
    for _ in range(8):
        no = orders.new_order_no(int(values["now"]), policy.timezone)  # type: ignore[call-overload]
        order_id = _NEW_ORDER.scalar(conn, no=no, **values)
        if order_id is not None:
            return int(order_id), no
        if conn.execute(
            select(orders_table.c.id).where(orders_table.c.idempotency_key == values["key"])
        ).first():
            raise DuplicateEntry(str(values["key"]))
    raise RuntimeError("could not find a free order number")


def check_code(
    conn: Connection, waiting: list[orders.OrderView], code: str, now: int, keyring: Keyring
) -> WrongCode | CodeDead | None:
    """Check the one code of the orders ``waiting`` (locked, all ``awaiting_otp``).

    None: right, and used. A wrong code counts a try; the fifth, or an expired code,
    cancels every order in ``waiting`` (holds released, stock back). Raises
    ``NothingToConfirm`` when no live code is left for them.
    """
    numbers = {o.id: o.no for o in waiting}
    checked = otp.check(
        conn,
        otp.ORDER_CONFIRM,
        where=otp_table.c.order_id.in_(list(numbers)),
        binding=lambda row: (numbers[int(row.order_id)],),
        code=code,
        now=now,
        keyring=keyring,
    )
    if checked.verdict == "accepted":
        return None
    if checked.verdict == "wrong":
        return WrongCode(checked.tries_left)
    if checked.verdict == "none":
        raise NothingToConfirm()
    expired = checked.verdict == "expired"
    note = "confirm code expired" if expired else "too many wrong confirm codes"
    for order in waiting:
        cancellation.end_unpaid(conn, order, "cancelled", now, note)
    return CodeDead(waiting[0].no, "expired" if expired else "tries")


@dataclass(frozen=True)
class Opened:
    """What a confirm code opens: an order, and the chat checkout it belongs to, if any."""

    no: str
    checkout_no: str | None


def order_for_code(
    conn: Connection, subscriber_id: int, code: str, now: int, keyring: Keyring
) -> Opened | None:
    """The subscriber's order waiting for a code that ``code`` opens (with its checkout,
    read in the same statement), or None.

    A subscriber may have several orders waiting (an SMS ``DH`` and a chat checkout,
    say); the code texted back belongs to exactly one of them (§2.2.12). Counts no try.
    """
    found = otp.matching(
        conn,
        otp.ORDER_CONFIRM,
        where=and_(
            orders_table.c.subscriber_id == subscriber_id,
            orders_table.c.status == "awaiting_otp",
        ),
        binding=lambda row: (str(row.no),),
        code=code,
        now=now,
        keyring=keyring,
        joined=(
            orders_table,
            orders_table.c.id == otp_table.c.order_id,
            (orders_table.c.no, orders_table.c.checkout_no),
        ),
    )
    if found is None:
        return None
    return Opened(str(found.no), None if found.checkout_no is None else str(found.checkout_no))


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
    """Check the confirm code of the subscriber's waiting order (or order ``no``) and, if
    right, pay it. Raises ``NothingToConfirm`` when no order is waiting for a code."""
    order = (
        orders.find(conn, subscriber.id, no) if no else orders.pending_order(conn, subscriber.id)
    )
    if order is None or order.status != "awaiting_otp":
        raise NothingToConfirm()
    orders.lock_account_of(conn, order)
    refused = check_code(conn, [order], code, now, keyring)
    if refused is not None:
        return refused
    return payment.pay(conn, order, subscriber, now, keyring, policy.timezone)
