"""``pointshall payments list|reconcile`` against the fake gateway, as an operator runs them."""

from __future__ import annotations

import asyncio
import re

from aiohttp.test_utils import TestServer

from pointshall.fake_gateway import FakeGateway
from tests.support.cli import pointshall

SECRET = "e2e-gateway-secret"
ALICE = "+8613800138000"


async def test_an_order_left_unpaid_is_cancelled_by_a_hand_reconcile(database_url: str) -> None:
    fake = FakeGateway(SECRET)
    async with TestServer(fake.app(), host="127.0.0.1") as server:
        gateway = {
            "POINTSHALL_GATEWAY_URL": str(server.make_url("")).rstrip("/"),
            "POINTSHALL_GATEWAY_SECRET": SECRET,
            "POINTSHALL_PAYMENT_GRACE_SECONDS": "0",
        }

        async def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
            done = await asyncio.to_thread(pointshall, database_url, *args, env=env)
            return done.returncode, done.stdout, done.stderr

        assert (await run("demo"))[0] == 0
        code, reply, _ = await run(
            "sms", "--from", ALICE, "DH 1004 1 XJ", env={"POINTSHALL_ORDER_TIMEOUT_MINUTES": "0"}
        )
        assert code == 0
        match = re.search(r"订单(\d+):.*4,000分\+¥50,0分钟内付款:http://\S+/pay/\1\?k=\w+", reply)
        assert match, reply
        no = match.group(1)
        code, listed, _ = await run("payments", "list")
        assert re.search(rf"{no}\s.*points_cash\s.*50\.00\s.*4,000\s.*started", listed), listed
        code, _, err = await run("payments", "reconcile")
        assert code == 2
        assert "POINTSHALL_GATEWAY_URL" in err
        code, out, err = await run("payments", "reconcile", env=gateway)
        assert code == 0, err
        assert "payments-reconcile: 1 changed, 0 still open" in out
        [charge] = fake.charges.values()
        assert (charge.order_no, charge.status) == (no, "cancelled")
        code, listed, _ = await run("payments", "list", "--status", "cancelled")
        assert no in listed
        code, again, _ = await run("payments", "reconcile", env=gateway)
        assert "0 changed" in again
        assert (await run("doctor"))[0] == 0
