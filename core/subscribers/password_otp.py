"""Setting the points passwords by SMS (``MM``): a one-time code sent by a separate SMS.

``MM`` queues a 6-digit code (stored as a keyed hash, 5 minutes, 5 tries, single
use); ``MM code points_pwd second_pwd`` checks it and sets both passwords. The
code goes out as its own message, not in the reply, so a forged sender number
never sees it. Outcomes are returned, not raised, so a wrong try is counted.

Codes are capped per number (``CODES_PER_NUMBER``: one a minute, five an hour, ten a day;
issue 13 §4), so neither the number nor a chat bound to it can make the hall bomb it, and
guesses are at most ten codes × five tries a day; only the number itself (or its bound
chat) can ask or try, so nobody else can use up its allowance.
"""

from __future__ import annotations

from sqlalchemy import Connection

from core.messaging import outbox
from core.platform import audit, otp, throttle
from core.platform.codes import Keyring, token
from core.platform.schema import password_otp
from core.subscribers import passwords, texts
from core.subscribers.subscribers import Subscriber

CODES_PER_NUMBER = throttle.Limit(
    "password-code",
    (
        throttle.Cap(1, throttle.MINUTE),
        throttle.Cap(5, throttle.HOUR),
        throttle.Cap(10, throttle.DAY),
    ),
)


def send_code(conn: Connection, subscriber: Subscriber, now: int, keyring: Keyring) -> bool:
    """Replace any earlier code with a new one and queue it by SMS; False (nothing sent, the
    earlier code still works) past ``CODES_PER_NUMBER``."""
    if not throttle.allowed(conn, CODES_PER_NUMBER, subscriber.msisdn, now):
        _audit(conn, subscriber, "code_capped", now)
        return False
    throttle.record(conn, CODES_PER_NUMBER, subscriber.msisdn, now)
    code = otp.issue(
        conn,
        otp.POINTS_PASSWORD,
        replaces=password_otp.c.subscriber_id == subscriber.id,
        challenges=[({"subscriber_id": subscriber.id}, (subscriber.msisdn,))],
        now=now,
        keyring=keyring,
    )
    outbox.enqueue(
        conn,
        key=f"password-otp:{subscriber.id}:{now}:{token()[:8]}",
        recipient=subscriber.msisdn,
        text=texts.notice(subscriber.lang, "password_otp", code=code),
        now=now,
        secrets=(code,),
        keyring=keyring,
    )
    return True


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
    checked = otp.check(
        conn,
        otp.POINTS_PASSWORD,
        where=password_otp.c.subscriber_id == subscriber.id,
        binding=lambda _row: (subscriber.msisdn,),
        code=code,
        now=now,
        keyring=keyring,
    )
    if checked.verdict in ("none", "expired"):
        return "none", 0
    if checked.verdict != "accepted":
        _audit(conn, subscriber, "wrong_code", now)
        return ("dead", 0) if checked.verdict == "exhausted" else ("wrong", checked.tries_left)
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
