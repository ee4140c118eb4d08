"""Binding a chat to a subscriber (§2.2.8): the number is proved by a code sent to it by SMS.

A chat asks for a code for a number; the hall stores a keyed hash of a 6-digit
code (5 minutes, 5 tries, single use) and queues the code by SMS to that
number, never into the chat. Typing the right code binds the chat to the
subscriber of that number (created on first contact, like an SMS), and the number's
owner is told by SMS that a chat was bound. Outcomes are returned, not raised, so a
wrong try is counted in the same transaction.

Guessing is bounded (issue 13 §4): besides one code a minute per chat and per number,
codes are capped per number and per chat an hour and a day (``CODES_PER_NUMBER``,
``CODES_PER_CHAT``), and so are wrong codes (``TRIES_PER_NUMBER``, ``TRIES_PER_CHAT``):
at most 20 guesses a day against one number, and at most 10 SMS a day to it, where one
code a minute with 5 tries each allowed 7,200 guesses and 1,440 texts. A chat's tries are
made only against the code sent for that chat, so no chat can spend another's tries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, delete, select

from core.messaging import outbox
from core.platform import audit, otp, throttle
from core.platform.codes import Keyring, token
from core.platform.schema import chat_binding, chat_login, subscriber
from core.platform.sql import insert_ignoring
from core.subscribers import subscribers, texts
from core.subscribers.subscribers import Subscriber, default_lang

Result = Literal["bound", "wrong", "dead", "none", "capped"]
SendResult = Literal["sent", "too_soon", "capped"]

CODES_PER_NUMBER = throttle.Limit(
    "chat-code-number", (throttle.Cap(3, throttle.HOUR), throttle.Cap(10, throttle.DAY))
)
CODES_PER_CHAT = throttle.Limit(
    "chat-code-chat", (throttle.Cap(3, throttle.HOUR), throttle.Cap(10, throttle.DAY))
)
TRIES_PER_NUMBER = throttle.Limit(
    "chat-try-number", (throttle.Cap(10, throttle.HOUR), throttle.Cap(20, throttle.DAY))
)
TRIES_PER_CHAT = throttle.Limit(
    "chat-try-chat", (throttle.Cap(10, throttle.HOUR), throttle.Cap(20, throttle.DAY))
)


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
) -> SendResult:
    """Queue a new code by SMS to ``msisdn`` for chat ``chat_id``.

    ``too_soon`` (nothing sent) within a minute of the last code for this chat or to this
    number; ``capped`` (nothing sent) past ``CODES_PER_NUMBER`` or ``CODES_PER_CHAT``, so
    no chat can make the hall bomb a phone.
    """
    flow = otp.CHAT_LOGIN
    if not otp.may_send(
        conn, flow, (chat_login.c.chat_id == chat_id) | (chat_login.c.msisdn == msisdn), now
    ):
        return "too_soon"
    caps = ((CODES_PER_NUMBER, msisdn), (CODES_PER_CHAT, str(chat_id)))
    if not throttle.all_allowed(conn, caps, now):
        _audit(conn, msisdn, chat_id, "code_capped", now)
        return "capped"
    throttle.record_all(conn, caps, now)
    code = otp.issue(
        conn,
        flow,
        replaces=chat_login.c.chat_id == chat_id,
        challenges=[({"chat_id": chat_id, "msisdn": msisdn}, (str(chat_id), msisdn))],
        now=now,
        keyring=keyring,
    )
    outbox.enqueue(
        conn,
        key=f"chat-login:{chat_id}:{now}:{token()[:8]}",
        recipient=msisdn,
        text=texts.notice(_lang(conn, msisdn, home_lang), "login_code", code=code),
        now=now,
        secrets=(code,),
        keyring=keyring,
    )
    return "sent"


def _lang(conn: Connection, msisdn: str, home_lang: str) -> str:
    known = subscribers.find(conn, msisdn)
    return known.lang if known else default_lang(msisdn, home_lang)


def check_code(
    conn: Connection, chat_id: int, code: str, now: int, keyring: Keyring, home_lang: str
) -> CodeCheck:
    """Bind the chat when ``code`` is the live code sent for it; ``capped`` (not checked)
    past ``TRIES_PER_NUMBER`` or ``TRIES_PER_CHAT`` wrong codes. The number's owner is told
    by SMS when the chat is bound."""
    pending = otp.live(conn, otp.CHAT_LOGIN, chat_login.c.chat_id == chat_id, now)
    caps: tuple[tuple[throttle.Limit, str], ...] = ((TRIES_PER_CHAT, str(chat_id)),)
    if pending is not None:
        caps = (*caps, (TRIES_PER_NUMBER, str(pending.msisdn)))
        if not throttle.all_allowed(conn, caps, now):
            _audit(conn, str(pending.msisdn), chat_id, "tries_capped", now)
            return CodeCheck("capped")
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
        throttle.record_all(conn, caps, now)
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
    outbox.enqueue(
        conn,
        key=f"chat-bound:{chat_id}:{now}",
        recipient=msisdn,
        text=texts.notice(found.lang, "chat_bound"),
        now=now,
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
