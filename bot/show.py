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


async def replace(message: Message, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Show ``text`` in place of the pressed ``message``."""
    if message.photo or message.text is None:
        await send(message, text, markup)
        await drop_keyboard(message)
        return
    try:
        await message.edit_text(limits.text(text), reply_markup=markup)
    except BadRequest as exc:
        if not _not_modified(exc):
            raise


async def keyboard(message: Message, markup: InlineKeyboardMarkup | None) -> None:
    """Change only the buttons of ``message`` (text or photo alike)."""
    try:
        await message.edit_reply_markup(reply_markup=markup)
    except BadRequest as exc:
        if not _not_modified(exc):
            raise


async def drop_keyboard(message: Message) -> None:
    """Take the buttons off a message that a newer one replaced (best effort)."""
    if message.reply_markup is None:
        return
    with contextlib.suppress(BadRequest):
        await message.edit_reply_markup(reply_markup=None)
