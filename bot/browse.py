"""Browsing the mall in the chat: the buttons of ``bot.mall_screens``, typed searches, prompts
(a search keyword, a question about an item) and merchant staff's voucher photos.

Every update that changes something (a view counted, a favourite, a prompt, a
verification) is one unit of work claimed by its ``update_id``, so a redelivered
update has no second effect; what the chat must then do is returned as an
``Act`` and carried out after the commit.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from functools import partial
from typing import Literal

from sqlalchemy import Connection
from telegram import (
    CallbackQuery,
    ForceReply,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import limits, render, show, verify
from bot import mall_screens as ms
from bot.callbacks import CallbackCodec
from bot.chat import CHANNEL, ChatDesk, ChatMessage, ChatReply, command_text, guest_lang
from bot.screens import Screen
from bot.texts import ct
from core.catalogue import catalogue, favourites, photos
from core.catalogue.photos import Photo
from core.feedback import questions
from core.feedback.errors import BadQuestion
from core.merchants import merchants
from core.platform.clock import Clock, epoch
from core.platform.db import Database
from core.subscribers import chat_binding, chat_prompts
from core.subscribers.subscribers import Subscriber
from core.vouchers import qr
from handlers import boundary, grammar
from handlers.boundary import Arrival, Worded
from handlers.commands import PRIORITY, Search
from handlers.context import HallPolicy

log = logging.getLogger(__name__)

KINDS = frozenset({"g", "l", "B", "s", "S", "x", "F", "f", "u", "q", "Q", "y", "p", "v", "b", "n"})
"""The callback payload kinds answered here (``a``, ``k``, ``o``, ``r``, ``m``, ``z``, ``co``
belong to the shop side)."""
MAX_PAGE = 10_000
VERIFY_WORDS = frozenset({"YZ", "验证", "VERIFY", "核销"})
"""Typed alone by merchant staff: the bot asks for the order number and password."""
ALL = "*"
MAX_PHOTO_BYTES = 20 * 1024 * 1024
"""The most a bot may download from Telegram; a larger photo is not read."""

How = Literal["edit", "send", "keyboard", "prompt", "none"]


@dataclass(frozen=True)
class Act:
    """What the chat is to show after the unit of work committed."""

    how: How
    lang: str
    screen: Screen | None = None
    notice: str | None = None
    """The short answer to a pressed button (a toast, or an alert with ``alert``)."""
    alert: bool = False
    photo: Photo | None = None


def _said(act: Act) -> str:
    return act.screen.text if act.screen else act.notice or ""


ACT_REPLIES: Worded[Act] = Worded(
    lambda text, lang: Act("send", lang, Screen(text)),
    _said,
    lambda _first, lang: Act("none", lang),
)
"""The browsing side's answers: a refusal is a new message worded by the text channels' table;
a redelivered press or photo shows nothing again."""


def _page(word: str) -> int | None:
    return int(word) if word.isdigit() and 1 <= int(word) <= MAX_PAGE else None


def _ids(*words: str) -> list[int] | None:
    if not all(w.isdigit() and len(w) <= 18 for w in words):
        return None
    return [int(w) for w in words]


def _ids36(*words: str) -> list[int] | None:
    found = [ms.from_b36(w) for w in words]
    return None if None in found else [int(i) for i in found if i is not None]


class Browse:
    def __init__(self, db: Database, desk: ChatDesk, codec: CallbackCodec, clock: Clock) -> None:
        self.db = db
        self.desk = desk
        self.codec = codec
        self.clock = clock

    @property
    def _policy(self) -> HallPolicy:
        return self.desk.hall.policy

    def _now(self) -> int:
        return epoch(self.clock.now())

    def _who(
        self, conn: Connection, chat_id: int, code: str | None
    ) -> tuple[Subscriber | None, str]:
        bound = chat_binding.bound_subscriber(conn, chat_id)
        return bound, bound.lang if bound else guest_lang(code, self._policy.home_lang)

    # ------------------------------------------------------------------ buttons

    async def on_callback(
        self, query: CallbackQuery, update_id: int, chat_id: int, kind: str, rest: str
    ) -> None:
        """Answer a signed button of the browsing screens."""
        code = query.from_user.language_code if query.from_user else None
        act = await self.db.write(
            partial(
                self._press, update_id=update_id, chat_id=chat_id, code=code, kind=kind, rest=rest
            )
        )
        shown = isinstance(query.message, Message) and await self.perform(query.message, act)
        notice = act.notice
        if notice is None and not shown:  # the same screen again: say so rather than nothing
            notice = ct(act.lang, "mb_same_screen")
        await query.answer(limits.callback_answer(notice), show_alert=act.alert)

    def _press(
        self, conn: Connection, update_id: int, chat_id: int, code: str | None, kind: str, rest: str
    ) -> Act:
        now = self._now()
        bound, lang = self._who(conn, chat_id, code)

        def command() -> Act:
            act = self._dispatch(conn, chat_id, kind, rest, bound, lang, now)
            if act is None:
                return Act("none", lang, notice=ct(lang, "stale"))
            if act.screen is not None and act.screen.photo is not None:
                return replace(act, photo=photos.get(conn, act.screen.photo))
            return act

        return boundary.receive(
            conn,
            Arrival(CHANNEL, str(update_id), f"tg:{chat_id}", f"{kind} {rest}".strip()),
            now=now,
            lang=lambda: lang,
            replies=ACT_REPLIES,
            command=command,
        ).answer

    def _dispatch(
        self,
        conn: Connection,
        chat_id: int,
        kind: str,
        rest: str,
        bound: Subscriber | None,
        lang: str,
        now: int,
    ) -> Act | None:
        args = rest.split()
        tz = self._policy.timezone
        if kind == "g" and len(args) == 2 and (page := _page(args[1])):
            cat = 0 if args[0] == ALL else ms.category_id(conn, args[0])
            screen = None if cat is None else ms.goods(conn, lang, now, cat, 0, "s", page)
            return self._edit(lang, screen)
        if (
            kind == "l"
            and len(args) == 4
            and (ids := _ids36(*args[:2]))
            and (page := _page(args[3]))
        ):
            return self._edit(lang, ms.goods(conn, lang, now, ids[0], ids[1], args[2], page))
        if kind == "B" and len(args) == 2 and (ids := _ids36(args[0])):
            return self._edit(lang, ms.brand_filter(conn, lang, ids[0], args[1]))
        if kind == "s" and (page := _page(rest.partition(" ")[0])):
            return self._edit(lang, ms.search(conn, lang, now, rest.partition(" ")[2], page))
        if kind == "S" and not args:
            chat_prompts.ask(conn, chat_id, "search", "", now)
            return Act("prompt", lang, Screen(ct(lang, "mb_search_ask")))
        if kind == "p" and len(args) == 2 and (page := _page(args[1])):
            return self._edit(lang, ms.promotions(conn, lang, now, args[0], page, tz))
        if kind == "v" and len(args) == 1 and (ids := _ids(args[0])):
            return self._edit(lang, ms.activity_screen(conn, lang, now, ids[0], tz))
        if kind == "b" and len(args) == 1 and (ids := _ids(args[0])):
            screen = ms.banner_screen(conn, lang, now, ids[0], tz)
            return None if screen is None else Act("send", lang, screen)
        if kind == "n" and len(args) == 1 and (ids := _ids(args[0])):
            return self._edit(lang, ms.announcement(conn, lang, ids[0]))
        if kind in ("x", "F", "q", "Q") and len(args) == 1:
            return self._item(conn, chat_id, kind, args[0], bound, lang, now)
        if kind in ("f", "y", "u"):
            return self._mine(conn, kind, args, bound, lang, now)
        return None

    @staticmethod
    def _edit(lang: str, screen: Screen | None) -> Act | None:
        return None if screen is None else Act("edit", lang, screen)

    def _item(
        self,
        conn: Connection,
        chat_id: int,
        kind: str,
        code: str,
        bound: Subscriber | None,
        lang: str,
        now: int,
    ) -> Act | None:
        it = catalogue.find_item(conn, code)
        if it is None:
            return None
        sid = bound.id if bound else None
        if kind == "x":  # §2.2.9: the detail, and the view counted once per press
            catalogue.count_view(conn, it.id)
            return Act("send", lang, ms.detail(conn, lang, it, sid, self._policy.timezone))
        if kind == "Q":
            return Act("edit", lang, ms.item_questions(conn, lang, it))
        if bound is None:
            return Act("none", lang, notice=ct(lang, "mb_login_first"), alert=True)
        if kind == "F":
            kept = favourites.toggle(conn, bound.id, it.id, now)
            rows = ms.detail_rows(conn, lang, it, bound.id)
            notice = ct(lang, "mb_fav_added" if kept else "mb_fav_removed")
            return Act("keyboard", lang, Screen("", rows), notice=notice)
        chat_prompts.ask(conn, chat_id, "question", it.code, now)
        return Act("prompt", lang, Screen(ct(lang, "mb_ask_prompt", name=it.name(lang))))

    def _mine(
        self,
        conn: Connection,
        kind: str,
        args: list[str],
        bound: Subscriber | None,
        lang: str,
        now: int,
    ) -> Act | None:
        if bound is None:
            return Act("none", lang, notice=ct(lang, "mb_login_first"), alert=True)
        if kind == "u" and len(args) == 2 and (page := _page(args[1])):
            it = catalogue.find_item(conn, args[0])
            removed = it is not None and favourites.remove(conn, bound.id, it.id)
            screen = ms.favourite_list(conn, lang, bound.id, page)
            notice = ct(lang, "mb_fav_removed") if removed else None
            return Act("edit", lang, screen, notice=notice)
        if len(args) != 1 or (page := _page(args[0])) is None:
            return None
        if kind == "f":
            return Act("edit", lang, ms.favourite_list(conn, lang, bound.id, page))
        if kind == "y":
            return Act("edit", lang, ms.my_questions(conn, lang, bound.id, page))
        return None

    # ------------------------------------------------------------------ typed text

    def receive(self, conn: Connection, msg: ChatMessage) -> Act | ChatReply:
        """A typed text: the answer to a prompt, a search, a staff ``YZ``; else the desk's."""
        text = msg.text.strip()
        if msg.contact is not None or not text:
            return self.desk.receive(conn, msg)
        now = self._now()
        parsed = grammar.parse(command_text(text))
        # A command typed with "/", and BZ, TD, START (DESIGN.md §6), win over the prompt.
        taken = not text.startswith("/") and not isinstance(parsed, PRIORITY)
        prompt = chat_prompts.take(conn, msg.chat_id, now) if taken else None
        verifying = command_text(text).upper() in VERIFY_WORDS
        if prompt is None and not isinstance(parsed, Search) and not verifying:
            return self.desk.receive(conn, msg)
        bound, lang = self._who(conn, msg.chat_id, msg.lang)

        def answer() -> Act:
            if prompt is not None and prompt.kind == "question":
                return self._ask(conn, bound, prompt.arg, text, lang, now)
            if prompt is not None:
                return Act("send", lang, ms.search(conn, lang, now, text, 1))
            if isinstance(parsed, Search):
                return Act("send", lang, ms.search(conn, lang, now, parsed.keyword, parsed.page))
            return self._verify_prompt(conn, bound, lang)

        sender = bound.msisdn if bound else f"tg:{msg.chat_id}"
        return boundary.receive(
            conn,
            Arrival(CHANNEL, str(msg.update_id), sender, text),
            now=now,
            lang=lambda: lang,
            replies=ACT_REPLIES,
            command=answer,
        ).answer

    def _ask(
        self,
        conn: Connection,
        bound: Subscriber | None,
        code: str,
        text: str,
        lang: str,
        now: int,
    ) -> Act:
        """§2.2.18: the text answering "ask a question" becomes a question about the item."""
        it = catalogue.find_item(conn, code)
        if bound is None or it is None:
            return Act("send", lang, Screen(ct(lang, "mb_login_first")))
        try:
            questions.ask(conn, bound.id, it.id, text, now)
        except BadQuestion:
            return Act("send", lang, Screen(ct(lang, "mb_bad_question")))
        rows = ms.item_questions(conn, lang, it).rows
        return Act("send", lang, Screen(ct(lang, "mb_asked"), rows))

    def _verify_prompt(self, conn: Connection, bound: Subscriber | None, lang: str) -> Act:
        if bound is not None and merchants.staff_actor(conn, bound.msisdn).merchant_ids:
            return Act("prompt", lang, Screen(ct(lang, "mb_verify_prompt")))
        return Act("send", lang, Screen(verify.not_staff(lang)))

    # ------------------------------------------------------------------ photos

    async def on_photo(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """A photo from merchant staff: read the voucher's QR code and verify it (§3.6.1)."""
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None or not message.photo:
            return
        staff = await self.db.read(partial(self._is_staff, chat_id=chat.id))
        tokens: list[str] = []
        biggest = message.photo[-1]
        if staff and (biggest.file_size or 0) <= MAX_PHOTO_BYTES:
            found = await biggest.get_file()
            data = bytes(await found.download_as_bytearray())
            tokens = await asyncio.to_thread(qr.read, data)
        code = update.effective_user.language_code if update.effective_user else None
        act = await self.db.write(
            partial(
                self._photo, update_id=update.update_id, chat_id=chat.id, code=code, tokens=tokens
            )
        )
        await self.perform(message, act)

    @staticmethod
    def _is_staff(conn: Connection, chat_id: int) -> bool:
        bound = chat_binding.bound_subscriber(conn, chat_id)
        return bound is not None and bool(merchants.staff_actor(conn, bound.msisdn).merchant_ids)

    def _photo(
        self, conn: Connection, update_id: int, chat_id: int, code: str | None, tokens: list[str]
    ) -> Act:
        now = self._now()
        bound, lang = self._who(conn, chat_id, code)

        def command() -> Act:
            if bound is None:
                return Act("send", lang, Screen(ct(lang, "mb_photo_ignored")))
            text = verify.verify_photo(conn, self.desk.hall, bound.msisdn, tokens, now, lang)
            return Act("send", lang, Screen(text))

        sender = bound.msisdn if bound else f"tg:{chat_id}"
        return boundary.receive(
            conn,
            Arrival(CHANNEL, str(update_id), sender, "[photo]"),
            now=now,
            lang=lambda: lang,
            replies=ACT_REPLIES,
            command=command,
        ).answer

    # ------------------------------------------------------------------ showing

    async def perform(self, message: Message, act: Act) -> bool:
        """Show ``act`` in the chat of ``message`` (the pressed message, or the typed one);
        False when nothing in the chat changed (it showed that already, or nothing to show)."""
        screen = act.screen
        if act.how == "none" or screen is None:
            return False
        if act.how == "prompt":
            await show.send(message, screen.text, ForceReply(selective=True))
            return True
        markup = render.inline(screen, self.codec) if screen.rows else None
        if act.how == "keyboard":
            return await show.keyboard(message, markup)
        if act.how == "edit" and act.photo is None:
            return await show.replace(message, screen.text, markup)
        if act.photo is not None:
            await self._send_photo(message, act.photo, limits.caption(screen.text), markup)
        else:
            await show.send(message, screen.text, markup)
        if act.how == "edit":
            await show.drop_keyboard(message)
        return True

    async def _send_photo(
        self, message: Message, photo: Photo, caption: str, markup: InlineKeyboardMarkup | None
    ) -> None:
        """Send the picture by its Telegram id when known, else upload it and keep the id."""
        if photo.telegram_file_id:
            try:
                await message.reply_photo(
                    photo.telegram_file_id, caption=caption, reply_markup=markup
                )
                return
            except BadRequest:  # the id is no longer valid: upload the bytes again
                log.info("telegram forgot photo %s; uploading again", photo.subject)
        extension = "png" if photo.content_type == "image/png" else "jpg"
        upload = InputFile(photo.data, filename=f"{photo.subject.replace(':', '-')}.{extension}")
        sent = await message.reply_photo(upload, caption=caption, reply_markup=markup)
        if sent.photo:
            await self.db.write(
                partial(
                    photos.remember_file_id, subject=photo.subject, file_id=sent.photo[-1].file_id
                )
            )
