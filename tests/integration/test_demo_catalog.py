"""The demo catalogue: seeded idempotently, and everything in it can be tried over SMS."""

from __future__ import annotations

import re

from sqlalchemy import Connection, Table, func, select

from core.platform.schema import (
    account,
    activity,
    ad,
    address,
    announcement,
    banner,
    brand,
    category,
    item,
    merchant,
    outbox,
    topup,
)
from core.points import doctor
from pointshall import demo
from pointshall.bootstrap import Services
from tests.support.helpers import send

RICH = "+8613800138000"
TABLES: tuple[Table, ...] = (
    category,
    brand,
    merchant,
    activity,
    item,
    announcement,
    banner,
    ad,
    address,
)


async def snapshot(services: Services) -> dict[str, list[tuple[object, ...]]]:
    def q(conn: Connection) -> dict[str, list[tuple[object, ...]]]:
        return {
            t.name: [tuple(r) for r in conn.execute(select(t).order_by(t.c.id)).all()]
            for t in TABLES
        }

    return await services.db.read(q)


async def confirm_code(services: Services, text: str) -> str:
    reply = (await send(services, RICH, text)).reply
    found = re.search(r"回复(\d{6})确认", reply)
    assert found, reply
    return found.group(1)


async def test_seeding_twice_changes_nothing(services: Services) -> None:
    await demo.seed(services)
    first = await snapshot(services)
    assert len(first["item"]) >= 10
    assert len(first["merchant"]) >= 2
    assert {r[1] for r in first["activity"]} == {"WINTER", "NEWYEAR", "AUTUMN"}
    await demo.seed(services)
    assert await snapshot(services) == first
    assert (await services.db.read(doctor.examine)).ok


async def test_demo_items_can_be_redeemed_over_sms(services: Services) -> None:
    await demo.seed(services)
    assert (await send(services, RICH, "HD")).reply.startswith("进行中的活动(1/1):\nWINTER")
    assert "NEWYEAR" in (await send(services, RICH, "HD Y")).reply
    assert "AUTUMN" in (await send(services, RICH, "HD G")).reply
    assert "1001 话费10元 1,000分" in (await send(services, RICH, "SP")).reply
    assert (await send(services, RICH, "XQ 1001")).reply.startswith("1001 话费10元:1,000分。")

    code = await confirm_code(services, "DH 1001")
    assert "兑换成功" in (await send(services, RICH, code)).reply

    code = await confirm_code(services, "DH 3001")
    assert "电子券已短信发送" in (await send(services, RICH, code)).reply

    code = await confirm_code(services, "DH 2004")  # the activity item; an address is on file
    assert "兑换成功" in (await send(services, RICH, code)).reply
    assert "限" in (await send(services, RICH, "DH 2004")).reply  # one per account

    def fulfilment(conn: Connection) -> tuple[list[int], list[str]]:
        amounts = list(conn.execute(select(topup.c.amount_cents)).scalars())
        texts = list(
            conn.execute(select(outbox.c.text).where(outbox.c.recipient == RICH)).scalars()
        )
        return amounts, texts

    amounts, texts = await services.db.read(fulfilment)
    assert amounts == [1000]
    assert any("星语咖啡" in t and "电子券密码" in t for t in texts)
    report = await services.db.read(doctor.examine)
    assert report.ok, report.discrepancies


async def test_every_demo_subscriber_can_redeem_something(services: Services) -> None:
    await demo.seed(services)

    def prices(conn: Connection) -> tuple[int, list[int]]:
        cheapest = conn.execute(select(func.min(item.c.points))).scalar_one()
        available = conn.execute(select(account.c.balance - account.c.held)).scalars()
        return int(cheapest), [int(a) for a in available]

    cheapest, available = await services.db.read(prices)
    assert len(available) == len(demo.DEMO_SUBSCRIBERS)
    assert min(available) >= cheapest
