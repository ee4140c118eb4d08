"""Admin API moderation (issue 8 item 1, issue 5 item 4; §2.2.13/19 messages, §2.2.18
questions, §2.2.17 reviews): staff reply, answer and hide/show through HTTP; replies go
back through the outbox exactly as ``pointshall message reply`` sends them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Connection, select

from core.feedback import messages, questions, reviews
from core.orders import logistics
from core.platform.clock import epoch
from core.platform.schema import item, outbox
from core.subscribers.subscribers import get_or_create
from pointshall.app import build_app
from pointshall.bootstrap import Services
from tests.support.admin_helpers import Admin, audit_actions, buy_flask, make_staff
from tests.support.merchant_helpers import ALICE, merchant_mall


@pytest.fixture
async def admin(services: Services, tmp_path: Path) -> AsyncIterator[Admin]:
    await merchant_mall(services, tmp_path)
    tokens = await make_staff(services)
    async with TestClient(TestServer(build_app(services, drain=False))) as client:
        yield Admin(client, tokens)


async def leave_two(services: Services) -> tuple[int, int]:
    """One message by SMS and one from a Telegram chat; their ids."""
    now = epoch(services.clock.now())

    def unit(conn: Connection) -> tuple[int, int]:
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
        return by_sms, by_chat

    return await services.db.write(unit)


async def queued(services: Services, key: str) -> tuple[str, str, str] | None:
    row = await services.db.read(
        lambda conn: conn.execute(
            select(outbox.c.channel, outbox.c.recipient, outbox.c.text).where(
                outbox.c.idempotency_key == key
            )
        ).first()
    )
    return None if row is None else (row[0], row[1], row[2])


async def test_staff_list_messages_and_reply_back_to_the_chat_or_number(
    admin: Admin, services: Services
) -> None:
    by_sms, by_chat = await leave_two(services)
    status, listed = await admin.call("GET", "/messages", "support", params={"status": "open"})
    assert status == 200
    assert [m["id"] for m in listed] == [by_chat, by_sms]
    assert listed[1]["msisdn"] == ALICE and listed[1]["replies"] == []

    status, shown = await admin.call(
        "POST", f"/messages/{by_chat}/reply", "support", {"text": "It ships  tomorrow."}
    )
    assert status == 200
    assert shown["status"] == "replied"
    assert [(r["staff"], r["text"]) for r in shown["replies"]] == [
        ("support", "It ships tomorrow.")
    ]
    reply_id = await services.db.read(
        lambda conn: conn.execute(
            select(outbox.c.idempotency_key).where(outbox.c.channel == "telegram")
        ).scalar_one()
    )
    channel, recipient, text = await queued(services, reply_id) or ("", "", "")
    assert (channel, recipient) == ("telegram", "424242")
    assert f"#{by_chat}" in text and "It ships tomorrow." in text

    status, _ = await admin.call(
        "POST", f"/messages/{by_sms}/reply", "business_admin", {"text": "明天到账"}
    )
    assert status == 200
    sms = await services.db.read(
        lambda conn: conn.execute(
            select(outbox.c.recipient, outbox.c.text).where(outbox.c.channel == "sms")
        ).all()
    )
    assert [(r[0], "明天到账" in r[1]) for r in sms] == [(ALICE, True)]

    status, still_open = await admin.call("GET", "/messages", "admin", params={"status": "open"})
    assert status == 200 and still_open == []
    status, everything = await admin.call("GET", "/messages", "admin")
    assert [m["status"] for m in everything] == ["replied", "replied"]
    status, one = await admin.call("GET", f"/messages/{by_sms}", "admin")
    assert status == 200 and one["replies"][0]["staff"] == "business_admin"
    assert ("support", "message_reply") in await audit_actions(services, f"message:{by_chat}")

    assert (await admin.call("POST", "/messages/999/reply", "admin", {"text": "x"}))[0] == 404
    assert (await admin.call("GET", "/messages/999", "admin"))[0] == 404
    blank = await admin.call("POST", f"/messages/{by_sms}/reply", "admin", {"text": "   "})
    assert blank[0] == 422
    assert (await admin.call("POST", f"/messages/{by_sms}/reply", "finance", {"text": "x"}))[
        0
    ] == 403
    assert (await admin.call("GET", "/messages", "admin", params={"status": "odd"}))[0] == 400


async def test_staff_answer_questions_and_the_unanswered_filter(
    admin: Admin, services: Services
) -> None:
    now = epoch(services.clock.now())

    def ask(conn: Connection) -> list[int]:
        sub = get_or_create(conn, ALICE, now)
        flask = conn.execute(select(item.c.id).where(item.c.code == "2001")).scalar_one()
        return [
            questions.ask(conn, sub.id, int(flask), "能装热水吗?", now),
            questions.ask(conn, sub.id, int(flask), "Is it steel?", now),
        ]

    first, second = await services.db.write(ask)
    status, open_ones = await admin.call(
        "GET", "/questions", "support", params={"unanswered": "true"}
    )
    assert status == 200 and [q["id"] for q in open_ones] == [first, second]
    assert open_ones[0]["item_code"] == "2001" and open_ones[0]["answer"] is None

    status, answered = await admin.call(
        "POST", f"/questions/{first}/answer", "support", {"text": "可以,100°C 以内。"}
    )
    assert status == 200
    assert (answered["answer"], answered["answered_by"]) == ("可以,100°C 以内。", "support")
    status, open_ones = await admin.call(
        "GET", "/questions", "admin", params={"unanswered": "true"}
    )
    assert [q["id"] for q in open_ones] == [second]
    status, every = await admin.call("GET", "/questions", "admin")
    assert [q["id"] for q in every] == [first, second]
    assert ("support", "question_answer") in await audit_actions(services, f"question:{first}")

    assert (await admin.call("POST", "/questions/999/answer", "admin", {"text": "x"}))[0] == 404
    assert (await admin.call("POST", f"/questions/{second}/answer", "admin", {"text": " "}))[
        0
    ] == 422
    assert (await admin.call("GET", "/questions", "finance"))[0] == 403


async def test_moderators_hide_and_show_reviews(admin: Admin, services: Services) -> None:
    no = await buy_flask(services)
    now = epoch(services.clock.now())

    def received_and_reviewed(conn: Connection) -> int:
        logistics.ship(conn, no, carrier="SF", tracking_no="SF1", by="t", now=now)
        logistics.deliver(conn, no, by="t", now=now)
        sub = get_or_create(conn, ALICE, now)
        return reviews.add(conn, subscriber_id=sub.id, no=no, score=2, text="漏水", now=now)

    rid = await services.db.write(received_and_reviewed)
    status, listed = await admin.call("GET", "/reviews", "support")
    assert status == 200
    assert [(r["id"], r["item_code"], r["score"], r["status"]) for r in listed] == [
        (rid, "2001", 2, "visible")
    ]
    assert (await admin.call("POST", f"/reviews/{rid}/hide", "support"))[0] == 403

    status, hidden = await admin.call("POST", f"/reviews/{rid}/hide", "business_admin")
    assert status == 200 and hidden["status"] == "hidden"
    _, rated = await services.db.read(lambda conn: reviews.for_item(conn, "2001", 5))
    assert rated.count == 0
    status, only_hidden = await admin.call("GET", "/reviews", "admin", params={"status": "hidden"})
    assert [r["id"] for r in only_hidden] == [rid]
    assert (await admin.call("GET", "/reviews", "admin", params={"status": "visible"}))[1] == []

    status, shown = await admin.call("POST", f"/reviews/{rid}/show", "admin")
    assert status == 200 and shown["status"] == "visible"
    _, rated = await services.db.read(lambda conn: reviews.for_item(conn, "2001", 5))
    assert (rated.count, rated.average()) == (1, "2.0")
    assert sorted(await audit_actions(services, f"review:{rid}")) == [
        ("admin", "review_visible"),
        ("business_admin", "review_hidden"),
    ]
    assert (await admin.call("POST", "/reviews/999/hide", "admin"))[0] == 404
