"""Showing an answer in the chat, within Telegram's rules (issue 14 items 7 and 8).

Texts and captions are cut to Telegram's limits in UTF-16 units (``bot.limits``). A screen
that replaces the one whose button was pressed is an edit of that message when it is a
text message; Telegram refuses to edit the text of a photo message ("there is no text in
the message to edit"), so from a photo (or towards one) the answer is a new message and
the old message's keyboard is taken away, so no stale button is left.
"""

from __future__ import annotations

import contextlib

from telegram import (
    ForceReply,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.error import BadRequest

from bot import limits

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply | None


def _not_modified(exc: BadRequest) -> bool:
    """Pressed twice: Telegram answers "message is not modified" to an identical edit."""
    return "not modified" in str(exc).lower()


async def send(message: Message, text: str, markup: Markup = None) -> Message:
    """A new message in ``message``'s chat."""
    return await message.reply_text(limits.text(text), reply_markup=markup)


async def replace(message: Message, text: str, markup: InlineKeyboardMarkup | None) -> bool:
    """Show ``text`` in place of the pressed ``message``; False when it shows that already
    (the caller then says so: a press must always be answered visibly)."""
    if message.photo or message.text is None:
        await send(message, text, markup)
        await drop_keyboard(message)
        return True
    text = limits.text(text)
    if text == message.text and _same(markup, message.reply_markup):
        return False
    try:
        await message.edit_text(text, reply_markup=markup)
    except BadRequest as exc:
        if not _not_modified(exc):
            raise
        return False
    return True


def _same(markup: InlineKeyboardMarkup | None, shown: InlineKeyboardMarkup | None) -> bool:
    def rows(m: InlineKeyboardMarkup | None) -> list[list[tuple[str, str | None, str | None]]]:
        if m is None:
            return []
        return [
            [(b.text, b.url, str(b.callback_data) if b.callback_data else None) for b in row]
            for row in m.inline_keyboard
        ]

    return rows(markup) == rows(shown)


async def keyboard(message: Message, markup: InlineKeyboardMarkup | None) -> bool:
    """Change only the buttons of ``message`` (text or photo alike); False if unchanged."""
    if _same(markup, message.reply_markup):
        return False
    try:
        await message.edit_reply_markup(reply_markup=markup)
    except BadRequest as exc:
        if not _not_modified(exc):
            raise
        return False
    return True


async def drop_keyboard(message: Message) -> None:
    """Take the buttons off a message that a newer one replaced (best effort)."""
    if message.reply_markup is None:
        return
    with contextlib.suppress(BadRequest):
        await message.edit_reply_markup(reply_markup=None)
