"""An item's detail shows its average review score and how many reviews (issue 14 item 9,
§2.2.9, §2.2.17): by SMS (``XQ``) and in the chat, from visible reviews only."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, update

from core.feedback import reviews
from core.orders import logistics
from core.platform.clock import epoch
from core.platform.schema import goods_review
from core.subscribers.subscribers import get_or_create
from pointshall.bootstrap import Services
from tests.support.admin_helpers import buy_flask
from tests.support.helpers import send
from tests.support.merchant_helpers import ALICE, merchant_mall
from tests.support.tg import Chat


async def review_flasks(services: Services, scores: list[int]) -> None:
    """Alice buys and receives a flask (2001) for each score, and reviews it so."""
    now = epoch(services.clock.now())
    for score in scores:
        no = await buy_flask(services)

        def received_and_reviewed(conn: Connection, no: str = no, score: int = score) -> None:
            logistics.ship(conn, no, carrier="SF", tracking_no="SF1", by="t", now=now)
            logistics.deliver(conn, no, by="t", now=now)
            sub = get_or_create(conn, ALICE, now)
            reviews.add(conn, subscriber_id=sub.id, no=no, score=score, text="", now=now)

        await services.db.write(received_and_reviewed)


def test_the_average_is_written_with_one_decimal_from_tenths() -> None:
    assert reviews.Rating(2, 45).average() == "4.5"
    assert reviews.Rating(1, 50).average() == "5.0"


async def test_xq_shows_the_average_score_and_the_count(services: Services, tmp_path: Path) -> None:
    await merchant_mall(services, tmp_path)
    before = (await send(services, ALICE, "XQ 2001")).reply
    assert "评分" not in before
    await review_flasks(services, [5, 4, 4])
    reply = (await send(services, ALICE, "XQ 2001")).reply
    assert "评分4.3(3条)。" in reply
    await services.db.write(
        lambda conn: conn.execute(
            update(goods_review).where(goods_review.c.score == 5).values(status="hidden")
        )
    )
    assert "评分4.0(2条)。" in (await send(services, ALICE, "XQ 2001")).reply
    await send(services, ALICE, "EN")
    assert "Rated 4.0/5 (2). " in (await send(services, ALICE, "XQ 2001")).reply


async def test_the_chat_detail_shows_the_rating(chat: Chat, tmp_path: Path) -> None:
    await merchant_mall(chat.services, tmp_path)
    await review_flasks(chat.services, [5, 4])
    start = (await chat.say("/start"))[-1]
    shown = await chat.tap("x 2001", on=start)
    assert "评分:4.5分(2条评价)" in shown.text
    assert chat.fake.refused == []


async def test_the_reviews_screen_shows_the_same_rating_as_the_detail(
    chat: Chat, tmp_path: Path
) -> None:
    """4, 4, 4, 5 is 4.25: half up gives 4.3 on every screen (a float formatted with
    ``:.1f`` rounds the binary 4.25 to even, 4.2, and the two screens disagreed)."""
    await merchant_mall(chat.services, tmp_path)
    await review_flasks(chat.services, [4, 4, 4, 5])
    start = (await chat.say("/start"))[-1]
    detail = await chat.tap("x 2001", on=start)
    assert "评分:4.3分(4条评价)" in detail.text
    listed = await chat.tap("r 2001", on=detail)
    assert "保温杯:4条评价,平均4.3分" in listed.text
