"""Setting the points passwords by SMS (``MM``): a one-time code sent by a separate SMS.

``MM`` queues a 6-digit code (stored as a keyed hash, 5 minutes, 5 tries, single
use); ``MM code points_pwd second_pwd`` checks it and sets both passwords. The
code goes out as its own message, not in the reply, so a forged sender number
never sees it. Outcomes are returned, not raised, so a wrong try is counted.
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, select, update

from core import audit, merchant_notices, outbox, passwords
from core.codes import OTP_DIGITS, Keyring, digits
from core.schema import password_otp
from core.subscribers import Subscriber

OTP_SECONDS = 5 * 60
OTP_TRIES = 5


def send_code(conn: Connection, subscriber: Subscriber, now: int, keyring: Keyring) -> None:
    """Replace any earlier code with a new one and queue it by SMS."""
    code = digits(OTP_DIGITS)
    conn.execute(delete(password_otp).where(password_otp.c.subscriber_id == subscriber.id))
    conn.execute(
        password_otp.insert().values(
            subscriber_id=subscriber.id,
            code_hash=keyring.digest("password-otp", subscriber.msisdn, code),
            expires_at=now + OTP_SECONDS,
            attempts=0,
        )
    )
    outbox.enqueue(
        conn,
        key=f"password-otp:{subscriber.id}:{now}:{code}",
        recipient=subscriber.msisdn,
        text=merchant_notices.notice(subscriber.lang, "password_otp", code=code),
        now=now,
    )


def set_with_code(
    conn: Connection,
    subscriber: Subscriber,
    code: str,
    points_password: str,
    second_password: str,
    now: int,
    keyring: Keyring,
) -> tuple[str, int]:
    """Return ``("set", 0)``, ``("wrong", tries_left)``, ``("dead", 0)`` or ``("none", 0)``."""
    row = conn.execute(
        select(password_otp.c.code_hash, password_otp.c.expires_at, password_otp.c.attempts).where(
            (password_otp.c.subscriber_id == subscriber.id) & password_otp.c.used_at.is_(None)
        )
    ).first()
    if row is None or now >= row.expires_at or row.attempts >= OTP_TRIES:
        return "none", 0
    if not keyring.matches(row.code_hash, "password-otp", subscriber.msisdn, code):
        tries = int(row.attempts) + 1
        conn.execute(
            update(password_otp)
            .where(password_otp.c.subscriber_id == subscriber.id)
            .values(attempts=tries)
        )
        _audit(conn, subscriber, "wrong_code", now)
        return ("dead", 0) if tries >= OTP_TRIES else ("wrong", OTP_TRIES - tries)
    conn.execute(
        update(password_otp)
        .where(password_otp.c.subscriber_id == subscriber.id)
        .values(used_at=now)
    )
    passwords.set_passwords(
        conn,
        subscriber_id=subscriber.id,
        msisdn=subscriber.msisdn,
        points_password=points_password,
        second_password=second_password,
        now=now,
        keyring=keyring,
    )
    _audit(conn, subscriber, "set", now)
    return "set", 0


def _audit(conn: Connection, subscriber: Subscriber, result: str, now: int) -> None:
    audit.record(
        conn,
        actor_kind="subscriber",
        actor=subscriber.msisdn,
        action="set_points_password",
        subject=f"subscriber:{subscriber.id}",
        result=result,
        now=now,
    )
