"""What a Telegram update must hold before python-telegram-bot reads it (issue 13 §6,
bot.updates): the Bot API's required fields with their types, integers Telegram can send."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.updates import MAX_TELEGRAM_INT, read_update
from core.platform.inputs import MalformedInput
from tests.support.telegram_fake import text_update, user


def body(value: Any) -> bytes:
    return json.dumps(value).encode()


def test_real_updates_pass() -> None:
    update = text_update(5, 424242, "BZ")
    assert read_update(body(update)) == update
    press = {
        "update_id": 6,
        "callback_query": {
            "id": "cb6",
            "from": user(424242),
            "chat_instance": "ci",
            "data": "x",
            "message": text_update(5, 424242, "BZ")["message"],
        },
    }
    assert read_update(body(press)) == press
    assert read_update(body({"update_id": 7, "my_chat_member": {"anything": 1}}))


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda u: u["message"].pop("chat"), "update.message.chat"),
        (lambda u: u["message"]["chat"].update(id="424242"), "update.message.chat.id"),
        (lambda u: u["message"]["chat"].update(id=MAX_TELEGRAM_INT + 1), "update.message.chat.id"),
        (lambda u: u["message"].update(text=7), "update.message.text"),
        (lambda u: u["message"]["from"].update(is_bot="no"), "update.message.from.is_bot"),
        (lambda u: u.update(update_id=True), "update.update_id"),
        (lambda u: u.update(update_id=-1), "update.update_id"),
        (lambda u: u.update(message=[]), "update.message"),
        (lambda u: u.update(extra=[2**64]), "body"),
    ],
)
def test_a_malformed_update_names_what_is_wrong(change: Any, where: str) -> None:
    update = text_update(5, 424242, "BZ")
    change(update)
    with pytest.raises(MalformedInput) as refused:
        read_update(body(update))
    assert refused.value.part == where


def test_not_an_update_at_all() -> None:
    for raw in (b"", b"[]", b"\xff", b"{", b"[" * 1000 + b"]" * 1000):
        with pytest.raises(MalformedInput):
            read_update(raw)
