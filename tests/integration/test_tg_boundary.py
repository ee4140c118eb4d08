"""Every Telegram command passes the one inbound boundary (issue 12 item 4, DESIGN §6): a
``DomainError`` raised under any family of buttons, a typed prompt or a photo is answered with
the reply the text channels' one table maps it to, and the update is recorded ``refused``;
anything unexpected gets the apology, goes to the one hook and is recorded ``error``. On both
databases, through the real webhook and Application against the fake Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, NoReturn

import pytest
from sqlalchemy import Connection, select

import bot.verify
from bot import mall_screens
from core.catalogue import catalogue, favourites
from core.catalogue.errors import UnknownItem
from core.merchants.errors import NotStaff
from core.orders import cart
from core.orders.errors import OutOfStock
from core.platform import metrics
from core.platform.clock import ManualClock
from core.platform.errors import DomainError
from core.platform.schema import cart_line, favourite, inbound
from handlers.errors import reply_for
from handlers.i18n import t
from tests.support.helpers import count, seed_catalog
from tests.support.telegram_fake import callback_update, photo_update
from tests.support.tg import Chat, open_chat


def refuse(error: Exception) -> Callable[..., NoReturn]:
    def raising(*_args: Any, **_kwargs: Any) -> NoReturn:
        raise error

    return raising


async def last_inbound(chat: Chat) -> tuple[str, str, str]:
    """``(text, status, reply)`` of the newest inbound record."""

    def q(conn: Connection) -> tuple[str, str, str]:
        row = conn.execute(
            select(inbound.c.text, inbound.c.status, inbound.c.reply)
            .order_by(inbound.c.id.desc())
            .limit(1)
        ).one()
        return str(row.text), str(row.status), str(row.reply)

    return await chat.services.db.read(q)


@pytest.fixture
async def chat(database_url: str, clock: ManualClock) -> AsyncIterator[Chat]:
    async with open_chat(database_url, clock, drain=False) as chat:
        await seed_catalog(chat.services)
        await chat.log_in()
        yield chat


def errors_counted() -> float:
    found = metrics.REGISTRY.get_sample_value(
        "pointshall_command_errors_total", {"channel": "telegram"}
    )
    return found or 0.0


def mapped(error: DomainError) -> str:
    return reply_for(error, "zh")


async def test_a_browsing_button_refused_by_the_domain_answers_the_mapped_reply(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    error = UnknownItem("2001")
    monkeypatch.setattr(favourites, "toggle", refuse(error))
    shown = await chat.tap("F 2001")
    assert shown.text == mapped(error)
    assert await last_inbound(chat) == ("F 2001", "refused", mapped(error))
    assert await count(chat.services, favourite) == 0


async def test_a_buying_button_refused_by_the_domain_answers_the_mapped_reply(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    error = OutOfStock("2001", 0)
    monkeypatch.setattr(cart, "add", refuse(error))
    shown = await chat.tap("a 2001")
    assert shown.text == mapped(error) == "2001库存不足,剩余0件。"
    assert await last_inbound(chat) == ("a 2001", "refused", mapped(error))
    assert await count(chat.services, cart_line) == 0


async def test_a_command_button_refused_by_the_domain_answers_the_mapped_reply(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    error = UnknownItem("SJ")
    monkeypatch.setattr(catalogue, "list_items", refuse(error))
    shown = await chat.tap("c SP 2")
    assert shown.text == mapped(error)
    assert await last_inbound(chat) == ("SP 2", "refused", mapped(error))


async def test_a_typed_search_refused_by_the_domain_answers_the_mapped_reply(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    error = UnknownItem("咖啡")
    monkeypatch.setattr(mall_screens, "search", refuse(error))
    shown = await chat.say("SS 咖啡")
    assert [s.text for s in shown] == [mapped(error)]
    assert await last_inbound(chat) == ("SS 咖啡", "refused", mapped(error))


async def test_a_photo_refused_by_the_domain_answers_the_mapped_reply(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    error = NotStaff("+8613800138000")
    monkeypatch.setattr(bot.verify, "verify_photo", refuse(error))
    shown = await chat.send(photo_update(chat.uid(), chat.chat_id, chat.fake.upload(b"jpeg")))
    assert [s.text for s in shown] == [mapped(error)]
    assert await last_inbound(chat) == ("[photo]", "refused", mapped(error))


async def test_an_unexpected_failure_gets_the_apology_and_the_one_hook(
    chat: Chat, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    before = errors_counted()
    monkeypatch.setattr(cart, "add", refuse(RuntimeError("a bug")))
    shown = await chat.tap("a 2001")
    assert shown.text == t("zh", "error")
    assert await last_inbound(chat) == ("a 2001", "error", t("zh", "error"))
    assert await count(chat.services, cart_line) == 0
    assert errors_counted() == before + 1
    assert any("a bug" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


async def test_a_redelivered_refused_press_has_no_second_answer(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cart, "add", refuse(OutOfStock("2001", 0)))
    before = await count(chat.services, inbound)
    assert chat.last is not None
    update = callback_update(chat.uid(), chat.chat_id, chat.last, chat.codec.encode("a 2001"))
    first = await chat.send(update)
    again = await chat.send(update)
    assert [s.text for s in first] == [mapped(OutOfStock("2001", 0))]
    assert again == []
    assert await count(chat.services, inbound) == before + 1


async def test_nul_and_lone_surrogates_in_a_typed_text_are_stored_marked_and_answered(
    chat: Chat,
) -> None:
    """Real updates can carry U+0000 and lone surrogates (valid JSON escapes); PostgreSQL
    refuses NUL and UTF-8 cannot encode a lone surrogate, so they are marked U+FFFD at the
    adapter's edge, the message kept and answered."""
    shown = await chat.say("LY 积分\x00何时\ud800到账")
    assert "留言已收到" in shown[0].text
    text, status, _reply = await last_inbound(chat)
    assert text == "LY 积分\ufffd何时\ufffd到账" and status == "answered"
    search = await chat.say("\ud83d\x00")
    assert search and search[0].text
