"""Verifying vouchers (§3.6.1–3.6.2, DESIGN §5): by order number + password, or by QR token.

Only a merchant's own staff phone, terminal or bot user may verify its vouchers.
A voucher is used once: the change is a conditional UPDATE from ``issued``, so of
many simultaneous attempts exactly one wins. Five wrong passwords lock it (the
customer and the merchant are told) until staff have it unlocked.

Every attempt is audited. A refusal is *returned* (``Refused`` carrying the typed
error), not raised, so the audit row and the wrong-password count are committed
with the caller's unit of work; channels word the error from their own table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Select, and_, case, select, update

from core.merchants import merchants
from core.merchants.errors import NotStaff
from core.merchants.merchants import Actor
from core.messaging import outbox
from core.orders import orders, states
from core.platform import audit
from core.platform.codes import Keyring
from core.platform.schema import item, merchant, subscriber, voucher
from core.platform.schema import orders as orders_table
from core.settlement import settlement
from core.vouchers import texts
from core.vouchers.errors import (
    NotYourVoucher,
    UnknownVoucher,
    VoucherAlreadyUsed,
    VoucherError,
    VoucherExpired,
    VoucherLocked,
    VoucherNotLocked,
    VoucherRefunded,
    WrongVoucherPassword,
)

MAX_WRONG_PASSWORDS = 5
DEFAULT_ZONE = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class VoucherRow:
    id: int
    order_id: int
    no: str
    merchant_id: int
    status: str
    failed_attempts: int
    expires_at: int
    verified_at: int | None
    password_hash: str
    item_zh: str
    item_en: str
    qty: int
    merchant_zh: str
    merchant_en: str
    customer: str
    customer_lang: str

    def item_name(self, lang: str) -> str:
        return self.item_en if lang == "en" else self.item_zh

    def merchant_name(self, lang: str) -> str:
        return self.merchant_en if lang == "en" else self.merchant_zh


@dataclass(frozen=True)
class Verified:
    voucher: VoucherRow
    at: int


@dataclass(frozen=True)
class Refused:
    error: VoucherError | NotStaff


VerifyOutcome = Verified | Refused


def _query() -> Select[Any]:
    return select(
        voucher.c.id,
        voucher.c.order_id,
        orders_table.c.no,
        voucher.c.merchant_id,
        voucher.c.status,
        voucher.c.failed_attempts,
        voucher.c.expires_at,
        voucher.c.verified_at,
        voucher.c.password_hash,
        item.c.name_zh,
        item.c.name_en,
        orders_table.c.qty,
        merchant.c.name_zh,
        merchant.c.name_en,
        subscriber.c.msisdn,
        subscriber.c.lang,
    ).select_from(
        voucher.join(orders_table, orders_table.c.id == voucher.c.order_id)
        .join(item, item.c.id == orders_table.c.item_id)
        .join(merchant, merchant.c.id == voucher.c.merchant_id)
        .join(subscriber, subscriber.c.id == orders_table.c.subscriber_id)
    )


def _find(conn: Connection, *condition: Any) -> VoucherRow | None:
    row = conn.execute(_query().where(*condition)).first()
    if row is None:
        return None
    return VoucherRow(
        int(row[0]),
        int(row[1]),
        row[2],
        int(row[3]),
        row[4],
        int(row[5]),
        int(row[6]),
        None if row[7] is None else int(row[7]),
        *row[8:],
    )


def _audit(
    conn: Connection, actor: Actor, action: str, subject: str, result: str, now: int, **details: Any
) -> None:
    audit.record(
        conn,
        actor_kind=actor.kind,
        actor=actor.ref,
        action=action,
        subject=subject,
        result=result,
        now=now,
        details=details,
    )


def _refuse(
    conn: Connection,
    actor: Actor,
    action: str,
    subject: str,
    error: VoucherError | NotStaff,
    now: int,
) -> Refused:
    result = type(error).__name__
    details: dict[str, Any] = {}
    if isinstance(error, WrongVoucherPassword):
        details["tries_left"] = error.tries_left
    _audit(conn, actor, action, subject, result, now, **details)
    return Refused(error)


def _gate(row: VoucherRow, actor: Actor, now: int) -> VoucherError | None:
    """Why ``actor`` may not verify ``row`` now, before any password is looked at."""
    if row.merchant_id not in actor.merchant_ids:
        return NotYourVoucher(row.no)
    if row.status == "verified":
        return VoucherAlreadyUsed(row.no, row.verified_at or 0)
    if row.status == "refunded":
        return VoucherRefunded(row.no)
    if row.status == "locked":
        return VoucherLocked(row.no)
    if row.status == "expired" or now >= row.expires_at:
        return VoucherExpired(row.no, row.expires_at)
    return None


def verify_by_password(
    conn: Connection,
    actor: Actor,
    order_no: str,
    password: str,
    now: int,
    *,
    keyring: Keyring,
    tz: ZoneInfo = DEFAULT_ZONE,
) -> VerifyOutcome:
    """Verify the voucher of ``order_no`` with its 8-digit password for ``actor``'s merchant."""
    action = "verify_password"
    if not actor.merchant_ids:
        return _refuse(conn, actor, action, f"order:{order_no}", NotStaff(actor.ref), now)
    row = _find(conn, orders_table.c.no == order_no)
    if row is None:
        return _refuse(conn, actor, action, f"order:{order_no}", UnknownVoucher(order_no), now)
    subject = f"order:{row.no}"
    gate = _gate(row, actor, now)
    if gate is not None:
        return _refuse(conn, actor, action, subject, gate, now)
    if not keyring.matches(row.password_hash, "voucher", row.no, password):
        return _refuse(conn, actor, action, subject, _wrong_password(conn, row, now, tz), now)
    return _use(conn, actor, action, row, now, tz)


def verify_by_token(
    conn: Connection,
    actor: Actor,
    token: str,
    now: int,
    *,
    keyring: Keyring,
    tz: ZoneInfo = DEFAULT_ZONE,
) -> VerifyOutcome:
    """Verify the voucher whose QR code carries ``token`` for ``actor``'s merchant."""
    action = "verify_qr"
    if not actor.merchant_ids:
        return _refuse(conn, actor, action, "qr", NotStaff(actor.ref), now)
    row = _find(conn, voucher.c.token_hash.in_(keyring.digests("qr", token)))
    if row is None:
        return _refuse(conn, actor, action, "qr", UnknownVoucher(""), now)
    gate = _gate(row, actor, now)
    if gate is not None:
        return _refuse(conn, actor, action, f"order:{row.no}", gate, now)
    return _use(conn, actor, action, row, now, tz)


def _wrong_password(conn: Connection, row: VoucherRow, now: int, tz: ZoneInfo) -> VoucherError:
    tries = voucher.c.failed_attempts + 1
    counted = conn.execute(
        update(voucher)
        .where(and_(voucher.c.id == row.id, voucher.c.status == "issued"))
        .values(
            failed_attempts=tries,
            status=case((tries >= MAX_WRONG_PASSWORDS, "locked"), else_=voucher.c.status),
        )
        .returning(voucher.c.failed_attempts, voucher.c.status)
    ).first()
    if counted is None:  # someone else changed it meanwhile
        fresh = _find(conn, voucher.c.id == row.id)
        assert fresh is not None
        return _gate(fresh, Actor("", "", frozenset({row.merchant_id})), now) or VoucherLocked(
            row.no
        )
    if counted[1] == "locked":
        _tell_locked(conn, row, now)
        return VoucherLocked(row.no)
    return WrongVoucherPassword(row.no, MAX_WRONG_PASSWORDS - int(counted[0]))


def _tell_locked(conn: Connection, row: VoucherRow, now: int) -> None:
    outbox.enqueue(
        conn,
        key=f"voucher:{row.no}:locked:{now}:customer",
        recipient=row.customer,
        text=texts.notice(row.customer_lang, "voucher_locked_customer", no=row.no),
        now=now,
    )
    for phone in merchants.staff_phones(conn, row.merchant_id):
        outbox.enqueue(
            conn,
            key=f"voucher:{row.no}:locked:{now}:{phone}",
            recipient=phone,
            text=texts.notice(
                "zh" if phone.startswith("+86") else "en", "voucher_locked_merchant", no=row.no
            ),
            now=now,
        )


def _use(
    conn: Connection, actor: Actor, action: str, row: VoucherRow, now: int, tz: ZoneInfo
) -> VerifyOutcome:
    used = conn.execute(
        update(voucher)
        .where(
            and_(
                voucher.c.id == row.id,
                voucher.c.status == "issued",
                voucher.c.expires_at > now,
            )
        )
        .values(status="verified", verified_at=now)
    ).rowcount
    if used != 1:
        fresh = _find(conn, voucher.c.id == row.id)
        assert fresh is not None
        error = _gate(fresh, actor, now) or VoucherLocked(row.no)
        return _refuse(conn, actor, action, f"order:{row.no}", error, now)
    order = orders.by_no(conn, row.no)
    assert order is not None
    states.set_status(conn, order, "verified", now, f"verified by {actor.kind} {actor.ref}")
    settlement.record_line(
        conn,
        merchant_id=row.merchant_id,
        source="voucher",
        ref=f"voucher:{row.no}",
        points=order.points,
        now=now,
        order_id=row.order_id,
    )
    lang = row.customer_lang
    outbox.enqueue(
        conn,
        key=f"voucher:{row.no}:used",
        recipient=row.customer,
        text=texts.notice.fitted(
            lang,
            "voucher_used",
            cut=("item", "merchant"),
            no=row.no,
            item=row.item_name(lang),
            merchant=row.merchant_name(lang),
            time=datetime.fromtimestamp(now, tz).strftime("%Y-%m-%d %H:%M"),
        ),
        now=now,
    )
    _audit(conn, actor, action, f"order:{row.no}", "verified", now)
    return Verified(row, now)


def unlock(conn: Connection, order_no: str, by: str, now: int) -> None:
    """Staff unlock a voucher locked by wrong passwords; the count starts again."""
    row = _find(conn, orders_table.c.no == order_no)
    if row is None:
        raise UnknownVoucher(order_no)
    changed = conn.execute(
        update(voucher)
        .where(and_(voucher.c.id == row.id, voucher.c.status == "locked"))
        .values(status="issued", failed_attempts=0)
    ).rowcount
    if changed != 1:
        raise VoucherNotLocked(order_no, row.status)
    audit.record(
        conn,
        actor_kind="operator",
        actor=by,
        action="voucher_unlock",
        subject=f"order:{row.no}",
        result="ok",
        now=now,
    )
    outbox.enqueue(
        conn,
        key=f"voucher:{row.no}:unlocked:{now}",
        recipient=row.customer,
        text=texts.notice(row.customer_lang, "voucher_unlocked", no=row.no),
        now=now,
    )
