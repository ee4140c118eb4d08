"""Back-office moderation pages (issue 16 §1; §2.2.13/19 messages, §2.2.18 questions, §2.2.17
reviews): staff reply to messages (the reply is queued back to the chat or number), answer
questions, hide and show reviews, through core.feedback, by role."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import Connection, select

from core.feedback import messages, questions, reviews
from core.orders import logistics
from core.platform.clock import epoch
from core.platform.schema import item, outbox
from core.subscribers.subscribers import get_or_create
from pointshall.bootstrap import Services
from tests.support.admin_helpers import buy_flask
from tests.support.helpers import fund, seed_catalog
from tests.support.merchant_helpers import ALICE
from tests.support.office import (
    OPS,
    actions,
    alert,
    flash,
    office_client,
    ops_login,
    page,
    staff_tokens,
    submit,
)

pytestmark = pytest.mark.filterwarnings("ignore::aiohttp.web_exceptions.NotAppKeyWarning")


@dataclass(frozen=True)
class World:
    tokens: dict[str, str]
    by_sms: int
    by_chat: int
    question: int
    review: int


@pytest.fixture
async def world(services: Services, tmp_path: Path) -> World:
    await seed_catalog(services)
    await fund(services, tmp_path, {ALICE: 20_000})
    flask = await buy_flask(services)
    now = epoch(services.clock.now())

    def unit(conn: Connection) -> tuple[int, int, int, int]:
        sub = get_or_create(conn, ALICE, now)
        by_sms = messages.leave(
            conn, subscriber_id=sub.id, channel="sms", reply_to=ALICE, text="积分何时到账?", now=now
        )
        by_chat = messages.leave(
            conn,
            subscriber_id=sub.id,
            channel="telegram",
            reply_to="424242",
            text="where is my parcel",
            now=now,
        )
        item_id = conn.execute(select(item.c.id).where(item.c.code == "2001")).scalar_one()
        question = questions.ask(conn, sub.id, int(item_id), "保温多久?", now)
        logistics.ship(conn, flask, carrier="SF", tracking_no="1", by="test", now=now)
        logistics.deliver(conn, flask, by="test", now=now)
        review = reviews.add(
            conn, subscriber_id=sub.id, no=flask, score=2, text="lid leaks", now=now
        )
        return by_sms, by_chat, question, review

    ids = await services.db.write(unit)
    return World(await staff_tokens(services), *ids)


@pytest.fixture
async def client(services: Services, world: World) -> AsyncIterator[TestClient]:
    async with office_client(services) as c:
        yield c


async def queued(services: Services, key: str) -> tuple[str, str, str] | None:
    row = await services.db.read(
        lambda conn: conn.execute(
            select(outbox.c.channel, outbox.c.recipient, outbox.c.text).where(
                outbox.c.idempotency_key == key
            )
        ).first()
    )
    return None if row is None else (row[0], row[1], row[2])


async def test_support_replies_and_the_reply_goes_back_where_the_message_came_from(
    client: TestClient, services: Services, world: World
) -> None:
    await ops_login(client, world.tokens["support"])
    status, text = await page(client, f"{OPS}/messages?status=open")
    assert status == 200 and "积分何时到账?" in text and "where is my parcel" in text
    status, text = await submit(
        client, f"{OPS}/messages/{world.by_chat}/reply", {"text": "It ships  tomorrow."}
    )
    assert status == 200 and flash(text) == f"已回复留言#{world.by_chat},回复已发送给用户。"
    assert "↳ support" in text and "It ships tomorrow." in text
    assert await queued(services, "message-reply:1") == (
        "telegram",
        "424242",
        f"【积分商城】您的留言#{world.by_chat}有回复:It ships tomorrow.",
    )
    status, text = await submit(client, f"{OPS}/messages/{world.by_sms}/reply", {"text": " "})
    assert status == 400 and alert(text) == "请检查以下内容:内容。"
    status, text = await submit(client, f"{OPS}/messages/999/reply", {"text": "hello"})
    assert status == 404 and alert(text) == "没有找到留言#999。"
    status, text = await page(client, f"{OPS}/messages?status=open")
    assert "积分何时到账?" in text and "where is my parcel" not in text
    assert ("support", "message_reply", f"message:{world.by_chat}") in await actions(services)


async def test_questions_are_answered(client: TestClient, services: Services, world: World) -> None:
    await ops_login(client, world.tokens["business_admin"])
    status, text = await page(client, f"{OPS}/questions?unanswered=1")
    assert status == 200 and "保温多久?" in text and "保温杯" in text
    status, text = await submit(
        client, f"{OPS}/questions/{world.question}/answer", {"text": "12小时。"}
    )
    assert status == 200 and flash(text) == f"问题#{world.question}已回答。" and "12小时。" in text
    status, text = await page(client, f"{OPS}/questions?unanswered=1")
    assert "保温多久?" not in text
    [q] = await services.db.read(lambda conn: questions.listing(conn))
    assert (q.answer, q.answered_by) == ("12小时。", "business_admin")


async def test_reviews_are_hidden_and_shown_by_moderators_only(
    client: TestClient, services: Services, world: World
) -> None:
    await ops_login(client, world.tokens["support"])
    status, text = await page(client, f"{OPS}/ratings")
    assert status == 200 and "lid leaks" in text and "★★☆☆☆" in text and "/hide" not in text
    status, text = await submit(client, f"{OPS}/ratings/{world.review}/hide", {})
    assert status == 403
    await ops_login(client, world.tokens["business_admin"])
    status, text = await submit(client, f"{OPS}/ratings/{world.review}/hide", {})
    assert status == 200 and flash(text) == f"评价#{world.review}已隐藏。" and "已隐藏" in text
    assert (await services.db.read(lambda c: reviews.get(c, world.review))).status == "hidden"
    status, text = await submit(client, f"{OPS}/ratings/{world.review}/show", {})
    assert status == 200 and flash(text) == f"评价#{world.review}已恢复显示。"
    status, text = await submit(client, f"{OPS}/ratings/999/hide", {})
    assert status == 404
    await ops_login(client, world.tokens["finance"])
    for where in ("messages", "questions", "ratings"):
        assert (await page(client, f"{OPS}/{where}"))[0] == 403
