"""The bot's handlers: each update becomes one unit of work in ``bot.chat`` or a screen.

Text and shared contacts go to ``ChatDesk.receive`` (the SMS pipeline for a
bound chat); inline buttons carry signed payloads (``bot.callbacks``) and show
the mall screens (``bot.screens``). A forged or stale button is answered with a
short notice and changes nothing. The browsing screens, typed searches, prompts
and merchant staff's QR photos are ``bot.browse``'s.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from functools import partial

from sqlalchemy import Connection
from telegram import CallbackQuery, Message, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot import limits, mall_screens, render, screens, shop_screens, show
from bot.browse import KINDS as BROWSE_KINDS
from bot.browse import Act, Browse
from bot.callbacks import CallbackCodec
from bot.chat import ChatDesk, ChatMessage, ChatReply, guest_lang
from bot.shop import KINDS as SHOP_KINDS
from bot.shop import ShopAnswer, ShopDesk
from bot.texts import ct
from bot.types import TelegramApp
from core.messaging import inbound
from core.platform.clock import Clock, epoch
from core.platform.db import Database
from core.subscribers import chat_binding

log = logging.getLogger(__name__)

update_failures: ContextVar[list[BaseException] | None] = ContextVar(
    "update_failures", default=None
)
"""Set by the webhook around one update: errors that a redelivery could cure are put here."""


class HallBot:
    def __init__(self, db: Database, desk: ChatDesk, codec: CallbackCodec, clock: Clock) -> None:
        self.db = db
        self.desk = desk
        self.codec = codec
        self.clock = clock
        self.browse = Browse(db, desk, codec, clock)
        self.shop = ShopDesk(desk.hall)

    def register(self, application: TelegramApp) -> None:
        # Only private chats: a group bound to a number would let every member spend it.
        private = filters.ChatType.PRIVATE
        application.add_handler(
            MessageHandler((filters.TEXT | filters.CONTACT) & private, self.on_message)
        )
        application.add_handler(MessageHandler(filters.PHOTO & private, self.browse.on_photo))
        application.add_handler(CallbackQueryHandler(self.on_callback))
        application.add_error_handler(self.on_error)

    async def on_message(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer a typed text or a shared contact."""
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None:
            return
        user = update.effective_user
        msg = ChatMessage(
            update_id=update.update_id,
            chat_id=chat.id,
            # NUL and lone surrogates arrive in real updates; no database stores them
            text=inbound.storable(message.text or "", inbound.MAX_TEXT),
            contact=inbound.storable(message.contact.phone_number, 32) if message.contact else None,
            lang=user.language_code if user else None,
        )
        bought = await self.db.write(partial(self.shop.typed, msg=msg))
        if bought is not None:  # the buying side: a prompt's answer, a payment code, /cart
            if not bought.duplicate and bought.screen.text:
                await show.send(message, bought.screen.text, self._keys(bought))
            return
        reply = await self.db.write(partial(self.browse.receive, msg=msg))
        if isinstance(reply, Act):  # a search, a prompt's answer: the browsing side's
            await self.browse.perform(message, reply)
            return
        if reply.duplicate or not reply.text:  # a redelivery was answered the first time
            return
        await self._send(message, reply)

    async def _send(self, message: Message, reply: ChatReply) -> None:
        await show.send(message, reply.text, render.reply_markup(reply, self.codec))
        if reply.screen in ("home", "ask_contact"):  # guests may browse before logging in
            screen = await self.db.read(partial(self._home, lang=reply.lang))
            await show.send(message, screen.text, render.inline(screen, self.codec))

    async def on_callback(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """Show the screen a signed button asks for; refuse anything else, harmlessly."""
        query = update.callback_query
        chat = update.effective_chat
        if query is None or chat is None:
            return
        code = query.from_user.language_code if query.from_user else None
        lang = await self.db.read(partial(self._lang, chat_id=chat.id, code=code))
        payload = self.codec.decode(query.data or "")
        if payload is None:
            await query.answer(limits.callback_answer(ct(lang, "stale")))
            return
        kind, _, rest = payload.partition(" ")
        if kind in BROWSE_KINDS:
            await self.browse.on_callback(query, update.update_id, chat.id, kind, rest)
            return
        if kind in SHOP_KINDS:
            await self._shop(update.update_id, chat.id, query, payload, code)
            return
        if kind == "c":
            msg = ChatMessage(update.update_id, chat.id, rest, lang=code)
            reply = await self.db.write(partial(self.desk.press, msg=msg))
            await query.answer()
            if not reply.duplicate and reply.text and isinstance(query.message, Message):
                await self._send(query.message, reply)
            return
        if kind != "h":
            await query.answer(limits.callback_answer(ct(lang, "stale")))
            return
        shown = await self._edit(query, await self.db.read(partial(self._home, lang=lang)))
        await query.answer(None if shown else limits.callback_answer(ct(lang, "mb_same_screen")))

    async def _shop(
        self, update_id: int, chat_id: int, query: CallbackQuery, payload: str, code: str | None
    ) -> None:
        answer = await self.db.write(
            partial(
                self.shop.press, update_id=update_id, chat_id=chat_id, payload=payload, code=code
            )
        )
        shown = False
        if not answer.duplicate and answer.screen.text and isinstance(query.message, Message):
            if answer.edit:
                shown = await self._edit(query, answer.screen)
            else:
                await show.send(query.message, answer.screen.text, self._keys(answer))
                shown = True
        lang = await self.db.read(partial(self._lang, chat_id=chat_id, code=code))
        await query.answer(None if shown else limits.callback_answer(ct(lang, "mb_same_screen")))

    def _keys(self, answer: ShopAnswer) -> render.Markup:
        return render.inline(answer.screen, self.codec) if answer.screen.rows else None

    async def _edit(self, query: CallbackQuery, screen: screens.Screen) -> bool:
        if not isinstance(query.message, Message):
            return False
        return await show.replace(query.message, screen.text, render.inline(screen, self.codec))

    def _now(self) -> int:
        return epoch(self.clock.now())

    def _home(self, conn: Connection, lang: str) -> screens.Screen:
        now = self._now()
        screen = screens.home(conn, lang, now)
        top = mall_screens.home_top(conn, lang, now)
        bottom = mall_screens.home_bottom(conn, lang, now) + shop_screens.account_row(lang)
        return screens.Screen(screen.text, top + screen.rows + bottom)

    def _lang(self, conn: Connection, chat_id: int, code: str | None) -> str:
        bound = chat_binding.bound_subscriber(conn, chat_id)
        return bound.lang if bound else guest_lang(code, self.desk.hall.policy.home_lang)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log what went wrong; the user gets nothing half-done (the unit of work rolled back).

        A failure before the answer was committed (the database, a bug) is handed to the
        webhook, which then asks Telegram to deliver the update again; a failed send is
        not, since the redelivery would be a duplicate.
        """
        # The update's id only: its text may carry a code or a password (issue 13 §1).
        update_id = getattr(update, "update_id", None)
        log.error("telegram update %s failed", update_id, exc_info=context.error)
        failures = update_failures.get()
        if failures is not None and not isinstance(context.error, TelegramError | None):
            failures.append(context.error)
