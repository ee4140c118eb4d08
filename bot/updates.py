"""What a Telegram update must hold before python-telegram-bot reads it (issue 13 §6).

python-telegram-bot builds an ``Update`` from whatever JSON it is given: a message without a
chat, a chat id of 80 digits, a text that is a number all come through ``de_json`` and fail
later, inside a handler, where the webhook can only answer 500 (and Telegram would deliver
the same bad update again and again). So the webhook checks the fields the Bot API marks
required, with their types, for the objects the hall reads (``SHAPES``), and that every
integer is one Telegram could send; anything else is ``MalformedInput`` and a 400.
"""

from __future__ import annotations

from typing import Any

from core.platform import inputs
from core.platform.inputs import MalformedInput

MAX_TELEGRAM_INT = 2**53 - 1
"""Telegram's identifiers fit in 52 bits (a double); nothing larger is a real update."""

Kind = type | str
SHAPES: dict[str, dict[str, tuple[Kind, bool]]] = {
    "Update": {
        "update_id": (int, True),
        "message": ("Message", False),
        "edited_message": ("Message", False),
        "channel_post": ("Message", False),
        "edited_channel_post": ("Message", False),
        "callback_query": ("CallbackQuery", False),
    },
    "Message": {
        "message_id": (int, True),
        "date": (int, True),
        "chat": ("Chat", True),
        "from": ("User", False),
        "text": (str, False),
        "caption": (str, False),
        "contact": ("Contact", False),
        "photo": ("[PhotoSize]", False),
        "entities": ("[MessageEntity]", False),
        "reply_to_message": ("Message", False),
    },
    "Chat": {"id": (int, True), "type": (str, True)},
    "User": {
        "id": (int, True),
        "is_bot": (bool, True),
        "first_name": (str, True),
        "language_code": (str, False),
    },
    "Contact": {"phone_number": (str, True), "first_name": (str, True), "user_id": (int, False)},
    "PhotoSize": {
        "file_id": (str, True),
        "file_unique_id": (str, True),
        "width": (int, True),
        "height": (int, True),
    },
    "MessageEntity": {"type": (str, True), "offset": (int, True), "length": (int, True)},
    "CallbackQuery": {
        "id": (str, True),
        "from": ("User", True),
        "chat_instance": (str, True),
        "data": (str, False),
        "message": ("Message", False),
    },
}
"""Per Bot API object: field → (a Python type or another object's name, required). Only the
fields the hall reads or python-telegram-bot needs to build the object; others pass as sent."""


def _scalar(value: Any, kind: type, where: str) -> None:
    if kind is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise MalformedInput(where, "must be an integer")
        if not -MAX_TELEGRAM_INT <= value <= MAX_TELEGRAM_INT:
            raise MalformedInput(where, "is out of Telegram's range")
    elif not isinstance(value, kind):
        raise MalformedInput(where, f"must be a {kind.__name__}")


def _check(value: Any, kind: Kind, where: str) -> None:
    if isinstance(kind, type):
        _scalar(value, kind, where)
        return
    if kind.startswith("["):
        if not isinstance(value, list):
            raise MalformedInput(where, "must be a list")
        for i, item in enumerate(value):
            _check(item, kind[1:-1], f"{where}[{i}]")
        return
    if not isinstance(value, dict):
        raise MalformedInput(where, f"must be a {kind} object")
    for name, (field_kind, required) in SHAPES[kind].items():
        if name in value:
            _check(value[name], field_kind, f"{where}.{name}")
        elif required:
            raise MalformedInput(f"{where}.{name}", "is required")


def _ints_in_range(value: Any) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, int) and not -MAX_TELEGRAM_INT <= item <= MAX_TELEGRAM_INT:
            raise MalformedInput("body", "an integer is out of Telegram's range")


def read_update(body: bytes) -> dict[str, Any]:
    """The JSON object of one update, checked against ``SHAPES``; else ``MalformedInput``."""
    data = inputs.json_body(body)
    _check(data, "Update", "update")
    _ints_in_range(data)
    if data["update_id"] < 0:
        raise MalformedInput("update.update_id", "must not be negative")
    result: dict[str, Any] = data
    return result
