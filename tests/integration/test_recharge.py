"""Phone credit delivered (issue 16 §2, seed §1 "积分兑换话费") against the fake recharge
provider, with a fault at each step: down, a time-out whose outcome is unknown (the
provider made the recharge, or never saw it), a lost or duplicated callback, a definite
failure at submission or later, a callback racing the job, two replicas.

After every story the same books are checked (``assert_books``): every recharge the
provider made belongs to a top-up and is made at most once per key; a number is credited
only for a succeeded top-up and exactly once; a failed top-up has exactly one refund
entry and its order is refunded, a succeeded one none; each outcome texted once; and the
ledger doctor finds nothing wrong.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer, unused_port
from sqlalchemy import Connection, func, select

from core.catalogue import catalogue
from core.catalogue.editing import ItemSpec, upsert_item
from core.payments import saga as payments
from core.payments.gateway import sign
from core.platform.audit import entries as audit_entries
from core.platform.clock import ManualClock, epoch
from core.platform.schema import entry, orders, outbox, topup_event
from core.points import ledger
from core.points.doctor import examine
from core.recharge import delivery, topups
from core.recharge.errors import TopupFinished, UnknownTopup
from core.recharge.gateway import SIGNATURE_HEADER
from core.recharge.topups import TopupView
from core.subscribers import subscribers
from pointshall.app import build_app
from pointshall.bootstrap import Services, bootstrap
from pointshall.fake_gateway import FakeGateway
from pointshall.fake_recharge import FakeRechargeService
from pointshall.scheduling import job_context
from scheduler.runner import run_job
from tests.support.helpers import fund, redeem_paid, seed_catalog, send
from tests.support.settings import make_settings

SECRET = "recharge-test-secret"
GATEWAY_SECRET = "gateway-test-secret"
ALICE = "+8613800138000"
FUNDS = 20_000
CREDIT, FACE = "1001", 5000  # 50 yuan of credit for 5,000 points (tests.support.helpers)
GRACE, BACKOFF = 300, 60


@dataclass
class World:
    services: Services
    fake: FakeRechargeService
    gateway: FakeGateway
    clock: ManualClock
    app_url: str

    @property
    def ctx(self) -> delivery.RechargeContext:
        assert self.services.recharge is not None
        return self.services.recharge

    def now(self) -> int:
        return epoch(self.clock.now())

    def later(self, seconds: int) -> None:
        self.clock.advance(timedelta(seconds=seconds))


@pytest.fixture
async def world(database_url: str, clock: ManualClock, tmp_path: Path) -> AsyncIterator[World]:
    app_port, rc_port, gw_port = unused_port(), unused_port(), unused_port()
    fake = FakeRechargeService(SECRET, clock=lambda: epoch(clock.now()), auto_complete=False)
    gateway = FakeGateway(
        GATEWAY_SECRET, public_url=f"http://127.0.0.1:{gw_port}", clock=lambda: epoch(clock.now())
    )
    settings = make_settings(
        database_url,
        public_url=f"http://127.0.0.1:{app_port}",
        recharge_url=f"http://127.0.0.1:{rc_port}",
        recharge_secret=SECRET,
        recharge_grace_seconds=GRACE,
        recharge_backoff_seconds=BACKOFF,
        recharge_max_attempts=4,
        recharge_timeout_seconds=2.0,  # the faults hang longer; a real answer is quicker
        gateway_url=f"http://127.0.0.1:{gw_port}",
        gateway_secret=GATEWAY_SECRET,
    )
    services = await bootstrap(settings, clock=clock, upgrade=False)
    servers = [
        TestServer(fake.app(), host="127.0.0.1", port=rc_port),
        TestServer(gateway.app(), host="127.0.0.1", port=gw_port),
        TestServer(build_app(services, drain=False), host="127.0.0.1", port=app_port),
    ]
    for server in servers:
        await server.start_server()
    try:
        await seed_catalog(services)
        await fund(services, tmp_path, {ALICE: FUNDS})
        yield World(services, fake, gateway, clock, f"http://127.0.0.1:{app_port}")
    finally:
        fake.release()
        await fake.flush()
        await gateway.flush()
        for server in reversed(servers):
            await server.close()
        await services.close()


# ------------------------------------------------------------ helpers


async def buy(w: World, code: str = CREDIT) -> str:
    """Alice redeems one phone credit with points and confirms: a ``requested`` top-up."""
    paid = await w.services.db.write(
        partial(redeem_paid, services=w.services, msisdn=ALICE, code=code)
    )
    return paid.order.no


async def job(w: World, services: Services | None = None) -> int:
    return (await run_job(job_context(services or w.services), "recharge")).changed


async def topup_of(w: World, no: str) -> TopupView:
    found = await w.services.db.read(partial(topups.by_order, no=no))
    assert found is not None
    return found


async def status(w: World, no: str) -> str:
    return (await topup_of(w, no)).status


async def order_status(w: World, no: str) -> str:
    def unit(conn: Connection) -> str:
        return str(conn.execute(select(orders.c.status).where(orders.c.no == no)).scalar_one())

    return await w.services.db.read(unit)


async def available(w: World) -> int:
    def unit(conn: Connection) -> int:
        who = subscribers.find(conn, ALICE)
        assert who is not None
        aid = ledger.account_id_of(conn, who.id)
        assert aid is not None
        return ledger.summary(conn, aid, w.now()).available

    return await w.services.db.read(unit)


async def texts(w: World, no: str) -> list[str]:
    def unit(conn: Connection) -> list[str]:
        return list(
            conn.execute(
                select(outbox.c.text)
                .where(outbox.c.idempotency_key.like(f"topup:{no}:%"))
                .order_by(outbox.c.id)
            ).scalars()
        )

    return await w.services.db.read(unit)


async def complete(w: World, no: str, *, ok: bool = True) -> None:
    """The carrier answers the provider, which calls us back."""
    made = w.fake.by_key(topups.key_of(no))
    assert made is not None
    await w.fake.complete(made.id, ok=ok)
    await w.fake.flush()


async def assert_books(w: World) -> None:
    def unit(conn: Connection) -> tuple[list[TopupView], dict[str, int], bool]:
        found = topups.listing(conn, limit=1000)
        refunds = {
            str(key): int(n)
            for key, n in conn.execute(
                select(entry.c.idempotency_key, func.count())
                .where(entry.c.kind == "refund")
                .group_by(entry.c.idempotency_key)
            )
        }
        return found, refunds, examine(conn).ok

    found, refunds, ledger_ok = await w.services.db.read(unit)
    assert ledger_ok
    by_key = {t.key: t for t in found}
    keys = [r.idempotency_key for r in w.fake.recharges.values()]
    assert len(keys) == len(set(keys)), "two recharges for one top-up"
    credited = 0
    for made in w.fake.recharges.values():
        t = by_key[made.idempotency_key]  # every recharge belongs to a top-up
        assert (made.msisdn, made.amount_cents) == (t.msisdn, t.amount_cents)
        if made.status == "succeeded":
            credited += made.amount_cents
            assert t.status in ("succeeded", *topups.OPEN, topups.STALLED), t
        if made.status == "failed":
            assert t.status != "succeeded", t
    assert credited == w.fake.credited.get(ALICE, 0)
    for t in found:
        refund_key = f"order:{t.order_no}:refund"
        order = await order_status(w, t.order_no)
        if t.status == "succeeded":
            assert refunds.get(refund_key, 0) == 0
            assert order == "delivered"
            assert w.fake.by_key(t.key) is not None
            assert w.fake.by_key(t.key).status == "succeeded"  # type: ignore[union-attr]
            assert len(await texts(w, t.order_no)) == 1
        elif t.status == "failed":
            assert refunds.get(refund_key, 0) == 1
            assert order == "refunded"
            made = w.fake.by_key(t.key)
            assert made is None or made.status == "failed"
            assert len(await texts(w, t.order_no)) == 1
        else:
            assert refunds.get(refund_key, 0) == 0
            assert order == "paid"
            assert await texts(w, t.order_no) == []


# ------------------------------------------------------------ the happy path


async def test_a_top_up_is_submitted_then_credited_by_the_callback(world: World) -> None:
    no = await buy(world)
    assert await status(world, no) == "requested"
    assert await available(world) == FUNDS - FACE
    assert await job(world) == 1
    t = await topup_of(world, no)
    assert (t.status, t.attempts, t.next_attempt_at) == ("submitted", 0, world.now() + GRACE)
    made = world.fake.by_key(t.key)
    assert made is not None and (made.msisdn, made.amount_cents) == (ALICE, FACE)
    assert t.provider_id == made.id
    assert "充值中" in (await send(world.services, ALICE, f"DD {no}")).reply
    await complete(world, no)
    assert world.fake.callback_statuses == [200]
    assert await status(world, no) == "succeeded"
    assert await order_status(world, no) == "delivered"
    assert world.fake.credited == {ALICE: FACE}
    assert await texts(world, no) == [f"订单{no}:话费50元已充值到本机号码,请查收。"]
    assert "话费50元:已到账" in (await send(world.services, ALICE, f"DD {no}")).reply
    assert await available(world) == FUNDS - FACE
    world.later(GRACE + 1)
    assert await job(world) == 0  # final: nothing due
    assert [
        e.to_status for e in await world.services.db.read(partial(topups.history, topup_id=t.id))
    ] == ["submitted", "succeeded"]
    await assert_books(world)


async def test_an_english_subscriber_is_told_in_english(world: World) -> None:
    await send(world.services, ALICE, "EN")
    no = await buy(world)
    await job(world)
    await complete(world, no)
    assert await texts(world, no) == [
        f"Order {no}: 50 yuan of phone credit has been added to this number."
    ]
    assert (
        "Phone credit 50 yuan: credited." in (await send(world.services, ALICE, f"DD {no}")).reply
    )


# ------------------------------------------------------------ a fault at each step


async def test_provider_down_waits_and_backs_off_then_delivers(world: World) -> None:
    no = await buy(world)
    world.fake.down = True
    assert await job(world) == 0
    t = await topup_of(world, no)
    assert (t.status, t.attempts, t.next_attempt_at) == ("requested", 1, world.now() + BACKOFF)
    assert "503" in (t.last_error or "")
    assert await job(world) == 0  # not due yet: the provider is not hammered
    assert world.fake.requests == 1
    world.later(BACKOFF)
    assert await job(world) == 0
    assert (await topup_of(world, no)).next_attempt_at == world.now() + 2 * BACKOFF  # doubles
    world.fake.down = False
    world.later(2 * BACKOFF)
    assert await job(world) == 1
    assert await status(world, no) == "submitted"
    await complete(world, no)
    assert await status(world, no) == "succeeded"
    assert world.fake.credited == {ALICE: FACE}
    await assert_books(world)


async def test_timeout_after_the_provider_made_it_is_asked_not_made_twice(world: World) -> None:
    no = await buy(world)
    world.fake.timeout = True  # the recharge is made, the answer never comes in time
    assert await job(world) == 1
    t = await topup_of(world, no)
    assert (t.status, t.attempts) == ("unknown", 1)
    assert world.fake.by_key(t.key) is not None
    world.fake.timeout = False
    world.fake.release()
    await complete(world, no)  # the carrier credits it; the callback arrives first
    assert await status(world, no) == "succeeded"
    world.later(BACKOFF)
    assert await job(world) == 0
    assert len(world.fake.recharges) == 1
    assert world.fake.credited == {ALICE: FACE}
    await assert_books(world)


async def test_timeout_with_the_callback_lost_is_settled_by_the_query(world: World) -> None:
    no = await buy(world)
    world.fake.timeout, world.fake.drop_callbacks = True, True
    await job(world)
    assert await status(world, no) == "unknown"
    world.fake.timeout = False
    world.fake.release()
    world.later(BACKOFF)
    assert await job(world) == 1  # asked: the provider has it, pending
    assert await status(world, no) == "submitted"
    await complete(world, no)  # callback dropped
    assert await status(world, no) == "submitted"
    world.later(GRACE)
    assert await job(world) == 1  # asked again after the grace: succeeded
    assert await status(world, no) == "succeeded"
    assert len(world.fake.recharges) == 1
    await assert_books(world)


async def test_timeout_before_the_provider_saw_it_submits_again_with_the_same_key(
    world: World,
) -> None:
    no = await buy(world)
    world.fake.blackhole = True  # the request is lost on the way: nothing made
    await job(world)
    assert await status(world, no) == "unknown"
    assert world.fake.recharges == {}
    world.fake.blackhole = False
    world.fake.release()
    world.later(BACKOFF)
    await job(world)  # asked: the provider never saw it
    assert await status(world, no) == "requested"
    await job(world)  # submitted again, with the same key
    assert await status(world, no) == "submitted"
    await complete(world, no)
    assert await status(world, no) == "succeeded"
    assert len(world.fake.recharges) == 1
    await assert_books(world)


async def test_duplicated_callbacks_credit_and_text_once(world: World) -> None:
    no = await buy(world)
    await job(world)
    world.fake.callback_copies = 5
    await complete(world, no)
    assert world.fake.callback_statuses == [200] * 5
    assert await status(world, no) == "succeeded"
    assert len(await texts(world, no)) == 1
    assert (
        len(
            await world.services.db.read(
                partial(topups.history, topup_id=(await topup_of(world, no)).id)
            )
        )
        == 2
    )
    await assert_books(world)


async def test_a_definite_failure_refunds_the_points_exactly_once(world: World) -> None:
    no = await buy(world)
    await job(world)
    world.fake.callback_copies = 5  # and the failure is reported five times
    await complete(world, no, ok=False)
    assert await status(world, no) == "failed"
    assert await order_status(world, no) == "refunded"
    assert await available(world) == FUNDS
    assert world.fake.credited == {}
    assert await texts(world, no) == [
        f"很抱歉,订单{no}的话费50元未能充值到本机号码。5,000积分已退回您的账户。"
    ]
    t = await topup_of(world, no)
    assert "carrier_rejected" in (t.last_error or "")
    reply = (await send(world.services, ALICE, f"DD {no}")).reply
    assert "已退款" in reply and "充值失败" in reply
    world.later(GRACE + BACKOFF)
    assert await job(world) == 0
    await assert_books(world)


async def test_a_number_refused_at_submission_is_refunded_at_once(world: World) -> None:
    no = await buy(world)
    world.fake.refuse = {ALICE}
    assert await job(world) == 1
    t = await topup_of(world, no)
    assert t.status == "failed" and "number_not_rechargeable" in (t.last_error or "")
    assert await available(world) == FUNDS
    assert world.fake.recharges == {}
    await assert_books(world)


async def test_a_lost_callback_is_found_after_the_grace(world: World) -> None:
    no = await buy(world)
    await job(world)
    world.fake.drop_callbacks = True
    await complete(world, no, ok=False)
    assert await status(world, no) == "submitted"
    world.later(GRACE - 1)
    assert await job(world) == 0  # waits for the callback first
    world.later(1)
    assert await job(world) == 1
    assert await status(world, no) == "failed"
    assert await available(world) == FUNDS
    await assert_books(world)


async def test_a_callback_before_the_submission_is_recorded_wins(world: World) -> None:
    no = await buy(world)
    t = await topup_of(world, no)
    # A submission whose answer is still on its way when the callback comes.
    made = await world.ctx.gateway.submit(key=t.key, msisdn=t.msisdn, amount_cents=t.amount_cents)
    await complete(world, no)
    assert await status(world, no) == "succeeded"
    late = await world.services.db.write(
        partial(
            topups.record_answer,
            topup_id=t.id,
            answer=made,
            now=world.now(),
            policy=world.ctx.policy,
        )
    )
    assert late.status == "succeeded"  # the pending answer no longer moves it
    assert await job(world) == 0
    await assert_books(world)


async def test_a_forged_or_mismatched_callback_changes_nothing(world: World) -> None:
    no = await buy(world)
    await job(world)
    t = await topup_of(world, no)
    event = {
        "id": "evt_x",
        "type": "recharge.failed",
        "data": {
            "id": t.provider_id,
            "idempotency_key": t.key,
            "msisdn": ALICE,
            "amount_cents": FACE,
            "status": "failed",
            "failure_code": "carrier_rejected",
        },
    }
    body = json.dumps(event).encode()
    url = f"{world.app_url}/recharge/callback"
    async with aiohttp.ClientSession() as http:
        forged = {SIGNATURE_HEADER: sign(b"not-the-secret", world.now(), body)}
        async with http.post(url, data=body, headers=forged) as resp:
            assert resp.status == 403
        stale = {SIGNATURE_HEADER: sign(SECRET.encode(), world.now() - 3600, body)}
        async with http.post(url, data=body, headers=stale) as resp:
            assert resp.status == 403
        event["data"]["amount_cents"] = 1  # type: ignore[index]
        other = json.dumps(event).encode()
        signed = {SIGNATURE_HEADER: sign(SECRET.encode(), world.now(), other)}
        async with http.post(url, data=other, headers=signed) as resp:
            assert resp.status == 200
        junk = b'{"type": "charge.succeeded"}'
        signed = {SIGNATURE_HEADER: sign(SECRET.encode(), world.now(), junk)}
        async with http.post(url, data=junk, headers=signed) as resp:
            assert resp.status == 400
    t = await topup_of(world, no)
    assert t.status == "submitted"
    assert "another recharge" in (t.last_error or "")
    assert await available(world) == FUNDS - FACE
    await assert_books(world)


# ------------------------------------------------------------ stalled, and staff retry


async def test_out_of_attempts_stalls_until_staff_retry(world: World) -> None:
    no = await buy(world)
    world.fake.down = True
    for _ in range(4):  # recharge_max_attempts
        await job(world)
        world.later(3600)
    t = await topup_of(world, no)
    assert (t.status, t.attempts, t.next_attempt_at) == ("stalled", 4, None)
    assert await job(world) == 0  # the job leaves it to staff
    reply = (await send(world.services, ALICE, f"DD {no}")).reply
    assert "充值延迟" in reply
    world.fake.down = False
    retried = await delivery.deliver_now(world.ctx, no, "ops-li", world.now())
    assert (retried.status, retried.attempts) == ("submitted", 0)
    rows = await world.services.db.read(partial(audit_entries, subject=f"order {no}"))
    assert [(r.actor, r.action, r.result) for r in rows] == [("ops-li", "topup_retry", "stalled")]
    await complete(world, no)
    assert await status(world, no) == "succeeded"
    with pytest.raises(TopupFinished):
        await world.services.db.write(partial(topups.retry, no=no, by="ops-li", now=world.now()))
    with pytest.raises(UnknownTopup):
        await world.services.db.write(
            partial(topups.retry, no="000000000000", by="ops-li", now=world.now())
        )
    await assert_books(world)


async def test_retrying_a_submitted_top_up_makes_no_second_recharge(world: World) -> None:
    no = await buy(world)
    await job(world)
    again = await delivery.deliver_now(world.ctx, no, "ops-li", world.now())
    assert again.status == "submitted"
    assert len(world.fake.recharges) == 1
    await complete(world, no)
    await assert_books(world)


async def test_admin_api_lists_shows_and_retries(world: World) -> None:
    from tests.support.admin_helpers import make_staff

    tokens = await make_staff(world.services)
    no = await buy(world)
    world.fake.down = True
    await job(world)
    headers = {"Authorization": f"Bearer {tokens['business_admin']}"}
    base = f"{world.app_url}/admin/v1"
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.get(f"{base}/topups?status=requested") as resp:
            listed = await resp.json()
        assert [(t["order_no"], t["attempts"]) for t in listed] == [(no, 1)]
        async with http.get(f"{base}/topups/{no}") as resp:
            shown = await resp.json()
        assert shown["topup"]["status"] == "requested"
        assert [e["detail"][:9] for e in shown["history"]] == ["attempt 1"]
        async with http.post(f"{base}/topups/{no}/retry") as resp:
            assert resp.status == 200
            assert (await resp.json())["next_attempt_at"] == world.now()
        world.fake.down = False
        assert await job(world) == 1  # due again at once
        await complete(world, no)
        async with http.post(f"{base}/topups/{no}/retry") as resp:
            assert resp.status == 409
        async with http.get(f"{base}/topups/000000000000") as resp:
            assert resp.status == 404
    await assert_books(world)


# ------------------------------------------------------------ paid with money, several replicas


async def test_a_failed_top_up_paid_with_points_and_cash_refunds_both_once(
    world: World,
) -> None:
    spec = ItemSpec(
        "5001",
        "充值卡",
        "Top-up card",
        "HF",
        "credit",
        1000,
        face_value_cents=2000,
        cash_cents=500,
        price_cents=1500,
        pay_methods="points_cash",
    )
    await world.services.db.write(partial(upsert_item, spec=spec, now=world.now()))
    assert world.services.payments is not None
    pay = world.services.payments

    def order(conn: Connection) -> str:
        who = subscribers.find(conn, ALICE)
        assert who is not None
        return payments.redeem_for_money(
            conn,
            subscriber=who,
            code="5001",
            qty=1,
            method="points_cash",
            channel="test",
            key="cash-1",
            now=world.now(),
            policy=world.services.hall.policy.orders,
            keyring=world.services.keyring,
        ).no

    no = await world.services.db.write(order)
    await payments.pay_url(pay, no, world.now())
    saga = await world.services.db.read(partial(payments.by_order, no=no))
    assert saga is not None and saga.charge_id is not None
    await world.gateway.pay(saga.charge_id)
    await world.gateway.flush()
    assert await status(world, no) == "requested"
    await job(world)
    await complete(world, no, ok=False)
    assert await status(world, no) == "failed"
    assert await available(world) == FUNDS
    assert await texts(world, no) == [
        f"很抱歉,订单{no}的话费20元未能充值到本机号码。1,000积分已退回您的账户。"
        "已付的5元将原路退回。"
    ]
    saga = await world.services.db.read(partial(payments.by_order, no=no))
    assert saga is not None and saga.status == "refunding"
    world.later(GRACE + 1)
    for _ in range(2):  # reconciliation gives the money back, once
        await run_job(job_context(world.services), "payments-reconcile")
    saga = await world.services.db.read(partial(payments.by_order, no=no))
    assert saga is not None and saga.status == "refunded"
    assert [r.amount_cents for r in world.gateway.refunds_of(str(saga.charge_id))] == [500]
    await assert_books(world)


async def test_two_replicas_and_duplicate_callbacks_deliver_each_top_up_once(
    world: World, clock: ManualClock
) -> None:
    bought = [await buy(world) for _ in range(3)]
    other = await bootstrap(world.services.settings, clock=clock, upgrade=False)
    try:
        world.fake.auto_complete = True
        world.fake.callback_copies = 3
        runs = await asyncio.gather(
            job(world), job(world, other), delivery.deliver_due(world.ctx, world.now())
        )
        await world.fake.flush()
        world.later(GRACE)
        await asyncio.gather(job(world), job(world, other))
    finally:
        await other.close()
    assert sum(runs) >= 3
    assert [await status(world, no) for no in bought] == ["succeeded"] * 3
    assert len(world.fake.recharges) == 3
    assert world.fake.credited == {ALICE: 3 * FACE}
    await assert_books(world)


async def test_without_a_provider_top_ups_wait_as_requested(
    services: Services, tmp_path: Path
) -> None:
    """Without ``POINTSHALL_RECHARGE_URL`` the job does nothing and top-ups wait, due, for
    a provider (``serve`` warns when phone credit is on sale: ``active_of_kind``)."""
    await seed_catalog(services)
    await fund(services, tmp_path, {ALICE: FUNDS})
    assert await services.db.read(partial(catalogue.active_of_kind, kind="credit")) == 2
    paid = await services.db.write(
        partial(redeem_paid, services=services, msisdn=ALICE, code=CREDIT)
    )
    assert services.recharge is None
    assert (await run_job(job_context(services), "recharge")).changed == 0
    t = await services.db.read(partial(topups.by_order, no=paid.order.no))
    assert t is not None
    assert (t.status, t.next_attempt_at) == ("requested", epoch(services.clock.now()))


async def test_events_are_kept_for_every_try(world: World) -> None:
    no = await buy(world)
    world.fake.down = True
    await job(world)
    world.later(BACKOFF)
    world.fake.down = False
    await job(world)

    def unit(conn: Connection) -> list[tuple[str, str]]:
        return [
            (r[0], r[1])
            for r in conn.execute(
                select(topup_event.c.from_status, topup_event.c.to_status).order_by(
                    topup_event.c.id
                )
            )
        ]

    assert await world.services.db.read(unit) == [
        ("requested", "requested"),
        ("requested", "submitted"),
    ]
    assert no
