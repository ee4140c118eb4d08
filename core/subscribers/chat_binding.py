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

from sqlalchemy import Connection, delete, select

from core.messaging import outbox
from core.platform import audit, otp
from core.platform.codes import Keyring, token
from core.platform.schema import chat_binding, chat_login, subscriber
from core.platform.sql import insert_ignoring
from core.subscribers import subscribers, texts
from core.subscribers.subscribers import Subscriber, default_lang

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
    row = otp.live(conn, otp.CHAT_LOGIN, chat_login.c.chat_id == chat_id, now)
    return None if row is None else str(row.msisdn)


def send_code(
    conn: Connection, chat_id: int, msisdn: str, now: int, keyring: Keyring, home_lang: str
) -> bool:
    """Queue a new code by SMS to ``msisdn``; False (nothing sent) within a minute of the last
    code for this chat or to this number, so no chat can make the hall bomb a phone."""
    flow = otp.CHAT_LOGIN
    if not otp.may_send(
        conn, flow, (chat_login.c.chat_id == chat_id) | (chat_login.c.msisdn == msisdn), now
    ):
        return False
    code = otp.issue(
        conn,
        flow,
        replaces=chat_login.c.chat_id == chat_id,
        challenges=[({"chat_id": chat_id, "msisdn": msisdn}, (str(chat_id), msisdn))],
        now=now,
        keyring=keyring,
    )
    known = subscribers.find(conn, msisdn)
    lang = known.lang if known else default_lang(msisdn, home_lang)
    outbox.enqueue(
        conn,
        key=f"chat-login:{chat_id}:{now}:{token()[:8]}",
        recipient=msisdn,
        text=texts.notice(lang, "login_code", code=code),
        now=now,
        secrets=(code,),
        keyring=keyring,
    )
    return True


def check_code(
    conn: Connection, chat_id: int, code: str, now: int, keyring: Keyring, home_lang: str
) -> CodeCheck:
    """Bind the chat when ``code`` is the live code sent for it."""
    checked = otp.check(
        conn,
        otp.CHAT_LOGIN,
        where=chat_login.c.chat_id == chat_id,
        binding=lambda row: (str(chat_id), row.msisdn),
        code=code,
        now=now,
        keyring=keyring,
    )
    if checked.verdict in ("none", "expired") or checked.challenge is None:
        return CodeCheck("none")
    msisdn = str(checked.challenge.msisdn)
    if checked.verdict != "accepted":
        _audit(conn, msisdn, chat_id, "wrong_code", now)
        if checked.verdict == "exhausted":
            return CodeCheck("dead")
        return CodeCheck("wrong", checked.tries_left)
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
