"""``pointshall recharge list|retry`` and the ``recharge`` job, as staff run them (issue 16 §2).

The demo subscriber redeems phone credit by SMS; without a provider the top-up waits and a
retry says so; with the fake provider the job submits it, a retry after the provider
credited it (its callback lost) learns the outcome, and ``DD`` shows it.
"""

from __future__ import annotations

import asyncio
import re

from aiohttp.test_utils import TestServer

from pointshall.fake_recharge import FakeRechargeService
from tests.support.cli import pointshall

SECRET = "e2e-recharge-secret"
ALICE = "+8613800138000"


async def test_staff_list_and_retry_a_top_up(database_url: str) -> None:
    fake = FakeRechargeService(SECRET, auto_complete=False, drop_callbacks=True)
    async with TestServer(fake.app(), host="127.0.0.1") as server:
        provider = {
            "POINTSHALL_RECHARGE_URL": str(server.make_url("")).rstrip("/"),
            "POINTSHALL_RECHARGE_SECRET": SECRET,
        }

        async def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
            done = await asyncio.to_thread(pointshall, database_url, *args, env=env)
            return done.returncode, done.stdout, done.stderr

        assert (await run("demo"))[0] == 0
        _, held, _ = await run("sms", "--from", ALICE, "DH 1001")
        match = re.search(r"订单(\d+):.*回复(\d{6})确认", held)
        assert match, held
        no, code = match.groups()
        _, paid, _ = await run("sms", "--from", ALICE, code)
        assert "将充值到本机号码" in paid
        code_, listed, _ = await run("recharge", "list")
        assert code_ == 0
        assert re.search(rf"{no}\s.*\+8613800138000\s.*10\s.*requested\s.*0", listed), listed
        assert "requested 1" in listed

        code_, out, _ = await run("recharge", "retry", no, "--by", "ops-li")
        assert code_ == 0
        assert "no recharge provider is configured" in out

        code_, out, err = await run("jobs", "run", "recharge", env=provider)
        assert (code_, out.strip()) == (0, "recharge: 1 changed"), err
        [made] = fake.recharges.values()
        assert (made.idempotency_key, made.msisdn, made.amount_cents) == (
            f"topup:{no}",
            ALICE,
            1000,
        )
        assert "充值中" in (await run("sms", "--from", ALICE, f"DD {no}"))[1]

        await fake.complete(made.id)  # credited; the callback is lost
        code_, out, _ = await run("recharge", "retry", no, "--by", "ops-li", env=provider)
        assert (code_, out.strip()) == (0, f"top-up of order {no}: succeeded")
        assert len(fake.recharges) == 1 and fake.credited == {ALICE: 1000}
        assert "话费10元:已到账" in (await run("sms", "--from", ALICE, f"DD {no}"))[1]
        _, listed, _ = await run("recharge", "list", "--status", "succeeded")
        assert no in listed

        code_, _, err = await run("recharge", "retry", no, "--by", "ops-li", env=provider)
        assert code_ == 1
        assert err.strip() == f"refused: the top-up of order {no} is succeeded; nothing to retry"
        code_, _, err = await run("recharge", "retry", "000000000000", "--by", "ops-li")
        assert (code_, err.strip()) == (1, "refused: no top-up for order '000000000000'")
        code_, _, err = await run("recharge", "list", "--status", "lost")
        assert code_ == 2 and "unknown status 'lost'" in err
        assert (await run("doctor"))[0] == 0
