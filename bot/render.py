"""Turn what the handlers answer into Telegram markup: keyboards and signed buttons."""

from __future__ import annotations

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot import limits
from bot.callbacks import CallbackCodec
from bot.chat import ChatReply
from bot.screens import Screen
from bot.texts import ct

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None


def inline(screen: Screen, codec: CallbackCodec) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(limits.button(b.label), url=b.url)
                if b.url
                else InlineKeyboardButton(
                    limits.button(b.label), callback_data=codec.encode(b.payload)
                )
                for b in row
            ]
            for row in screen.rows
        ]
    )


def ask_contact(lang: str) -> ReplyKeyboardMarkup:
    button = KeyboardButton(ct(lang, "share_contact"), request_contact=True)
    return ReplyKeyboardMarkup([[button]], resize_keyboard=True, one_time_keyboard=True)


def reply_markup(reply: ChatReply, codec: CallbackCodec) -> Markup:
    """The keyboard that goes with a text answer."""
    if reply.screen == "ask_contact":
        return ask_contact(reply.lang)
    if reply.screen == "home":
        return ReplyKeyboardRemove()
    if reply.more is not None and codec.fits(f"c {reply.more}"):
        button = InlineKeyboardButton(
            ct(reply.lang, "more"), callback_data=codec.encode(f"c {reply.more}")
        )
        return InlineKeyboardMarkup([[button]])
    return None
