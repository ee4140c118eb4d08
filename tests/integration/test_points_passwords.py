"""MM: setting the points passwords by SMS with a one-time code (issue 4, §3.6.3)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection

from core.platform.clock import ManualClock
from core.subscribers import password_otp, passwords, subscribers
from pointshall.bootstrap import Services
from tests.support.helpers import send
from tests.support.merchant_helpers import ALICE, merchant_mall, texts_to

CODE = re.compile(r"验证码(\d{6})")


@pytest.fixture
async def mall(services: Services, tmp_path: Path) -> Services:
    await merchant_mall(services, tmp_path)
    return services


async def code_sent(services: Services) -> str:
    found = [m for t in await texts_to(services, ALICE) if (m := CODE.search(t))]
    assert found
    return found[-1].group(1)


async def check(services: Services, first: str, second: str) -> bool:
    def q(conn: Connection) -> bool:
        sub = subscribers.find(conn, ALICE)
        assert sub is not None
        stored = passwords.stored(conn, sub.id)
        assert stored is not None
        return passwords.check_password(
            services.keyring, stored.points_password_hash, "points", ALICE, first
        ) and passwords.check_password(
            services.keyring, stored.second_password_hash, "second", ALICE, second
        )

    return await services.db.read(q)


async def test_mm_sends_a_code_by_separate_sms_then_sets_both_passwords(mall: Services) -> None:
    reply = (await send(mall, ALICE, "MM")).reply
    assert reply.startswith("验证码已另发短信")
    code = await code_sent(mall)
    assert code not in reply
    wrong = "000000" if code != "000000" else "111111"
    assert (await send(mall, ALICE, f"MM {wrong} 135790 246801")).reply == (
        "验证码不正确,还可再试4次。"
    )
    assert (await send(mall, ALICE, f"MM {code} 135790 135790")).reply.startswith(
        "积分密码和二次密码不能相同"
    )
    assert (await send(mall, ALICE, f"MM {code} 135790 246801")).reply.startswith(
        "积分密码和二次密码已设置"
    )
    assert await check(mall, "135790", "246801")
    # The code is single use.
    assert (await send(mall, ALICE, f"MM {code} 111111 222222")).reply == (
        "没有有效的验证码,请回复MM获取。"
    )
    assert (await send(mall, ALICE, "MM 12")).reply.startswith("回复MM获取验证码")


async def test_five_wrong_codes_void_it(mall: Services) -> None:
    await send(mall, ALICE, "MM")
    code = await code_sent(mall)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        await send(mall, ALICE, f"MM {wrong} 135790 246801")
    assert (await send(mall, ALICE, f"MM {wrong} 135790 246801")).reply.startswith(
        "验证码错误次数过多"
    )
    assert (await send(mall, ALICE, f"MM {code} 135790 246801")).reply.startswith(
        "没有有效的验证码"
    )


async def test_mm_codes_are_capped_per_number(mall: Services, clock: ManualClock) -> None:
    """Issue 13 §4: a code a minute, five an hour, ten a day; over a cap the earlier code
    still works and nothing is sent."""
    minute, hourly, daily = (c.count for c in password_otp.CODES_PER_NUMBER.caps)

    async def codes() -> int:
        return sum(1 for t in await texts_to(mall, ALICE) if CODE.search(t))

    assert (await send(mall, ALICE, "MM")).reply.startswith("验证码已另发短信")
    code = await code_sent(mall)
    assert (await send(mall, ALICE, "MM")).reply.startswith("验证码获取过于频繁")
    assert await codes() == minute
    assert (await send(mall, ALICE, f"MM {code} 135790 246801")).reply.startswith(
        "积分密码和二次密码已设置"
    )
    for _ in range(hourly):
        clock.advance(timedelta(seconds=61))
        await send(mall, ALICE, "MM")
    assert await codes() == hourly
    for _ in range(daily):
        clock.advance(timedelta(minutes=20))
        await send(mall, ALICE, "MM")
    assert await codes() == daily
    assert (await send(mall, ALICE, "MM")).reply.startswith("验证码获取过于频繁")
    clock.advance(timedelta(days=1))
    assert (await send(mall, ALICE, "MM")).reply.startswith("验证码已另发短信")
