"""Binding a chat to a subscriber (§2.2.8): the number is proved by a code sent to it by SMS.

A chat asks for a code for a number; the hall stores a keyed hash of a 6-digit
code (5 minutes, 5 tries, single use) and queues the code by SMS to that
number, never into the chat. Typing the right code binds the chat to the
subscriber of that number (created on first contact, like an SMS). Outcomes are
returned, not raised, so a wrong try is counted in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, delete, select, update

from core import audit, outbox, subscribers
from core.codes import OTP_DIGITS, Keyring, digits
from core.schema import chat_binding, chat_login, subscriber
from core.sql import insert_ignoring
from core.subscribers import Subscriber, default_lang

CODE_SECONDS = 5 * 60
CODE_TRIES = 5
RESEND_SECONDS = 60
PURPOSE = "chat-login"

LOGIN_SMS = {
    "zh": "您正在登录积分商城Telegram机器人,验证码{code},5分钟内有效。如非本人操作请忽略。",
    "en": "Your points mall Telegram login code is {code}, valid 5 minutes. "
    "If you did not ask for it, ignore this message.",
}

Result = Literal["bound", "wrong", "dead", "none"]


@dataclass(frozen=True)
class CodeCheck:
    result: Result
    tries_left: int = 0
    subscriber: Subscriber | None = None


def bound_subscriber(conn: Connection, chat_id: int) -> Subscriber | None:
    row = conn.execute(
        select(
            subscriber.c.id,
            subscriber.c.msisdn,
            subscriber.c.lang,
            subscriber.c.opted_out,
            subscriber.c.name,
        )
        .select_from(chat_binding.join(subscriber, subscriber.c.id == chat_binding.c.subscriber_id))
        .where(chat_binding.c.chat_id == chat_id)
    ).first()
    if row is None:
        return None
    return Subscriber(int(row[0]), row[1], row[2], bool(row[3]), row[4])


def pending_number(conn: Connection, chat_id: int, now: int) -> str | None:
    """The number a live code was sent to for this chat, if any."""
    row = conn.execute(
        select(chat_login.c.msisdn, chat_login.c.expires_at, chat_login.c.attempts).where(
            chat_login.c.chat_id == chat_id
        )
    ).first()
    if row is None or now >= row.expires_at or row.attempts >= CODE_TRIES:
        return None
    return str(row.msisdn)


def send_code(
    conn: Connection, chat_id: int, msisdn: str, now: int, keyring: Keyring, home_lang: str
) -> bool:
    """Queue a new code by SMS to ``msisdn``; False (nothing sent) within a minute of the last
    code for this chat or to this number, so no chat can make the hall bomb a phone."""
    recent = conn.execute(
        select(chat_login.c.chat_id)
        .where(
            ((chat_login.c.chat_id == chat_id) | (chat_login.c.msisdn == msisdn))
            & (chat_login.c.sent_at > now - RESEND_SECONDS)
        )
        .limit(1)
    ).first()
    if recent is not None:
        return False
    code = digits(OTP_DIGITS)
    conn.execute(delete(chat_login).where(chat_login.c.chat_id == chat_id))
    conn.execute(
        chat_login.insert().values(
            chat_id=chat_id,
            msisdn=msisdn,
            code_hash=keyring.digest(PURPOSE, str(chat_id), msisdn, code),
            sent_at=now,
            expires_at=now + CODE_SECONDS,
            attempts=0,
        )
    )
    known = subscribers.find(conn, msisdn)
    lang = known.lang if known else default_lang(msisdn, home_lang)
    outbox.enqueue(
        conn,
        key=f"chat-login:{chat_id}:{now}:{code}",
        recipient=msisdn,
        text=LOGIN_SMS[lang].format(code=code),
        now=now,
    )
    return True


def check_code(
    conn: Connection, chat_id: int, code: str, now: int, keyring: Keyring, home_lang: str
) -> CodeCheck:
    """Bind the chat when ``code`` is the live code sent for it."""
    row = conn.execute(
        select(
            chat_login.c.msisdn,
            chat_login.c.code_hash,
            chat_login.c.expires_at,
            chat_login.c.attempts,
        ).where(chat_login.c.chat_id == chat_id)
    ).first()
    if row is None or now >= row.expires_at or row.attempts >= CODE_TRIES:
        return CodeCheck("none")
    msisdn = str(row.msisdn)
    if not keyring.matches(row.code_hash, PURPOSE, str(chat_id), msisdn, code):
        tries = int(row.attempts) + 1
        conn.execute(
            update(chat_login).where(chat_login.c.chat_id == chat_id).values(attempts=tries)
        )
        _audit(conn, msisdn, chat_id, "wrong_code", now)
        if tries >= CODE_TRIES:
            return CodeCheck("dead")
        return CodeCheck("wrong", CODE_TRIES - tries)
    conn.execute(delete(chat_login).where(chat_login.c.chat_id == chat_id))
    found = subscribers.get_or_create(conn, msisdn, now, home_lang)
    conn.execute(delete(chat_binding).where(chat_binding.c.chat_id == chat_id))
    conn.execute(
        insert_ignoring(conn, chat_binding, "chat_id").values(
            chat_id=chat_id, subscriber_id=found.id, bound_at=now
        )
    )
    _audit(conn, msisdn, chat_id, "bound", now)
    return CodeCheck("bound", subscriber=found)


def _audit(conn: Connection, msisdn: str, chat_id: int, result: str, now: int) -> None:
    audit.record(
        conn,
        actor_kind="subscriber",
        actor=msisdn,
        action="chat_login",
        subject=f"chat:{chat_id}",
        result=result,
        now=now,
    )
