"""``pointshall message|review|order …`` as operator staff use them (§2.2.13, §2.2.15, §2.2.17):
reply to a message, moderate a review, ship and deliver a parcel."""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

from sqlalchemy import select

from core.feedback import reviews
from core.platform.clock import epoch
from core.platform.schema import goods_review, order_event, orders, outbox
from pointshall.bootstrap import Services
from tests.support.cli import pointshall
from tests.support.helpers import fund, seed_catalog, send

PHONE = "+8613800138000"


def ok(database_url: str, *args: str) -> str:
    done = pointshall(database_url, *args)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done.stdout


def refused(database_url: str, *args: str) -> str:
    done = pointshall(database_url, *args)
    assert done.returncode == 1 and "refused" in done.stderr, (args, done.stdout, done.stderr)
    return done.stderr


def staff(database_url: str) -> None:
    """ops-li answers customers (support), mod moderates and ships (business admin)."""
    ok(database_url, "staff", "add", "ops-li", "--role", "support")
    ok(database_url, "staff", "add", "mod", "--role", "business_admin")


async def test_message_list_and_reply(database_url: str, services: Services) -> None:
    staff(database_url)
    assert "留言已收到(#1)" in ok(database_url, "sms", "--from", "13800138000", "LY 积分不对")
    listed = ok(database_url, "message", "list")
    assert "#1" in listed and PHONE in listed and "[open]: 积分不对" in listed
    assert "replied to message #1" in ok(
        database_url, "message", "reply", "1", "已为您核查", "--by", "ops-li"
    )
    assert ok(database_url, "message", "list").strip() == "no messages"
    everything = ok(database_url, "message", "list", "--status", "all")
    assert "[replied]" in everything and "↳ ops-li: 已为您核查" in everything
    sent = await services.db.read(
        lambda conn: conn.execute(
            select(outbox.c.recipient).where(outbox.c.text.like("%已为您核查%"))
        ).all()
    )
    assert [r.recipient for r in sent] == [PHONE]
    refused(database_url, "message", "reply", "99", "?", "--by", "ops-li")
    assert "may not" in refused(database_url, "review", "hide", "1", "--by", "ops-li")


async def test_ship_deliver_and_moderate_a_review(
    database_url: str, services: Services, tmp_path: Path
) -> None:
    staff(database_url)
    await seed_catalog(services)
    await fund(services, tmp_path, {PHONE: 10_000})
    await send(services, PHONE, "DZ 北京市朝阳区建国路88号 王五")
    pending = await send(services, PHONE, "DH 2001")
    code = re.search(r"(?<!\d)(\d{6})(?!\d)", pending.reply)
    assert code, pending.reply
    await send(services, PHONE, code.group(1))
    no = await services.db.read(lambda conn: conn.execute(select(orders.c.no)).scalar_one())
    refused(database_url, "order", "deliver", no, "--by", "mod")  # not shipped yet
    ship = ("order", "ship", no, "--carrier", "SF Express", "--tracking", "SF1234567")
    assert "may not" in refused(database_url, *ship, "--by", "ops-li")  # support: no
    assert f"order {no} shipped: SF Express SF1234567" in ok(database_url, *ship, "--by", "mod")
    assert f"order {no} delivered" in ok(database_url, "order", "deliver", no, "--by", "mod")
    refused(
        database_url,
        "order",
        "ship",
        "999999999999",
        "--carrier",
        "SF",
        "--tracking",
        "1",
        "--by",
        "mod",
    )
    row = await services.db.read(
        lambda conn: conn.execute(
            select(orders.c.status, orders.c.carrier, orders.c.tracking_no)
        ).one()
    )
    assert tuple(row) == ("delivered", "SF Express", "SF1234567")
    events = await services.db.read(
        lambda conn: conn.execute(select(order_event.c.to_status).order_by(order_event.c.id)).all()
    )
    assert [e.to_status for e in events][-2:] == ["shipped", "delivered"]

    assert ok(database_url, "review", "list").strip() == "no reviews"
    sid = await services.db.read(
        lambda conn: conn.execute(select(orders.c.subscriber_id)).scalar_one()
    )
    now = epoch(services.clock.now())
    add = partial(reviews.add, subscriber_id=sid, no=no, score=4, text="不错", now=now)
    await services.db.write(lambda conn: add(conn))
    assert "item 2001" in ok(database_url, "review", "list") and "4/5 [visible]: 不错" in ok(
        database_url, "review", "list"
    )
    rid = await services.db.read(lambda conn: conn.execute(select(goods_review.c.id)).scalar_one())
    assert f"review #{rid} is hidden" in ok(database_url, "review", "hide", str(rid), "--by", "mod")
    assert "[hidden]" in ok(database_url, "review", "list", "--status", "hidden")
    assert f"review #{rid} is visible" in ok(
        database_url, "review", "show", str(rid), "--by", "mod"
    )
    refused(database_url, "review", "hide", "999", "--by", "mod")
