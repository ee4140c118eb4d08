"""Verifying merchant vouchers (issue 4, §3.6.1–3.6.2): SMS, bare reply, QR token; both DBs."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import re
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import Connection, select

from core.merchants import merchants
from core.platform import audit
from core.platform.clock import ManualClock, epoch
from core.platform.schema import orders, voucher
from core.vouchers import qr, verification
from core.vouchers.errors import NotYourVoucher, UnknownVoucher
from core.vouchers.verification import Refused, Verified
from pointshall.bootstrap import Services
from tests.support.helpers import send
from tests.support.merchant_helpers import (
    ALICE,
    STAFF_A,
    STAFF_B,
    STRANGER,
    buy,
    merchant_mall,
    texts_to,
)

OK = "核销成功"


@pytest.fixture
async def mall(services: Services, tmp_path: Path) -> Services:
    await merchant_mall(services, tmp_path)
    services.hall.policy = dataclasses.replace(services.hall.policy, rate_limit_per_minute=10**6)
    return services


async def state(services: Services, no: str) -> tuple[str, str, int]:
    def q(conn: Connection) -> tuple[str, str, int]:
        row = conn.execute(
            select(voucher.c.status, orders.c.status, voucher.c.failed_attempts)
            .join(orders, orders.c.id == voucher.c.order_id)
            .where(orders.c.no == no)
        ).one()
        return row[0], row[1], int(row[2])

    return await services.db.read(q)


async def by_token(services: Services, terminal_id: str, token: str) -> verification.VerifyOutcome:
    now = epoch(services.clock.now())

    def unit(conn: Connection) -> verification.VerifyOutcome:
        found = merchants.find_terminal(conn, terminal_id)
        assert found is not None
        return verification.verify_by_token(
            conn, merchants.terminal_actor(found), token, now, keyring=services.keyring
        )

    return await services.db.write(unit)


async def test_staff_verifies_by_yz_and_the_customer_is_told(mall: Services) -> None:
    bought = await buy(mall)
    reply = (await send(mall, STAFF_A, f"YZ {bought.no} {bought.password}")).reply
    assert reply == f"核销成功:订单{bought.no}「咖啡券」×1有效,请为顾客提供服务。"
    assert await state(mall, bought.no) == ("verified", "verified", 0)
    assert any(f"订单{bought.no}「咖啡券」电子券已于" in t for t in await texts_to(mall, ALICE))
    again = (await send(mall, STAFF_A, f"YZ {bought.no} {bought.password}")).reply
    assert again == f"订单{bought.no}的电子券已使用过,不能重复核销。"
    rows = await mall.db.read(partial(audit.entries, subject=f"order:{bought.no}"))
    assert [(r.actor_kind, r.actor, r.result) for r in rows] == [
        ("staff", STAFF_A, "verified"),
        ("staff", STAFF_A, "VoucherAlreadyUsed"),
    ]


async def test_a_bare_reply_order_and_password_verifies(mall: Services) -> None:
    bought = await buy(mall)
    reply = (await send(mall, STAFF_A, f"{bought.no} {bought.password}")).reply
    assert reply.startswith(OK)


async def test_non_staff_are_refused_clearly(mall: Services) -> None:
    bought = await buy(mall)
    for text in (f"YZ {bought.no} {bought.password}", f"{bought.no} {bought.password}"):
        reply = (await send(mall, STRANGER, text)).reply
        assert reply == "本号码不是登记的商家核销员,不能核销电子券。"
    assert await state(mall, bought.no) == ("issued", "voucher_issued", 0)
    rows = await mall.db.read(partial(audit.entries, subject=f"order:{bought.no}"))
    assert [r.result for r in rows] == ["NotStaff", "NotStaff"]


async def test_merchant_b_cannot_verify_merchant_a_vouchers(mall: Services) -> None:
    """The matrix over SMS, bare reply and QR (POS is in test_pos): 0 successes."""
    bought = await buy(mall)  # item 3001 belongs to M1
    refused = f"订单{bought.no}的电子券不属于本商家,不能核销。"
    assert (await send(mall, STAFF_B, f"YZ {bought.no} {bought.password}")).reply == refused
    assert (await send(mall, STAFF_B, f"{bought.no} {bought.password}")).reply == refused
    # Wrong passwords from the other merchant must not count towards the lock either.
    for _ in range(6):
        assert (await send(mall, STAFF_B, f"YZ {bought.no} 00000000")).reply == refused
    outcome = await by_token(mall, "T-B", bought.token)
    assert isinstance(outcome, Refused) and isinstance(outcome.error, NotYourVoucher)
    assert await state(mall, bought.no) == ("issued", "voucher_issued", 0)
    # ...and its own merchant still can.
    assert isinstance(await by_token(mall, "T-A", bought.token), Verified)


async def test_the_qr_png_decodes_to_a_token_that_verifies(mall: Services) -> None:
    bought = await buy(mall)
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.png(bought.token))))
    assert [d.text for d in decoded] == [bought.token]
    assert len(bought.token) >= 22  # 128 bits, URL-safe base64
    outcome = await by_token(mall, "T-A", decoded[0].text)
    assert isinstance(outcome, Verified) and outcome.voucher.no == bought.no
    assert await state(mall, bought.no) == ("verified", "verified", 0)
    again = await by_token(mall, "T-A", decoded[0].text)
    assert isinstance(again, Refused)
    unknown = await by_token(mall, "T-A", "not-a-token")
    assert isinstance(unknown, Refused) and isinstance(unknown.error, UnknownVoucher)


async def test_twenty_concurrent_verifications_succeed_once(mall: Services) -> None:
    bought = await buy(mall)
    replies = await asyncio.gather(
        *(send(mall, STAFF_A, f"YZ {bought.no} {bought.password}") for _ in range(20))
    )
    assert sum(r.reply.startswith(OK) for r in replies) == 1
    assert await state(mall, bought.no) == ("verified", "verified", 0)
    used = [t for t in await texts_to(mall, ALICE) if "电子券已于" in t]
    assert len(used) == 1


async def test_twenty_concurrent_qr_verifications_succeed_once(mall: Services) -> None:
    bought = await buy(mall)
    outcomes = await asyncio.gather(*(by_token(mall, "T-A", bought.token) for _ in range(20)))
    assert sum(isinstance(o, Verified) for o in outcomes) == 1


async def test_five_wrong_passwords_lock_until_unlocked(mall: Services) -> None:
    bought = await buy(mall)
    for left in (4, 3, 2, 1):
        reply = (await send(mall, STAFF_A, f"YZ {bought.no} 00000000")).reply
        assert reply == f"订单{bought.no}的券密码不正确,还可再试{left}次。"
    locked = f"订单{bought.no}的电子券因密码错误次数过多已锁定,请联系运营解锁。"
    assert (await send(mall, STAFF_A, f"YZ {bought.no} 00000000")).reply == locked
    assert (await send(mall, STAFF_A, f"YZ {bought.no} {bought.password}")).reply == locked
    assert await state(mall, bought.no) == ("locked", "voucher_issued", 5)
    assert any("已锁定" in t for t in await texts_to(mall, ALICE))
    assert any("已锁定" in t for t in await texts_to(mall, STAFF_A))
    # The QR token is refused too while locked.
    assert isinstance(await by_token(mall, "T-A", bought.token), Refused)
    now = epoch(mall.clock.now())
    await mall.db.write(lambda conn: verification.unlock(conn, bought.no, "ops", now))
    assert await state(mall, bought.no) == ("issued", "voucher_issued", 0)
    assert (await send(mall, STAFF_A, f"YZ {bought.no} {bought.password}")).reply.startswith(OK)


async def test_the_customer_unlocks_a_locked_voucher_with_cf(mall: Services) -> None:
    """Issue 13 §4: a lock-out is lifted by the one it hurts, not only by an operator; CF
    sends a new password (the guessed-at one is dead) with five fresh tries."""
    bought = await buy(mall)
    for _ in range(5):
        await send(mall, STAFF_A, f"YZ {bought.no} 00000000")
    assert await state(mall, bought.no) == ("locked", "voucher_issued", 5)
    assert any(f"CF {bought.no}" in t for t in await texts_to(mall, ALICE))
    await send(mall, ALICE, f"CF {bought.no}")
    assert await state(mall, bought.no) == ("issued", "voucher_issued", 0)
    resent = [t for t in await texts_to(mall, ALICE) if "新券码" in t]
    fresh = re.findall(r"新券码(\d{8})", resent[-1]) if resent else []
    assert fresh and fresh[-1] != bought.password, await texts_to(mall, ALICE)
    assert "不正确" in (await send(mall, STAFF_A, f"YZ {bought.no} {bought.password}")).reply
    assert (await send(mall, STAFF_A, f"YZ {bought.no} {fresh[-1]}")).reply.startswith(OK)
    rows = await mall.db.read(lambda conn: audit.entries(conn, f"order:{bought.no}"))
    assert ("voucher_unlock", ALICE) in [(r.action, r.actor) for r in rows]


async def test_expired_and_refunded_vouchers_are_refused(
    mall: Services, clock: ManualClock
) -> None:
    refunded = await buy(mall)
    assert "已退款" in (await send(mall, ALICE, f"QX {refunded.no}")).reply
    reply = (await send(mall, STAFF_A, f"YZ {refunded.no} {refunded.password}")).reply
    assert reply == f"订单{refunded.no}已退款,电子券已作废。"
    old = await buy(mall)
    clock.advance(timedelta(days=31))
    reply = (await send(mall, STAFF_A, f"YZ {old.no} {old.password}")).reply
    assert reply == f"订单{old.no}的电子券已过期,不能核销。"
    assert (await send(mall, STAFF_A, "YZ 991231000000 12345678")).reply == (
        "没有找到订单991231000000的电子券,请核对订单号。"
    )


async def test_the_owner_manages_verifiers_by_sms(mall: Services) -> None:
    owner, newcomer = "+8613700137100", "+8613700137101"
    now = epoch(mall.clock.now())
    await mall.db.write(lambda conn: merchants.add_staff(conn, "M1", owner, "owner", "test", now))
    assert (await send(mall, STAFF_A, f"YG {newcomer}")).reply == (
        "只有商家店主号码可以管理核销员。"
    )
    assert (await send(mall, owner, "YG 13700137101")).reply == (
        f"已添加{newcomer}为咖啡时光的核销员。"
    )
    assert any(t.startswith("您已成为咖啡时光的核销员") for t in await texts_to(mall, newcomer))
    listed = (await send(mall, owner, "YG")).reply
    assert STAFF_A in listed and newcomer in listed and owner in listed
    bought = await buy(mall)
    assert (await send(mall, newcomer, f"YZ {bought.no} {bought.password}")).reply.startswith(OK)
    assert (await send(mall, owner, f"YG DEL {newcomer}")).reply == f"已删除核销员{newcomer}。"
    other = await buy(mall)
    assert (await send(mall, newcomer, f"YZ {other.no} {other.password}")).reply == (
        "本号码不是登记的商家核销员,不能核销电子券。"
    )
    assert (await send(mall, owner, "YG 12345")).reply == "号码格式不正确,请检查后重发。"
