"""Whole stories through the adapters (issue 3 acceptance): webhook in, TwiML and outbox out."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Connection, select

from core.orders import cancellation
from core.platform.clock import ManualClock, epoch
from core.platform.schema import account, item, outbox, subscriber
from core.points import doctor
from pointshall.app import build_app
from pointshall.bootstrap import Services, bootstrap
from tests.support.helpers import as_received, fund, seed_catalog
from tests.support.settings import ROOT_KEY, make_settings
from tests.support.sms import message_text, post_twilio, signed, sms_params

ALICE = "+8613800138000"


@pytest.fixture
async def client(services: Services, tmp_path: Path) -> AsyncIterator[TestClient]:
    await seed_catalog(services)
    await fund(services, tmp_path, {ALICE: 20_000})
    async with TestClient(TestServer(build_app(services))) as c:
        yield c


async def text(client: TestClient, body: str) -> str:
    params = sms_params(body, sender=ALICE)
    status, twiml = await post_twilio(client, params, signed(params))
    assert status == 200
    return message_text(twiml)


async def test_hd_sp_xq_dh_confirm_dd_through_twilio(
    client: TestClient, services: Services
) -> None:
    assert (await text(client, "HD")).startswith("进行中的活动(1/1):\nA1 双十一特惠")
    assert "3001 咖啡券 800分" in await text(client, "SP SJ")
    assert (await text(client, "XQ 3001")).startswith("3001 咖啡券:800分,剩50件。咖啡时光提供。")
    pending = await text(client, "DH 3001")
    match = re.search(r"订单(\d{12}).*回复(\d{6})确认", pending)
    assert match, pending
    no, code = match.groups()
    assert (await text(client, code)).startswith(f"兑换成功!订单{no}的电子券已短信发送")
    assert await text(client, f"DD {no}") == f"订单{no}:咖啡券×1,800分,券已发送。"

    def sms(conn: Connection) -> list[tuple[str, str, str]]:
        rows = conn.execute(
            select(outbox.c.recipient, outbox.c.kind, outbox.c.text, outbox.c.sealed)
        )
        return [(r[0], r[1], as_received(services.keyring, r[2], r[3])) for r in rows]

    [(to, kind, voucher_sms)] = await services.db.read(sms)
    assert (to, kind) == (ALICE, "service")
    assert re.search(
        rf"订单{no}「咖啡券」电子券密码\d{{8}},\d{{4}}-\d{{2}}-\d{{2}}前到咖啡时光", voucher_sms
    )
    report = await services.db.read(doctor.examine)
    assert report.ok


CRASHING_REDEEMER = textwrap.dedent(
    """
    import asyncio, os, signal, sys, uuid
    from functools import partial
    from handlers.hall import InboundMessage
    from pointshall.bootstrap import bootstrap
    from pointshall.config import Settings

    async def main():
        services = await bootstrap(Settings(database_url=sys.argv[1]), upgrade=False)
        msg = InboundMessage("cli", uuid.uuid4().hex, sys.argv[2], "DH 3001")
        outcome = await services.db.write(partial(services.hall.receive, msg=msg))
        print(outcome.reply, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # die between the hold and the confirm

    asyncio.run(main())
    """
)


async def test_a_crash_between_hold_and_confirm_loses_no_points(
    database_url: str, tmp_path: Path
) -> None:
    real_now = datetime.now(UTC)
    clock = ManualClock(real_now)
    services = await bootstrap(make_settings(database_url), clock=clock, upgrade=False)
    try:
        await seed_catalog(services)
        await fund(services, tmp_path, {ALICE: 20_000})
    finally:
        await services.close()

    crashed = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", CRASHING_REDEEMER, database_url, ALICE],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith("POINTSHALL_")}
        | {"POINTSHALL_SECRET_KEY": ROOT_KEY},
        check=False,
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr
    assert "回复" in crashed.stdout and "确认兑换" in crashed.stdout

    restarted = await bootstrap(make_settings(database_url), clock=clock, upgrade=False)
    try:

        def state(conn: Connection) -> tuple[int, int, int]:
            bal = conn.execute(
                select(account.c.balance, account.c.held)
                .join(subscriber, subscriber.c.id == account.c.subscriber_id)
                .where(subscriber.c.msisdn == ALICE)
            ).one()
            left = conn.execute(select(item.c.stock).where(item.c.code == "3001")).scalar_one()
            return int(bal.balance), int(bal.held), int(left)

        assert await restarted.db.read(state) == (20_000, 800, 49), "the hold survived the crash"
        clock.advance(timedelta(minutes=16))
        expired = await restarted.db.write(
            lambda conn: cancellation.expire_unpaid(conn, epoch(clock.now()))
        )
        assert expired == 1
        assert await restarted.db.read(state) == (20_000, 0, 50)
        assert (await restarted.db.read(doctor.examine)).ok
    finally:
        await restarted.close()
