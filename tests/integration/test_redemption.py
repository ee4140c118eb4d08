"""Redeeming over SMS (§2.2.12, §2.2.15, §3.6.2, DESIGN §5): holds, confirm codes, vouchers."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, select

from core.catalogue import editing
from core.catalogue.editing import ItemSpec
from core.orders import cancellation
from core.platform.clock import ManualClock, epoch
from core.platform.schema import account, hold, item, outbox, subscriber, topup, voucher
from core.platform.schema import orders as orders_table
from core.points import doctor
from pointshall.bootstrap import Services
from tests.support.helpers import fund, received, seed_catalog, send, texts_of

ALICE = "+8613800138000"
BOB = "+8613900139000"
PENDING = re.compile(r"订单(\d{12}).*回复(\d{6})确认")


@pytest.fixture
async def mall(services: Services, tmp_path: Path) -> Services:
    await seed_catalog(services)
    await fund(services, tmp_path, {ALICE: 20_000, BOB: 800})
    return services


def unlimited(services: Services) -> None:
    """Lift the per-number rate limit for load tests (one number sends 40+ texts here)."""
    services.hall.policy = dataclasses.replace(services.hall.policy, rate_limit_per_minute=10**9)


async def redeem(services: Services, sender: str, text: str) -> tuple[str, str]:
    reply = (await send(services, sender, text)).reply
    match = PENDING.search(reply)
    assert match, reply
    return match.group(1), match.group(2)


async def available(services: Services, msisdn: str) -> tuple[int, int]:
    def q(conn: Connection) -> tuple[int, int]:
        row = conn.execute(
            select(account.c.balance, account.c.held)
            .join(subscriber, subscriber.c.id == account.c.subscriber_id)
            .where(subscriber.c.msisdn == msisdn)
        ).one()
        return int(row.balance), int(row.held)

    return await services.db.read(q)


async def stock(services: Services, code: str) -> int | None:
    return await services.db.read(
        lambda conn: conn.execute(select(item.c.stock).where(item.c.code == code)).scalar_one()
    )


async def ledger_ok(services: Services) -> None:
    report = await services.db.read(doctor.examine)
    assert report.ok, [str(d) for d in report.discrepancies]


async def outbox_texts(services: Services, to: str) -> list[str]:
    return await services.db.read(received(services, texts_of(outbox.c.recipient == to)))


async def test_browse_and_redeem_a_voucher(mall: Services) -> None:
    hd = (await send(mall, ALICE, "HD")).reply
    assert hd.startswith("进行中的活动(1/1):\nA1 双十一特惠 至")
    sp = (await send(mall, ALICE, "SP SJ")).reply
    assert "3001 咖啡券 800分" in sp and "3002 电影票 1,500分" in sp
    xq = (await send(mall, ALICE, "XQ 2001")).reply
    assert xq.startswith("2001 保温杯:3,000分,剩5件。不锈钢真空保温杯")
    views = await mall.db.read(
        lambda conn: conn.execute(select(item.c.views).where(item.c.code == "2001")).scalar_one()
    )
    assert views == 1

    no, code = await redeem(mall, ALICE, "DH 3001")
    assert await available(mall, ALICE) == (20_000, 800)
    assert await stock(mall, "3001") == 49
    wrong = "000000" if code != "000000" else "111111"
    assert (await send(mall, ALICE, wrong)).reply == "确认码不正确,还可再试4次。"
    paid = (await send(mall, ALICE, code)).reply
    assert paid.startswith(f"兑换成功!订单{no}的电子券已短信发送")
    assert await available(mall, ALICE) == (19_200, 0)
    [sms] = await outbox_texts(mall, ALICE)
    password = re.search(r"电子券密码(\d{8})", sms)
    assert password and f"订单{no}「咖啡券」" in sms and "咖啡时光" in sms

    detail = (await send(mall, ALICE, f"DD {no}")).reply
    assert detail == f"订单{no}:咖啡券×1,800分,券已发送。"
    assert (
        await send(mall, ALICE, f"CF {no}")
    ).reply == f"订单{no}的新券码已短信发送,旧券码已作废。"
    texts = await outbox_texts(mall, ALICE)
    assert len(texts) == 2 and "新券码" in texts[1]
    assert (await send(mall, ALICE, f"QX {no}")).reply == f"订单{no}已退款,800积分已退回。"
    assert await available(mall, ALICE) == (20_000, 0)
    assert await stock(mall, "3001") == 50
    mx = (await send(mall, ALICE, "MX")).reply
    assert "+800 退回咖啡券×1" in mx and "-800 兑换咖啡券×1" in mx
    await ledger_ok(mall)


async def test_physical_goods_need_an_address_then_ship_to_it(mall: Services) -> None:
    assert (
        await send(mall, ALICE, "DH 2001")
    ).reply == "实物商品需要收货地址,请先回复:DZ 您的收货地址"
    assert await stock(mall, "2001") == 5
    assert (
        await send(mall, ALICE, "DZ 北京市朝阳区3#楼501")
    ).reply == "收货地址已保存:北京市朝阳区3#楼501"
    no, code = await redeem(mall, ALICE, "兑换2001 2")
    reply = (await send(mall, ALICE, code)).reply
    assert reply == f"兑换成功!订单{no}将寄往:北京市朝阳区3#楼501。回复DD {no}查物流。"
    assert await stock(mall, "2001") == 3
    assert await available(mall, ALICE) == (14_000, 0)
    await ledger_ok(mall)


async def test_phone_credit_makes_a_top_up_request(mall: Services) -> None:
    no, code = await redeem(mall, ALICE, "DH 1001")
    assert (await send(mall, ALICE, code)).reply == f"兑换成功!订单{no}:50元话费将充值到本机号码。"

    def q(conn: Connection) -> tuple[str, int, str]:
        row = conn.execute(select(topup.c.msisdn, topup.c.amount_cents, topup.c.status)).one()
        return row.msisdn, int(row.amount_cents), row.status

    assert await mall.db.read(q) == (ALICE, 5000, "requested")
    assert (await send(mall, ALICE, f"QX {no}")).reply == f"订单{no}已支付,不能取消。"


@pytest.mark.parametrize(
    ("sender", "text", "expected"),
    [
        (ALICE, "DH 9999", "没有编号为9999的商品,回复SP查看商品。"),
        (ALICE, "DH 1001 0", "数量须在1到10之间。"),
        (ALICE, "DH 1001 11", "数量须在1到10之间。"),
        (ALICE, "DH 1001 99999999999", "格式:DH 商品编号 数量,例如DH 1024 1"),
        (BOB, "DH 1001", "积分不足:需要5,000分,可用800分。"),
        (ALICE, "DH 2001 6", "2001库存不足,剩余5件。"),
        (ALICE, "DH 4002", "活动「国庆特惠」已结束。"),
        (ALICE, "123456", "没有待确认的兑换。回复SP查看商品。"),
        (ALICE, "QX 261120000000", "没有找到您的订单261120000000。回复DD查看订单。"),
        (ALICE, "CF 261120000000", "没有找到您的订单261120000000。回复DD查看订单。"),
    ],
)
async def test_bad_input_gets_a_specific_reply_and_changes_nothing(
    mall: Services, sender: str, text: str, expected: str
) -> None:
    before = (await available(mall, sender), await stock(mall, "2001"), await stock(mall, "3001"))
    assert (await send(mall, sender, text)).reply == expected
    after = (await available(mall, sender), await stock(mall, "2001"), await stock(mall, "3001"))
    assert after == before
    count = await mall.db.read(
        lambda conn: conn.execute(select(func.count()).select_from(orders_table)).scalar_one()
    )
    assert count == 0


async def test_out_of_stock_and_activity_limit(mall: Services, tmp_path: Path) -> None:
    await send(mall, ALICE, "DZ 北京市朝阳区建国路1号")
    no, _ = await redeem(mall, ALICE, "DH 2001 5")
    assert (await send(mall, BOB, "DH 2001")).reply == "2001库存不足,剩余0件。"
    await send(mall, ALICE, f"QX {no}")
    assert await stock(mall, "2001") == 5
    _, code = await redeem(mall, ALICE, "DH 4001")
    await send(mall, ALICE, code)
    assert (await send(mall, ALICE, "DH 4001")).reply == "本活动每人限兑1件,您已兑1件,不能再兑1件。"


async def test_each_limit_has_its_own_reply_with_the_numbers(mall: Services) -> None:
    """Issue 14 item 5: ``DH 2004 2`` with nothing redeemed is an activity limit, not today's."""
    now = epoch(mall.clock.now())

    def daily(conn: Connection) -> None:
        spec = ItemSpec("5001", "暖手宝", "Hand warmer", "LP", "credit", 100, face_value_cents=100)
        editing.upsert_item(conn, dataclasses.replace(spec, per_account_limit=2), now)
        both = ItemSpec("5002", "围巾", "Scarf", "LP", "credit", 100, face_value_cents=100)
        editing.upsert_item(
            conn, dataclasses.replace(both, per_account_limit=1, activity="A1"), now
        )

    await mall.db.write(daily)
    assert (await send(mall, ALICE, "DH 4001 2")).reply == (
        "本活动每人限兑1件,您已兑0件,不能再兑2件。"
    )
    assert (await send(mall, ALICE, "DH 5002 2")).reply == (
        "本活动每人限兑1件,您已兑0件,不能再兑2件。"
    )
    assert (await send(mall, ALICE, "DH 5001 3")).reply == (
        "该商品每人每天限兑2件,您今天已兑0件,不能再兑3件。"
    )
    _, code = await redeem(mall, ALICE, "DH 5001 2")
    await send(mall, ALICE, code)
    assert (await send(mall, ALICE, "DH 5001")).reply == (
        "该商品每人每天限兑2件,您今天已兑2件,不能再兑1件。"
    )
    assert (await send(mall, ALICE, "DH 1001 11")).reply == "数量须在1到10之间。"
    await send(mall, ALICE, "EN")
    assert (await send(mall, ALICE, "DH 4001 2")).reply == (
        "This activity allows 1 each; you have 0, so not 2 more."
    )


async def test_someone_elses_order_is_unknown(mall: Services) -> None:
    no, code = await redeem(mall, ALICE, "DH 3001")
    await send(mall, ALICE, code)
    assert (await send(mall, BOB, f"QX {no}")).reply == f"没有找到您的订单{no}。回复DD查看订单。"
    assert (await send(mall, BOB, f"DD {no}")).reply == f"没有找到您的订单{no}。回复DD查看订单。"
    assert (await available(mall, ALICE)) == (19_200, 0)


async def test_expired_and_guessed_codes_cancel_the_order(
    mall: Services, clock: ManualClock
) -> None:
    no, code = await redeem(mall, ALICE, "DH 3001")
    clock.advance(timedelta(minutes=6))
    assert (await send(mall, ALICE, code)).reply == f"确认码已过期,订单{no}已取消,积分已解冻。"
    assert await available(mall, ALICE) == (20_000, 0)
    no, code = await redeem(mall, ALICE, "DH 3001")
    wrong = next(c for c in ("000000", "111111") if c != code)
    for left in (4, 3, 2, 1):
        assert (await send(mall, ALICE, wrong)).reply == f"确认码不正确,还可再试{left}次。"
    assert (
        await send(mall, ALICE, wrong)
    ).reply == f"确认码错误次数过多,订单{no}已取消,积分已解冻。"
    assert (await send(mall, ALICE, code)).reply == "没有待确认的兑换。回复SP查看商品。"
    assert await available(mall, ALICE) == (20_000, 0)
    assert await stock(mall, "3001") == 50
    await ledger_ok(mall)


async def test_english_redemption(mall: Services) -> None:
    await send(mall, ALICE, "EN")
    reply = (await send(mall, ALICE, "DH 3002")).reply
    match = re.search(
        r"Order (\d{12}): Cinema ticket x1 for 1,500 points, now held\. Reply (\d{6})", reply
    )
    assert match, reply
    paid = (await send(mall, ALICE, match.group(2))).reply
    assert paid.startswith(f"Done! The voucher of order {match.group(1)} is on its way by SMS")
    [sms] = await outbox_texts(mall, ALICE)
    assert sms.startswith(f"Order {match.group(1)} (Cinema ticket): voucher password ")


async def test_ten_thousand_concurrent_redemptions_sell_exactly_the_stock(
    mall: Services, tmp_path: Path
) -> None:
    """200 subscribers fire 10,000 concurrent DH at an item with stock 50 (issue 3)."""
    unlimited(mall)
    people = [f"+86137{i:08d}" for i in range(200)]
    await fund(mall, tmp_path, dict.fromkeys(people, 100_000))
    replies = await asyncio.gather(*(send(mall, people[i % 200], "DH 3001") for i in range(10_000)))
    pending = [(people[i % 200], PENDING.search(r.reply)) for i, r in enumerate(replies)]
    won = [(who, m.group(2)) for who, m in pending if m]
    assert len(won) == 50
    refused = {r.reply for r in replies if not PENDING.search(r.reply)}
    assert refused == {"3001库存不足,剩余0件。"}
    confirmed = await asyncio.gather(*(send(mall, who, code) for who, code in won))
    assert all(c.reply.startswith("兑换成功") for c in confirmed)

    def q(conn: Connection) -> tuple[int, int, int]:
        paid = conn.execute(
            select(func.count())
            .select_from(orders_table)
            .where(orders_table.c.status == "voucher_issued")
        ).scalar_one()
        vouchers = conn.execute(select(func.count()).select_from(voucher)).scalar_one()
        negative = conn.execute(
            select(func.count()).select_from(account).where(account.c.balance - account.c.held < 0)
        ).scalar_one()
        return int(paid), int(vouchers), int(negative)

    assert await mall.db.read(q) == (50, 50, 0)
    assert await stock(mall, "3001") == 0
    await ledger_ok(mall)


async def test_twenty_concurrent_redeem_and_confirm_pay_once(mall: Services) -> None:
    """BOB has points for exactly one 800-point voucher (issue 3)."""
    unlimited(mall)

    async def attempt() -> str:
        reply = (await send(mall, BOB, "DH 3001")).reply
        match = PENDING.search(reply)
        if not match:
            return reply
        return (await send(mall, BOB, match.group(2))).reply

    results = await asyncio.gather(*(attempt() for _ in range(20)))
    assert sum(r.startswith("兑换成功") for r in results) == 1
    assert sorted(set(results) - {r for r in results if r.startswith("兑换成功")}) == [
        "积分不足:需要800分,可用0分。"
    ]
    assert await available(mall, BOB) == (0, 0)
    await ledger_ok(mall)


async def test_unpaid_orders_time_out_and_release_everything(
    mall: Services, clock: ManualClock
) -> None:
    await redeem(mall, ALICE, "DH 3001")
    await mall.db.write(lambda conn: cancellation.expire_unpaid(conn, epoch(clock.now())))
    assert await available(mall, ALICE) == (20_000, 800), "not yet due"
    clock.advance(timedelta(minutes=16))
    released = await mall.db.write(
        lambda conn: cancellation.expire_unpaid(conn, epoch(clock.now()))
    )
    assert released == 1
    assert (
        await mall.db.write(lambda conn: cancellation.expire_unpaid(conn, epoch(clock.now()))) == 0
    )
    assert await available(mall, ALICE) == (20_000, 0)
    assert await stock(mall, "3001") == 50
    holds = await mall.db.read(lambda conn: conn.execute(select(hold.c.status)).scalars().all())
    assert list(holds) == ["released"]
    await ledger_ok(mall)
