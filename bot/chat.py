"""A chat (Telegram) in front of the hall: log in by SMS code, then the same commands as SMS.

One update is one unit of work, claimed by ``(telegram, update_id)`` so a
redelivered update has no second effect. A chat bound to a subscriber goes
through ``Hall.receive`` exactly like an SMS from that number. An unbound chat
can log in (a shared contact or a typed number gets a code by SMS; the code
typed back binds it) and browse: HD, SP, SS, XQ and BZ run for a *guest*, a
subscriber that exists only in memory (id 0), so handlers that would store
anything about a person are never reached; the rest ask to log in first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection

from bot.texts import ct, masked
from core.messaging import inbound
from core.platform.clock import epoch
from core.platform.errors import InvalidPhoneNumber
from core.platform.phones import to_e164
from core.subscribers import chat_binding
from core.subscribers.subscribers import Subscriber
from handlers import boundary, grammar
from handlers.boundary import Arrival, Early, Worded
from handlers.commands import (
    Activities,
    Announcements,
    BadArguments,
    Categories,
    Detail,
    Help,
    ListItems,
    Search,
)
from handlers.commands import Unknown as UnknownCommand
from handlers.context import Context
from handlers.hall import RATE_WINDOW_SECONDS, Hall, InboundMessage
from handlers.i18n import t
from handlers.registry import COMMAND_HANDLERS

CHANNEL = "telegram"
START = "/start"
GUEST_ID = 0
BROWSE: tuple[type, ...] = (
    Help,
    Activities,
    Categories,
    Announcements,
    ListItems,
    Search,
    Detail,
    BadArguments,
    UnknownCommand,
)
"""What a chat that has not logged in may do: look, not touch an account."""
_PHONE = re.compile(r"\+?[0-9][0-9 ()\-]{6,20}")
_CODE = re.compile(r"[0-9]{6}")

Screen = Literal["text", "ask_contact", "home"]


@dataclass(frozen=True)
class ChatMessage:
    update_id: int
    chat_id: int
    text: str = ""
    contact: str | None = None
    """The phone number of a shared contact."""
    lang: str | None = None
    """The user's client language, for a chat not yet bound."""


@dataclass(frozen=True)
class ChatReply:
    text: str
    lang: str
    screen: Screen = "text"
    more: str | None = None
    """For a guest: the command that continues a paged answer (the chat shows a button)."""
    duplicate: bool = False


CHAT_REPLIES: Worded[ChatReply] = Worded(
    lambda text, lang: ChatReply(text, lang),
    lambda reply: reply.text,
    lambda first, lang: ChatReply(first, lang, duplicate=True),
)
"""A chat's answers to the commands it runs for itself (logging in, browsing as a guest)."""


def guest_lang(code: str | None, home_lang: str) -> str:
    if not code:
        return home_lang
    return "zh" if code.lower().startswith("zh") else "en"


def command_text(text: str) -> str:
    """``/jf`` typed from the chat's command menu means ``JF``."""
    return text[1:] if text.startswith("/") else text


class ChatDesk:
    def __init__(self, hall: Hall) -> None:
        self.hall = hall

    def receive(self, conn: Connection, msg: ChatMessage) -> ChatReply:
        """Answer one chat update; safe to call again for a redelivery (no second effect)."""
        policy = self.hall.policy
        text = msg.text.strip()
        bound = chat_binding.bound_subscriber(conn, msg.chat_id)
        if bound is not None and msg.contact is None and text != START:
            outcome = self.hall.receive(
                conn,
                InboundMessage(CHANNEL, str(msg.update_id), bound.msisdn, command_text(text)),
            )
            return ChatReply(outcome.reply, bound.lang, duplicate=outcome.duplicate)
        now = epoch(self.hall.clock.now())
        sender = f"tg:{msg.chat_id}"
        lang = bound.lang if bound else guest_lang(msg.lang, policy.home_lang)

        def admit(_peeked: tuple[object, ...]) -> Early[ChatReply] | None:
            recent = inbound.count_since(conn, sender, now - RATE_WINDOW_SECONDS)
            if recent <= policy.rate_limit_per_minute:
                return None
            notice = t(lang, "throttled") if recent == policy.rate_limit_per_minute + 1 else ""
            return Early(ChatReply(notice, lang), "throttled")

        return boundary.receive(
            conn,
            Arrival(CHANNEL, str(msg.update_id), sender, msg.contact or text),
            now=now,
            lang=lambda: lang,
            replies=CHAT_REPLIES,
            command=lambda: self._answer(conn, msg, text, bound, lang, now),
            admit=admit,
        ).answer

    def _answer(
        self,
        conn: Connection,
        msg: ChatMessage,
        text: str,
        bound: Subscriber | None,
        lang: str,
        now: int,
    ) -> ChatReply:
        if text == START and bound is not None:
            return ChatReply(ct(lang, "welcome_back", number=masked(bound.msisdn)), lang, "home")
        if text == START:
            return ChatReply(ct(lang, "ask_contact"), lang, "ask_contact")
        if msg.contact is not None or (_PHONE.fullmatch(text) and not _CODE.fullmatch(text)):
            return self._send_code(conn, msg.chat_id, msg.contact or text, lang, now)
        if _CODE.fullmatch(text) and chat_binding.pending_number(conn, msg.chat_id, now):
            return self._check_code(conn, msg.chat_id, text, lang, now)
        return self._browse(conn, text, lang, now, msg.update_id)

    def _send_code(
        self, conn: Connection, chat_id: int, number: str, lang: str, now: int
    ) -> ChatReply:
        policy = self.hall.policy
        try:
            msisdn = to_e164(number, policy.region)
        except InvalidPhoneNumber:
            return ChatReply(t(lang, "bad_phone"), lang, "ask_contact")
        sent = chat_binding.send_code(
            conn, chat_id, msisdn, now, self.hall.keyring, policy.home_lang
        )
        key = {"sent": "code_sent", "too_soon": "code_wait", "capped": "code_capped"}[sent]
        return ChatReply(ct(lang, key, number=masked(msisdn)), lang)

    def _check_code(
        self, conn: Connection, chat_id: int, code: str, lang: str, now: int
    ) -> ChatReply:
        policy = self.hall.policy
        check = chat_binding.check_code(
            conn, chat_id, code, now, self.hall.keyring, policy.home_lang
        )
        if check.subscriber is not None:
            who = check.subscriber
            return ChatReply(ct(who.lang, "bound", number=masked(who.msisdn)), who.lang, "home")
        return ChatReply(ct(lang, f"code_{check.result}", left=check.tries_left), lang)

    def press(self, conn: Connection, msg: ChatMessage) -> ChatReply:
        """A button that runs a browsing command (an item's detail, a next page), once."""
        now = epoch(self.hall.clock.now())
        bound = chat_binding.bound_subscriber(conn, msg.chat_id)
        lang = bound.lang if bound else guest_lang(msg.lang, self.hall.policy.home_lang)
        return boundary.receive(
            conn,
            Arrival(CHANNEL, str(msg.update_id), f"tg:{msg.chat_id}", msg.text),
            now=now,
            lang=lambda: lang,
            replies=CHAT_REPLIES,
            command=lambda: self._browse(conn, msg.text, lang, now, msg.update_id),
        ).answer

    def _browse(
        self, conn: Connection, text: str, lang: str, now: int, update_id: int
    ) -> ChatReply:
        command = grammar.parse(command_text(text))
        if not isinstance(command, BROWSE):
            return ChatReply(ct(lang, "login_first"), lang)
        guest = Subscriber(GUEST_ID, "", lang, opted_out=True)
        policy, keyring = self.hall.policy, self.hall.keyring
        ctx = Context(conn, guest, now, policy, lang, keyring, f"{CHANNEL}:{update_id}", CHANNEL)
        reply = COMMAND_HANDLERS[type(command)](ctx, command)
        body = reply.text
        hint = "\n" + t(lang, "more_hint")
        if reply.more is not None and body.endswith(hint):
            body = body[: -len(hint)]  # the chat shows a button instead
        return ChatReply(body, lang, more=reply.more)
