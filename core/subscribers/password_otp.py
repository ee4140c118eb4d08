"""Setting the points passwords by SMS (``MM``): a one-time code sent by a separate SMS.

``MM`` queues a 6-digit code (stored as a keyed hash, 5 minutes, 5 tries, single
use); ``MM code points_pwd second_pwd`` checks it and sets both passwords. The
code goes out as its own message, not in the reply, so a forged sender number
never sees it. Outcomes are returned, not raised, so a wrong try is counted.
"""

from __future__ import annotations

from sqlalchemy import Connection

from core.messaging import outbox
from core.platform import audit, otp
from core.platform.codes import Keyring, token
from core.platform.schema import password_otp
from core.subscribers import passwords, texts
from core.subscribers.subscribers import Subscriber


def send_code(conn: Connection, subscriber: Subscriber, now: int, keyring: Keyring) -> None:
    """Replace any earlier code with a new one and queue it by SMS."""
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
