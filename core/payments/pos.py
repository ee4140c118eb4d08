"""Offline payment at a merchant's terminal with points (§3.6.3).

The customer's phone number and points password identify the account, the
second password authorises the payment, then the points are deducted through
the points-system interface with the terminal's idempotency key. Wrong
passwords are counted per terminal and subscriber (``core.subscribers.password_locks``):
five in a row pause that terminal only, with a back-off, and the subscriber is told by
SMS and lifts it with ``MM`` (issue 13 §4); a refusal is returned, not raised, so the
count and the audit row are kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from core.merchants import merchants
from core.merchants.merchants import TerminalView
from core.messaging import outbox
from core.payments import texts
from core.payments.errors import PaymentRefused
from core.platform import audit
from core.platform.codes import Keyring
from core.platform.db import savepoint
from core.platform.errors import DomainError
from core.points import points_api
from core.points.points_api import Deduction
from core.settlement import settlement
from core.subscribers import password_locks, passwords
from core.subscribers.errors import NoPasswordSet

MAX_POINTS = 10**9
"""The most points one terminal payment may take: what the dearest item may cost
(``core.catalogue.item_file.MAX_POINTS``). A terminal asking for more sent a malformed
request (the POS API answers 400), and no amount near 2**63 reaches the ledger."""


@dataclass(frozen=True)
class PaymentRequest:
    msisdn: str
    points_password: str
    second_password: str
    points: int
    key: str


@dataclass(frozen=True)
class PaymentDone:
    deduction: Deduction


@dataclass(frozen=True)
class PaymentFailed:
    error: DomainError


PaymentOutcome = PaymentDone | PaymentFailed


@dataclass(frozen=True)
class Checked:
    """Both passwords checked against these stored hashes, ahead of the unit of work.

    scrypt is slow on purpose; run it (``check``) in a worker thread before the
    write, so the single SQLite writer never waits for it. ``pay`` uses the result
    only if the hashes are still the stored ones, and checks again otherwise.
    """

    points_hash: str
    second_hash: str
    points_ok: bool
    second_ok: bool


def load(conn: Connection, msisdn: str) -> passwords.Stored | None:
    """The stored hashes for ``msisdn`` (a read unit of work), or None."""
    try:
        who = points_api.identify(conn, msisdn)
    except DomainError:
        return None
    return passwords.stored(conn, who.subscriber_id)


def check(keyring: Keyring, stored: passwords.Stored, request: PaymentRequest) -> Checked:
    """Run both slow hashes (call it from a worker thread)."""
    return Checked(
        stored.points_password_hash,
        stored.second_password_hash,
        passwords.check_password(
            keyring, stored.points_password_hash, "points", request.msisdn, request.points_password
        ),
        passwords.check_password(
            keyring, stored.second_password_hash, "second", request.msisdn, request.second_password
        ),
    )


def pay(
    conn: Connection,
    terminal: TerminalView,
    request: PaymentRequest,
    now: int,
    keyring: Keyring,
    checked: Checked | None = None,
) -> PaymentOutcome:
    """Check both passwords, then deduct ``request.points`` once per ``request.key``."""
    subject = f"pos:{terminal.terminal_id}:{request.key}"[:64]
    try:
        with savepoint(conn, "pos_pay"):
            done = _pay(conn, terminal, request, now, keyring, checked)
    except DomainError as exc:
        audit.record(
            conn,
            actor_kind="terminal",
            actor=terminal.terminal_id,
            action="pos_payment",
            subject=subject,
            result=type(exc).__name__,
            now=now,
            details={"msisdn": request.msisdn, "points": request.points},
        )
        if isinstance(exc, PaymentRefused) and exc.reason.startswith("wrong_"):
            _count_wrong(conn, terminal, request.msisdn, exc, now)
        return PaymentFailed(exc)
    audit.record(
        conn,
        actor_kind="terminal",
        actor=terminal.terminal_id,
        action="pos_payment",
        subject=subject,
        result="repeated" if done.repeated else "paid",
        now=now,
        details={"msisdn": request.msisdn, "points": request.points, "entry": done.entry_id},
    )
    return PaymentDone(done)


def _lang(msisdn: str) -> str:
    return "zh" if msisdn.startswith("+86") else "en"


def _count_wrong(
    conn: Connection, terminal: TerminalView, msisdn: str, exc: PaymentRefused, now: int
) -> None:
    """Count a wrong password at this terminal; at the fifth, tell the subscriber by SMS."""
    who = points_api.identify(conn, msisdn)
    wrong = password_locks.count_wrong(conn, terminal.id, who.subscriber_id, now)
    exc.tries_left = wrong.tries_left
    if not wrong.paused_seconds:
        return
    exc.retry_after = wrong.paused_seconds
    lang = _lang(msisdn)
    shop = merchants.merchant_by_id(conn, terminal.merchant_id)
    outbox.enqueue(
        conn,
        key=f"pos-paused:{terminal.terminal_id}:{who.subscriber_id}:{now}",
        recipient=msisdn,
        text=texts.notice(
            lang,
            "pos_paused",
            merchant=shop.name(lang)[:20],
            terminal=terminal.terminal_id[:16],
            tries=password_locks.MAX_WRONG,
            minutes=wrong.paused_seconds // 60,
        ),
        now=now,
    )


def _pay(
    conn: Connection,
    terminal: TerminalView,
    request: PaymentRequest,
    now: int,
    keyring: Keyring,
    checked: Checked | None,
) -> Deduction:
    if request.points <= 0:
        raise PaymentRefused("bad_amount")
    who = points_api.identify(conn, request.msisdn)
    secrets = passwords.stored(conn, who.subscriber_id)
    if secrets is None:
        raise NoPasswordSet(request.msisdn)
    paused = password_locks.paused_for(conn, terminal.id, who.subscriber_id, now)
    if paused:
        raise PaymentRefused("password_locked", 0, paused)
    current = (secrets.points_password_hash, secrets.second_password_hash)
    if checked is None or (checked.points_hash, checked.second_hash) != current:
        checked = check(keyring, secrets, request)
    if not checked.points_ok:
        raise PaymentRefused("wrong_points_password")
    if not checked.second_ok:
        raise PaymentRefused("wrong_second_password")
    password_locks.clear(conn, terminal.id, who.subscriber_id)
    shop = merchants.merchant_by_id(conn, terminal.merchant_id)
    done = points_api.deduct(
        conn,
        msisdn=request.msisdn,
        points=request.points,
        key=f"pos:{terminal.terminal_id}:{request.key}",
        ref=f"pos {shop.code} {terminal.terminal_id}",
        now=now,
    )
    if not done.repeated:
        settlement.record_line(
            conn,
            merchant_id=terminal.merchant_id,
            source="pos",
            ref=f"pos:{terminal.terminal_id}:{request.key}",
            points=done.points,
            now=now,
        )
        lang = _lang(request.msisdn)
        outbox.enqueue(
            conn,
            key=f"pos:{terminal.terminal_id}:{request.key}:paid",
            recipient=request.msisdn,
            text=texts.notice(
                lang,
                "pos_paid",
                points=done.points,
                merchant=shop.name(lang)[:20],
                balance=done.balance_after,
            ),
            now=now,
        )
    return done
