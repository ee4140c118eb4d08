"""Outbound transports against fakes of their peers, delivery reports, the Kannel MO codings,
metrics and request logs (DESIGN.md §7, §10)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from functools import partial
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Connection, insert, select

from core.messaging import outbox
from core.messaging.drain import Drain, DrainPolicy
from core.messaging.ratelimit import VirtualTimer
from core.messaging.transport import OutboundMessage
from core.platform.clock import ManualClock, epoch
from core.platform.schema import delivery_report, subscriber
from core.platform.schema import outbox as outbox_table
from pointshall.app import build_app
from pointshall.bootstrap import Services
from sms.kannel_outbound import KannelTransport
from sms.twilio_outbound import TwilioTransport
from tests.support.fakes.twilio_api import FakeTwilio
from tests.support.settings import KANNEL_SECRET, PUBLIC_URL, TWILIO_TOKEN

ACCOUNT = "AC" + "1" * 32
HALL = "+10000000000"
OK, BUSY, GONE = "+8613800000001", "+8613800000002", "+8613800000003"


@pytest.fixture
async def client(services: Services) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(build_app(services, drain=False))) as c:
        yield c


async def queue(services: Services, *items: tuple[str, str]) -> None:
    now = epoch(services.clock.now())

    def unit(conn: Connection) -> None:
        for recipient, text in items:
            conn.execute(insert(subscriber).values(msisdn=recipient, lang="zh", created_at=now))
            outbox.enqueue(conn, key=f"k:{recipient}", recipient=recipient, text=text, now=now)

    await services.db.write(unit)


async def rows(services: Services) -> dict[str, tuple[str, int, str | None]]:
    def q(conn: Connection) -> dict[str, tuple[str, int, str | None]]:
        t = outbox_table
        result = conn.execute(select(t.c.recipient, t.c.status, t.c.attempts, t.c.provider_id))
        return {r.recipient: (r.status, r.attempts, r.provider_id) for r in result}

    return await services.db.read(q)


async def opted_out(services: Services, msisdn: str) -> bool:
    def q(conn: Connection) -> bool:
        return bool(
            conn.execute(
                select(subscriber.c.opted_out).where(subscriber.c.msisdn == msisdn)
            ).scalar_one()
        )

    return await services.db.read(q)


async def drain_all(services: Services, drain: Drain, clock: ManualClock) -> None:
    task = asyncio.create_task(drain.run())
    try:
        for _ in range(2000):
            counts = await services.db.read(outbox.status_counts)
            if counts["pending"] == 0 and counts["sending"] == 0:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"drain did not finish: {counts}")
    finally:
        drain.stop()
        await task


async def test_twilio_transport_retries_429_and_5xx_and_records_21610_opt_out(
    services: Services, clock: ManualClock, client: TestClient
) -> None:
    fake = FakeTwilio(ACCOUNT, TWILIO_TOKEN, unsubscribed={GONE}, script={BUSY: [429, 503]})
    async with TestServer(fake.app()) as server:
        transport = TwilioTransport(
            account_sid=ACCOUNT,
            auth_token=TWILIO_TOKEN,
            sender=HALL,
            public_url=PUBLIC_URL,
            api_base=str(server.make_url("")),
        )
        await queue(services, (OK, "您的兑换券:订单1024,密码12345678"), (BUSY, "JF"), (GONE, "hi"))
        timer = VirtualTimer(clock)
        policy = DrainPolicy(rate=5, burst=5, backoff=2, max_attempts=5)
        try:
            await drain_all(
                services,
                Drain(services.db, transport, clock, timer, policy, keyring=services.keyring),
                clock,
            )
        finally:
            await transport.close()

    assert fake.requests.count(BUSY) == 3
    state = await rows(services)
    assert state[OK][:2] == ("sent", 1)
    assert state[BUSY][:2] == ("sent", 3)
    assert state[GONE][:2] == ("failed", 1)
    assert await opted_out(services, GONE) is True
    by_to = {m.to: m for m in fake.accepted}
    assert {m.to for m in fake.accepted} == {OK, BUSY}
    assert by_to[OK].body == "您的兑换券:订单1024,密码12345678"
    assert state[OK][2] == by_to[OK].sid
    callback = by_to[OK].status_callback or ""
    assert callback.startswith(PUBLIC_URL + "/sms/twilio/status?o=")

    # Twilio's status callbacks, out of order and repeated; a bad signature is refused.
    for status in ("sent", "delivered", "sent", "delivered"):
        url, form, headers = fake.callback(by_to[OK], status)
        resp = await client.post(
            urlsplit(url).path + "?" + urlsplit(url).query, data=form, headers=headers
        )
        assert resp.status == 204
    url, form, headers = fake.callback(by_to[BUSY], "delivered")
    path = urlsplit(url).path + "?" + urlsplit(url).query
    resp = await client.post(path, data=form, headers={"X-Twilio-Signature": "forged"})
    assert resp.status == 403
    url, form, headers = fake.callback(by_to[BUSY], "undelivered", error_code="21610")
    assert (await client.post(path, data=form, headers=headers)).status == 204

    state = await rows(services)
    assert state[OK][0] == "delivered"
    assert state[BUSY][0] == "failed"
    assert await opted_out(services, BUSY) is True

    def reports(conn: Connection) -> list[tuple[str, str]]:
        q = select(delivery_report.c.code, delivery_report.c.state).order_by(delivery_report.c.id)
        return [(r.code, r.state) for r in conn.execute(q)]

    assert await services.db.read(reports) == [
        ("sent", "sent"),
        ("delivered", "delivered"),
        ("undelivered", "failed"),
    ]


async def test_twilio_status_finds_the_message_by_sid_without_our_id(
    services: Services, client: TestClient, clock: ManualClock
) -> None:
    await queue(services, (OK, "hi"))
    now = epoch(clock.now())
    await services.db.write(partial(outbox.mark_sent, message_id=1, provider_id="SMabc", now=now))
    fake = FakeTwilio(ACCOUNT, TWILIO_TOKEN)
    from tests.support.fakes.twilio_api import FakeMessage

    msg = FakeMessage("SMabc", OK, HALL, "hi", PUBLIC_URL + "/sms/twilio/status")
    _, form, headers = fake.callback(msg, "delivered")
    assert (await client.post("/sms/twilio/status", data=form, headers=headers)).status == 204
    assert (await rows(services))[OK][0] == "delivered"


async def test_kannel_dlr_needs_the_secret_and_moves_forward_only(
    services: Services, client: TestClient
) -> None:
    await queue(services, (OK, "hi"))
    base = {"secret": KANNEL_SECRET, "id": "1", "part": "0", "parts": "1"}
    assert (
        await client.get("/sms/kannel/dlr", params={**base, "secret": "x", "type": "1"})
    ).status == 403
    for kind in ("8", "1", "8", "1"):
        resp = await client.get("/sms/kannel/dlr", params={**base, "type": kind})
        assert resp.status == 200
    assert (await rows(services))[OK][0] == "delivered"
    assert (
        await client.get("/sms/kannel/dlr", params={**base, "id": "99", "type": "1"})
    ).status == 404
    assert (await client.get("/sms/kannel/dlr", params={**base, "type": "3"})).status == 400


class FakeSmsbox:
    """Records ``/cgi-bin/sendsms`` requests with their raw query bytes."""

    def __init__(self) -> None:
        self.queries: list[list[tuple[str, bytes]]] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/cgi-bin/sendsms", self.sendsms)
        return app

    async def sendsms(self, request: web.Request) -> web.Response:
        raw = request.rel_url.raw_query_string
        pairs = parse_qsl(raw, keep_blank_values=True, encoding="latin-1")
        self.queries.append([(k, v.encode("latin-1")) for k, v in pairs])
        return web.Response(status=202, text="0: Accepted for delivery")


async def test_kannel_transport_codes_chinese_and_splits_long_text_with_udh() -> None:
    box = FakeSmsbox()
    async with TestServer(box.app()) as server:
        transport = KannelTransport(
            url=str(server.make_url("")).rstrip("/"),
            username="hall",
            password="pw",
            callback_url="http://hall.internal:8080",
            secret="s3cret",
            sender="10658000",
        )
        try:
            chinese = "您的兑换券密码是12345678" * 5  # 85 UCS-2 units: two parts
            accepted = await transport.send(OutboundMessage(7, "k", OK, chinese, "service", 1))
            await transport.send(
                OutboundMessage(8, "k2", OK, "Voucher 1024: 12345678", "service", 1)
            )
        finally:
            await transport.close()
    assert accepted.parts == 2
    first, second, latin = (dict(q) for q in box.queries)
    assert first[b"coding" if False else "coding"] == b"2" and first["charset"] == b"UTF-8"
    text = first["text"].decode() + second["text"].decode()
    assert text == chinese and len(first["text"].decode()) == 67
    assert first["udh"] == bytes([5, 0, 3, 7, 2, 1]) and second["udh"] == bytes([5, 0, 3, 7, 2, 2])
    assert first["dlr-mask"] == b"31"
    dlr = first["dlr-url"].decode()
    assert dlr == (
        "http://hall.internal:8080/sms/kannel/dlr?secret=s3cret&id=7&part=0&parts=2"
        "&type=%d&answer=%A"
    )
    assert "coding" not in latin and "udh" not in latin
    assert latin["text"] == b"Voucher 1024: 12345678" and latin["from"] == b"10658000"


def kannel_query(text: bytes, **extra: str) -> str:
    params = {
        "secret": KANNEL_SECRET,
        "from": "8613800138000",
        "to": "10658000",
        "id": uuid.uuid4().hex,
    }
    params.update(extra)
    return urlencode(params) + "&text=" + quote(text)


@pytest.mark.parametrize("mo_recode", [False, True])
async def test_kannel_mo_in_chinese_with_and_without_mo_recode(
    client: TestClient, mo_recode: bool
) -> None:
    if mo_recode:  # smsbox recoded UCS-2 to UTF-8 and says so
        query = kannel_query("帮助".encode(), coding="0", charset="UTF-8")
    else:  # UCS-2 as it came from the SMSC: UTF-16BE octets
        query = kannel_query("帮助".encode("utf-16-be"), coding="2", charset="UTF-16BE")
    resp = await client.get("/sms/kannel?" + query)
    assert resp.status == 200
    reply = await resp.text()
    assert "JF" in reply and "积分" in reply  # the help text, in Chinese
    assert resp.headers["X-Kannel-Coding"] == "2"
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"


async def test_kannel_old_get_url_without_coding_still_reads_ucs2(client: TestClient) -> None:
    resp = await client.get("/sms/kannel?" + kannel_query("EN".encode("utf-16-be")))
    assert await resp.text() == "Replies will now be in English."
    assert "X-Kannel-Coding" not in resp.headers  # GSM-7 reply: no UCS-2 needed


async def test_metrics_and_request_ids(client: TestClient, services: Services) -> None:
    await queue(services, (OK, "hi"))
    resp = await client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert resp.headers["X-Request-Id"] == "abc-123"
    assert len((await client.get("/healthz")).headers["X-Request-Id"]) == 32
    await client.get("/sms/kannel?" + kannel_query(b"JF"))
    text = await (await client.get("/metrics")).text()
    assert 'pointshall_outbox_messages{status="pending"} 1.0' in text
    assert 'pointshall_inbound_messages_total{channel="kannel"}' in text
    assert "# TYPE pointshall_outbox_messages gauge" in text
