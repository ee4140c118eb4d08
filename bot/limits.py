"""Telegram's limits, counted the way Telegram counts them: UTF-16 code units (issue 14 item 7).

The Bot API measures a message's text (1–4096), a caption (0–1024), a callback
answer (0–200) and entity offsets in UTF-16 code units, not code points: an emoji
outside the Basic Multilingual Plane is two units. Cutting a text to fit is done
on a code-point boundary, so a surrogate pair is never split, and marks the cut
with an ellipsis (one unit). Source: core.telegram.org/bots/api (sendMessage
``text``, sendPhoto ``caption``, answerCallbackQuery ``text``, MessageEntity).
"""

from __future__ import annotations

MESSAGE_TEXT = 4096
CAPTION = 1024
CALLBACK_ANSWER = 200
BUTTON_TEXT = 64
"""Not a documented limit; Telegram clients cut longer labels, so we keep them short."""
MARK = "…"


def units(text: str) -> int:
    """The length of ``text`` in UTF-16 code units, as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


def cut(text: str, limit: int) -> str:
    """``text`` if it fits ``limit`` UTF-16 units, else as much of it as fits with ``…``."""
    if units(text) <= limit:
        return text
    room = limit - units(MARK)
    kept: list[str] = []
    used = 0
    for char in text:
        size = 2 if ord(char) > 0xFFFF else 1
        if used + size > room:
            break
        kept.append(char)
        used += size
    return "".join(kept) + MARK


def text(value: str) -> str:
    """A message text that Telegram accepts (never empty, at most 4096 units)."""
    return cut(value, MESSAGE_TEXT) or MARK


def caption(value: str) -> str:
    """A photo caption that Telegram accepts (at most 1024 units)."""
    return cut(value, CAPTION)


def callback_answer(value: str | None) -> str | None:
    """The text of a callback answer (a toast or an alert), at most 200 units."""
    return None if value is None else cut(value, CALLBACK_ANSWER)


def button(value: str) -> str:
    """A button label kept short."""
    return cut(value, BUTTON_TEXT)
