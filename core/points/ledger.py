"""The points ledger: accounts, lots, append-only entries, holds.

Rules (DESIGN.md §4): integers only; ``account.balance`` and ``account.held``
change only in the same transaction as the entries and holds that explain them;
every entry has a unique idempotency key, so a retry returns the first result;
spending takes lots first-expiring-first; a debit is a conditional UPDATE, never
read-check-write.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    and_,
    bindparam,
    exists,
    func,
    insert,
    select,
    update,
)

from core.platform.errors import DuplicateEntry
from core.platform.prepared import Prepared
from core.platform.schema import account, entry, hold, lot, lot_use
from core.platform.sql import for_update, ignoring, insert_ignoring
from core.points.errors import InsufficientPoints


@dataclass(frozen=True)
class Posted:
    """The result of posting an entry; ``created`` is False when the key was seen before."""

    entry_id: int
    created: bool


@dataclass(frozen=True)
class Summary:
    balance: int
    held: int
    next_expiry_points: int
    next_expiry_at: int | None

    @property
    def available(self) -> int:
        return self.balance - self.held


@dataclass(frozen=True)
class EntryView:
    id: int
    amount: int
    kind: str
    reason_key: str
    reason_args: dict[str, Any]
    created_at: int


def open_account(conn: Connection, subscriber_id: int, account_type: str, now: int) -> int:
    """Return the subscriber's account id, opening the account if there is none."""
    conn.execute(
        insert_ignoring(conn, account, "subscriber_id").values(
            subscriber_id=subscriber_id, type=account_type, balance=0, held=0, created_at=now
        )
    )
    found = account_id_of(conn, subscriber_id)
    assert found is not None
    return found


_ACCOUNT_OF = Prepared(select(account.c.id).where(account.c.subscriber_id == bindparam("sid")))
_DUE_LOTS = Prepared(
    select(lot.c.id, lot.c.remaining, lot.c.expires_at)
    .where(
        and_(
            lot.c.account_id == bindparam("aid"),
            lot.c.remaining > 0,
            lot.c.expires_at <= bindparam("now"),
        )
    )
    .order_by(lot.c.expires_at, lot.c.id)
)
_LIVE_LOT = and_(lot.c.account_id == account.c.id, lot.c.remaining > 0)
_NEXT_EXPIRY = (
    select(func.min(lot.c.expires_at))
    .where(and_(_LIVE_LOT, lot.c.expires_at > bindparam("now")))
    .correlate(account)
    .scalar_subquery()
)
_NEXT_EXPIRY_POINTS = (
    select(func.coalesce(func.sum(lot.c.remaining), 0))
    .where(and_(_LIVE_LOT, lot.c.expires_at == _NEXT_EXPIRY))
    .correlate(account)
    .scalar_subquery()
)
_SUMMARY = Prepared(
    select(account.c.balance, account.c.held, _NEXT_EXPIRY, _NEXT_EXPIRY_POINTS).where(
        account.c.id == bindparam("aid")
    )
)
_BALANCE_OF = Prepared(
    select(
        account.c.id,
        account.c.balance,
        account.c.held,
        _NEXT_EXPIRY,
        _NEXT_EXPIRY_POINTS,
        exists().where(and_(_LIVE_LOT, lot.c.expires_at <= bindparam("now"))),
    ).where(account.c.subscriber_id == bindparam("sid"))
)
_HISTORY = Prepared(
    select(
        entry.c.id,
        entry.c.amount,
        entry.c.kind,
        entry.c.reason_key,
        entry.c.reason_args,
        entry.c.created_at,
    )
    .where(entry.c.account_id == bindparam("aid"))
    .order_by(entry.c.id.desc())
    .offset(bindparam("offset"))
    .limit(bindparam("limit"))
)
_COUNT_ENTRIES = Prepared(
    select(func.count()).select_from(entry).where(entry.c.account_id == bindparam("aid"))
)
_CLAIM_ENTRY = Prepared(
    lambda d: (
        ignoring(d, entry, "idempotency_key")
        .values(
            account_id=bindparam("aid"),
            amount=bindparam("amount"),
            kind=bindparam("kind"),
            source=bindparam("source"),
            idempotency_key=bindparam("key"),
            reason_key=bindparam("rkey"),
            reason_args=bindparam("rargs"),
            ref=bindparam("ref"),
            created_at=bindparam("now"),
        )
        .returning(entry.c.id)
    )
)
_ENTRY_BY_KEY = Prepared(
    select(entry.c.id, entry.c.account_id, entry.c.amount).where(
        entry.c.idempotency_key == bindparam("key")
    )
)
_NEW_LOT = Prepared(
    insert(lot).values(
        account_id=bindparam("aid"),
        entry_id=bindparam("eid"),
        service=bindparam("service"),
        amount=bindparam("amount"),
        remaining=bindparam("amount"),
        earned_at=bindparam("now"),
        expires_at=bindparam("expires_at"),
    )
)
_ADD_TO_BALANCE = Prepared(
    update(account)
    .where(account.c.id == bindparam("aid"))
    .values(balance=account.c.balance + bindparam("amount", type_=BigInteger))
)
_TAKE_AVAILABLE = Prepared(
    update(account)
    .where(
        and_(
            account.c.id == bindparam("aid"),
            account.c.balance - account.c.held >= bindparam("amount", type_=BigInteger),
        )
    )
    .values(balance=account.c.balance - bindparam("amount", type_=BigInteger))
)
_TAKE_HELD = Prepared(
    update(account)
    .where(
        and_(
            account.c.id == bindparam("aid"),
            account.c.held >= bindparam("amount", type_=BigInteger),
        )
    )
    .values(
        balance=account.c.balance - bindparam("amount", type_=BigInteger),
        held=account.c.held - bindparam("amount", type_=BigInteger),
    )
)
_HOLD_MORE = Prepared(
    update(account)
    .where(
        and_(
            account.c.id == bindparam("aid"),
            account.c.balance - account.c.held >= bindparam("amount", type_=BigInteger),
        )
    )
    .values(held=account.c.held + bindparam("amount", type_=BigInteger))
)
_RELEASE_HELD = Prepared(
    update(account)
    .where(account.c.id == bindparam("aid"))
    .values(held=account.c.held - bindparam("amount", type_=BigInteger))
)
_BALANCE_AND_HELD = Prepared(
    select(account.c.balance, account.c.held).where(account.c.id == bindparam("aid"))
)
_SPENDABLE_LOTS = (
    select(lot.c.id, lot.c.remaining)
    .where(and_(lot.c.account_id == bindparam("aid"), lot.c.remaining > 0))
    .order_by(lot.c.expires_at, lot.c.id)
)
_LOTS_TO_SPEND = Prepared(
    lambda d: _SPENDABLE_LOTS.with_for_update() if d == "postgresql" else _SPENDABLE_LOTS
)
_TAKE_FROM_LOT = Prepared(
    update(lot)
    .where(lot.c.id == bindparam("lid"))
    .values(remaining=lot.c.remaining - bindparam("take", type_=BigInteger))
)
_LOT_USE = Prepared(
    insert(lot_use).values(
        entry_id=bindparam("eid"), lot_id=bindparam("lid"), amount=bindparam("take")
    )
)
_PLACE_HOLD = Prepared(
    lambda d: (
        ignoring(d, hold, "idempotency_key")
        .values(
            account_id=bindparam("aid"),
            amount=bindparam("amount"),
            status="active",
            idempotency_key=bindparam("key"),
            created_at=bindparam("now"),
            expires_at=bindparam("expires_at"),
        )
        .returning(hold.c.id)
    )
)
_LOCK_ACCOUNT = Prepared(
    select(account.c.id).where(account.c.id == bindparam("aid")).with_for_update()
)
_HOLD_BY_KEY = Prepared(select(hold.c.id).where(hold.c.idempotency_key == bindparam("key")))
_END_HOLD = Prepared(
    update(hold)
    .where(and_(hold.c.id == bindparam("hid"), hold.c.status == "active"))
    .values(status=bindparam("status"))
    .returning(hold.c.account_id, hold.c.amount)
)


def account_id_of(conn: Connection, subscriber_id: int) -> int | None:
    found = _ACCOUNT_OF.scalar(conn, sid=subscriber_id)
    return int(found) if found is not None else None


def _claim_entry(
    conn: Connection,
    *,
    account_id: int,
    amount: int,
    kind: str,
    source: str,
    key: str,
    reason_key: str,
    reason_args: dict[str, Any],
    ref: str,
    now: int,
) -> Posted:
    inserted = _CLAIM_ENTRY.scalar(
        conn,
        aid=account_id,
        amount=amount,
        kind=kind,
        source=source,
        key=key,
        rkey=reason_key,
        rargs=json.dumps(reason_args, ensure_ascii=False, separators=(",", ":")),
        ref=ref,
        now=now,
    )
    if inserted is not None:
        return Posted(int(inserted), True)
    first = _ENTRY_BY_KEY.first(conn, key=key)
    assert first is not None
    first_id, first_account, first_amount = first
    if first_account != account_id or first_amount != amount:
        raise DuplicateEntry(key)
    return Posted(int(first_id), False)


def credit(
    conn: Connection,
    *,
    account_id: int,
    amount: int,
    kind: str,
    source: str,
    key: str,
    reason_key: str,
    reason_args: dict[str, Any],
    ref: str,
    now: int,
    expires_at: int,
    service: str = "mobile",
) -> Posted:
    """Add ``amount`` points as a new lot expiring at ``expires_at``."""
    if amount <= 0:
        raise ValueError("a credit must be positive")
    posted = _claim_entry(
        conn,
        account_id=account_id,
        amount=amount,
        kind=kind,
        source=source,
        key=key,
        reason_key=reason_key,
        reason_args=reason_args,
        ref=ref,
        now=now,
    )
    if not posted.created:
        return posted
    _NEW_LOT.run(
        conn,
        aid=account_id,
        eid=posted.entry_id,
        service=service,
        amount=amount,
        now=now,
        expires_at=expires_at,
    )
    _ADD_TO_BALANCE.run(conn, aid=account_id, amount=amount)
    return posted


def _available(conn: Connection, account_id: int) -> int:
    row = _BALANCE_AND_HELD.first(conn, aid=account_id)
    assert row is not None
    return int(row[0] - row[1])


def _consume_lots(conn: Connection, account_id: int, entry_id: int, amount: int) -> None:
    """Take ``amount`` from the account's lots, first-expiring-first, recording each use."""
    left = amount
    for lot_id, remaining in _LOTS_TO_SPEND.rows(conn, aid=account_id):
        take = min(left, int(remaining))
        _TAKE_FROM_LOT.run(conn, lid=lot_id, take=take)
        _LOT_USE.run(conn, eid=entry_id, lid=lot_id, take=take)
        left -= take
        if left == 0:
            return
    raise AssertionError(f"account {account_id}: lots short by {left} (ledger corrupt)")


def debit(
    conn: Connection,
    *,
    account_id: int,
    amount: int,
    kind: str,
    source: str,
    key: str,
    reason_key: str,
    reason_args: dict[str, Any],
    ref: str,
    now: int,
    from_held: bool = False,
) -> Posted:
    """Take ``amount`` points, or raise ``InsufficientPoints`` leaving nothing changed.

    With ``from_held`` the points come out of a hold the caller has just
    captured: both ``balance`` and ``held`` drop.
    """
    if amount <= 0:
        raise ValueError("a debit must be positive")
    if not from_held:
        expire_due(conn, account_id, now)
    posted = _claim_entry(
        conn,
        account_id=account_id,
        amount=-amount,
        kind=kind,
        source=source,
        key=key,
        reason_key=reason_key,
        reason_args=reason_args,
        ref=ref,
        now=now,
    )
    if not posted.created:
        return posted
    take = _TAKE_HELD if from_held else _TAKE_AVAILABLE
    if take.run(conn, aid=account_id, amount=amount) != 1:
        raise InsufficientPoints(_available(conn, account_id), amount)
    _consume_lots(conn, account_id, posted.entry_id, amount)
    return posted


def expire_due(conn: Connection, account_id: int, now: int) -> int:
    """Expire what is left of the account's lots whose time has come; return points expired.

    Points reserved by an active hold are protected: expiry takes at most
    ``balance - held``, and what it cannot take waits for the hold to end.
    """
    due = _DUE_LOTS.rows(conn, aid=account_id, now=now)
    if not due:
        return 0
    if for_update(conn):
        _LOCK_ACCOUNT.rows(conn, aid=account_id)
    room = _available(conn, account_id)
    expired = 0
    for lot_id, remaining, expires_at in due:
        take = min(remaining, room - expired)
        if take <= 0:
            break
        posted = _claim_entry(
            conn,
            account_id=account_id,
            amount=-take,
            kind="expire",
            source="expiry",
            key=f"expire:{lot_id}:{remaining}",
            reason_key="expire",
            reason_args={"expires_at": expires_at},
            ref=f"lot {lot_id}",
            now=now,
        )
        if not posted.created:
            continue
        conn.execute(update(lot).where(lot.c.id == lot_id).values(remaining=lot.c.remaining - take))
        conn.execute(lot_use.insert().values(entry_id=posted.entry_id, lot_id=lot_id, amount=take))
        if _TAKE_AVAILABLE.run(conn, aid=account_id, amount=take) != 1:
            raise AssertionError(f"account {account_id}: expiring {take} overdraws it")
        expired += take
    return expired


def accounts_with_due_lots(conn: Connection, now: int, limit: int) -> list[int]:
    return list(
        conn.execute(
            select(lot.c.account_id)
            .where(and_(lot.c.remaining > 0, lot.c.expires_at <= now))
            .group_by(lot.c.account_id)
            .limit(limit)
        ).scalars()
    )


def place_hold(
    conn: Connection, *, account_id: int, amount: int, key: str, now: int, expires_at: int
) -> int:
    """Reserve ``amount`` points; return the hold id (the first one for a repeated key)."""
    if amount <= 0:
        raise ValueError("a hold must be positive")
    expire_due(conn, account_id, now)
    hold_id = _PLACE_HOLD.scalar(
        conn, aid=account_id, amount=amount, key=key, now=now, expires_at=expires_at
    )
    if hold_id is None:
        return int(_HOLD_BY_KEY.scalar(conn, key=key))
    if _HOLD_MORE.run(conn, aid=account_id, amount=amount) != 1:
        raise InsufficientPoints(_available(conn, account_id), amount)
    return int(hold_id)


def _end_hold(conn: Connection, hold_id: int, status: str) -> tuple[int, int] | None:
    """Move an active hold to ``status``; return (account_id, amount) if this call did it."""
    row = _END_HOLD.first(conn, hid=hold_id, status=status)
    return (int(row[0]), int(row[1])) if row else None


def release_hold(conn: Connection, hold_id: int) -> bool:
    """Give held points back to the available balance; False if the hold had already ended."""
    ended = _end_hold(conn, hold_id, "released")
    if ended is None:
        return False
    account_id, amount = ended
    _RELEASE_HELD.run(conn, aid=account_id, amount=amount)
    return True


def capture_hold(
    conn: Connection,
    hold_id: int,
    *,
    source: str,
    key: str,
    reason_key: str,
    reason_args: dict[str, Any],
    ref: str,
    now: int,
) -> Posted | None:
    """Turn an active hold into a redeem entry; None if the hold had already ended."""
    ended = _end_hold(conn, hold_id, "captured")
    if ended is None:
        return None
    account_id, amount = ended
    return debit(
        conn,
        account_id=account_id,
        amount=amount,
        kind="redeem",
        source=source,
        key=key,
        reason_key=reason_key,
        reason_args=reason_args,
        ref=ref,
        now=now,
        from_held=True,
    )


def summary(conn: Connection, account_id: int, now: int) -> Summary:
    row = _SUMMARY.first(conn, aid=account_id, now=now)
    assert row is not None, f"no account {account_id}"
    balance, held, next_at, points = row
    return Summary(
        int(balance), int(held), int(points), int(next_at) if next_at is not None else None
    )


def balance_of(conn: Connection, subscriber_id: int, now: int) -> tuple[int, Summary] | None:
    """The subscriber's account id and its summary at ``now`` (UTC epoch seconds), after
    expiring its lots whose time has come (``expire_due``; seed §1: a balance read is in
    real time), or None when the subscriber has no account.

    One statement when nothing is due, as it is on almost every read (issue 15 §2: the
    JF reply made three round trips for account, due lots and summary).
    """
    row = _BALANCE_OF.first(conn, sid=subscriber_id, now=now)
    if row is None:
        return None
    account_id, balance, held, next_at, points, due = row
    if due:
        expire_due(conn, int(account_id), now)
        return int(account_id), summary(conn, int(account_id), now)
    return int(account_id), Summary(
        int(balance), int(held), int(points), int(next_at) if next_at is not None else None
    )


def history(conn: Connection, account_id: int, offset: int, limit: int) -> list[EntryView]:
    return [
        EntryView(int(i), int(amount), kind, key, json.loads(args), int(at))
        for i, amount, kind, key, args, at in _HISTORY.rows(
            conn, aid=account_id, offset=offset, limit=limit
        )
    ]


def count_entries(conn: Connection, account_id: int) -> int:
    return int(_COUNT_ENTRIES.scalar(conn, aid=account_id))


def refund(
    conn: Connection,
    *,
    paid_key: str,
    key: str,
    source: str,
    reason_key: str,
    reason_args: dict[str, Any],
    ref: str,
    now: int,
) -> Posted:
    """Give back what the entry ``paid_key`` took, into lots expiring when the originals did."""
    paid = conn.execute(
        select(entry.c.id, entry.c.account_id, entry.c.amount).where(
            entry.c.idempotency_key == paid_key
        )
    ).one()
    amount = -int(paid.amount)
    posted = _claim_entry(
        conn,
        account_id=paid.account_id,
        amount=amount,
        kind="refund",
        source=source,
        key=key,
        reason_key=reason_key,
        reason_args=reason_args,
        ref=ref,
        now=now,
    )
    if not posted.created:
        return posted
    uses = conn.execute(
        select(lot_use.c.amount, lot.c.expires_at, lot.c.service)
        .select_from(lot_use.join(lot, lot.c.id == lot_use.c.lot_id))
        .where(lot_use.c.entry_id == paid.id)
        .order_by(lot.c.expires_at)
    ).all()
    for used, expires_at, service in uses:
        conn.execute(
            lot.insert().values(
                account_id=paid.account_id,
                entry_id=posted.entry_id,
                service=service,
                amount=used,
                remaining=used,
                earned_at=now,
                expires_at=expires_at,
            )
        )
    conn.execute(
        update(account)
        .where(account.c.id == paid.account_id)
        .values(balance=account.c.balance + amount)
    )
    return posted
