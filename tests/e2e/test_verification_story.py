"""Issue 4 acceptance, end to end through /sms/twilio: a subscriber redeems a merchant
voucher by SMS, the merchant's verifier replies ``order pwd``, both are told, audit shows it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from core.platform import audit
from pointshall.app import build_app
from pointshall.bootstrap import Services
from tests.support.merchant_helpers import ALICE, PASSWORD, STAFF_A, merchant_mall, texts_to
from tests.support.sms import message_text, post_twilio, signed, sms_params


@pytest.fixture
async def client(services: Services, tmp_path: Path) -> AsyncIterator[TestClient]:
    await merchant_mall(services, tmp_path)
    async with TestClient(TestServer(build_app(services))) as c:
        yield c


async def text(client: TestClient, sender: str, body: str) -> str:
    params = sms_params(body, sender=sender)
    status, twiml = await post_twilio(client, params, signed(params))
    assert status == 200
    return message_text(twiml)


async def test_redeem_by_sms_then_the_verifier_replies_order_and_password(
    client: TestClient, services: Services
) -> None:
    pending = await text(client, ALICE, "DH 3001")
    match = re.search(r"订单(\d{12}).*回复(\d{6})确认", pending)
    assert match, pending
    no, code = match.groups()
    assert (await text(client, ALICE, code)).startswith(f"兑换成功!订单{no}的电子券已短信发送")
    voucher_sms = [t for t in await texts_to(services, ALICE) if "电子券密码" in t]
    assert len(voucher_sms) == 1
    password = PASSWORD.search(voucher_sms[0])
    assert password, voucher_sms

    reply = await text(client, STAFF_A, f"{no} {password.group(1)}")
    assert reply == f"核销成功:订单{no}「咖啡券」×1有效,请为顾客提供服务。"
    used = [t for t in await texts_to(services, ALICE) if "电子券已于" in t]
    assert len(used) == 1 and "咖啡时光" in used[0], used
    assert await text(client, ALICE, f"DD {no}") == f"订单{no}:咖啡券×1,800分,券已使用。"

    rows = await services.db.read(partial(audit.entries, subject=f"order:{no}"))
    assert [(r.actor_kind, r.actor, r.action, r.result) for r in rows] == [
        ("staff", STAFF_A, "verify_password", "verified")
    ]
