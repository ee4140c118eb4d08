"""The points + cash saga against the fake gateway, with a fault at each step (§3.5.6, DESIGN §5).

After every story the same invariants hold: no charge without its order, no order
paid without its money, each refund made exactly once (counted at the gateway),
and the ledger doctor finds nothing wrong.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer, unused_port
from sqlalchemy import Connection, func, select

from core.catalogue.editing import ItemSpec, upsert_item
from core.orders.redemption import Pending
from core.payments import saga as payments
from core.payments.errors import GatewayUnavailable
from core.payments.gateway import SIGNATURE_HEADER, sign
from core.payments.saga import PaymentContext, SagaView
from core.platform.clock import ManualClock, epoch
from core.platform.schema import entry, hold, orders, payment_step, topup
from core.points import ledger
from core.points.doctor import examine
from core.settlement import reports
from core.subscribers import subscribers
from pointshall.app import build_app
from pointshall.bootstrap import Services, bootstrap
from pointshall.fake_gateway import FakeGateway
from pointshall.scheduling import job_context
from scheduler.runner import run_job
from tests.support.helpers import fund, seed_catalog, send
from tests.support.settings import make_settings

SECRET = "gateway-test-secret"
ALICE = "+8613800138000"
ITEM = "5001"
POINTS, CASH, PRICE = 1000, 500, 1500
GRACE = 300


@dataclass
class World:
    services: Services
    fake: FakeGateway
    clock: ManualClock
    app_url: str

    @property
    def ctx(self) -> PaymentContext:
        assert self.services.payments is not None
        return self.services.payments

    def now(self) -> int:
        return epoch(self.clock.now())


async def _start(database_url: str, clock: ManualClock) -> AsyncIterator[World]:
    app_port, gw_port = unused_port(), unused_port()
    fake = FakeGateway(
        SECRET, public_url=f"http://127.0.0.1:{gw_port}", clock=lambda: epoch(clock.now())
    )
    settings = make_settings(
        database_url,
        public_url=f"http://127.0.0.1:{app_port}",
        gateway_url=f"http://127.0.0.1:{gw_port}",
        gateway_secret=SECRET,
        payment_grace_seconds=GRACE,
    )
    services = await bootstrap(settings, clock=clock, upgrade=False)
    gw = TestServer(fake.app(), host="127.0.0.1", port=gw_port)
    app = TestServer(build_app(services, drain=False), host="127.0.0.1", port=app_port)
    await gw.start_server()
    await app.start_server()
    try:
        yield World(services, fake, clock, f"http://127.0.0.1:{app_port}")
    finally:
        await fake.flush()
        await app.close()
        await gw.close()
        await services.close()


@pytest.fixture
async def world(database_url: str, clock: ManualClock, tmp_path: Path) -> AsyncIterator[World]:
    async for built in _start(database_url, clock):
        await seed_catalog(built.services)
        now = built.now()
        spec = ItemSpec(
            ITEM,
            "充值卡",
            "Top-up card",
            "HF",
            "credit",
            POINTS,
            face_value_cents=2000,
            cash_cents=CASH,
            price_cents=PRICE,
            pay_methods="points_cash,cash,phone_bill,online_bank",
        )
        await built.services.db.write(partial(upsert_item, spec=spec, now=now))
        cash_only = ItemSpec(
            "5002",
            "礼品卡",
            "Gift card",
            "HF",
            "credit",
            POINTS,
            face_value_cents=2000,
            price_cents=PRICE,
            pay_methods="cash,phone_bill",
        )
        await built.services.db.write(partial(upsert_item, spec=cash_only, now=now))
        await fund(built.services, tmp_path, {ALICE: 5000})
        yield built


async def order(w: World, method: str = "points_cash", key: str = "k1") -> Pending:
    def unit(conn: Connection) -> Pending:
        who = subscribers.find(conn, ALICE)
        assert who is not None
        return payments.redeem_for_money(
            conn,
            subscriber=who,
            code=ITEM,
            qty=1,
            method=method,
            channel="test",
            key=key,
            now=w.now(),
            policy=w.services.hall.policy.orders,
            keyring=w.services.keyring,
        )

    return await w.services.db.write(unit)


async def saga_of(w: World, no: str) -> SagaView:
    found = await w.services.db.read(partial(payments.by_order, no=no))
    assert found is not None
    return found


async def open_link(w: World, no: str) -> str:
    """The customer opens the pay link: the charge is made; return its id."""
    await payments.pay_url(w.ctx, no, w.now())
    saga = await saga_of(w, no)
    assert saga.charge_id is not None
    return saga.charge_id


async def pay(w: World, charge_id: str) -> None:
    await w.fake.pay(charge_id)
    await w.fake.flush()


async def reconcile(w: World) -> int:
    return (await run_job(job_context(w.services), "payments-reconcile")).changed


async def available(w: World) -> int:
    def unit(conn: Connection) -> int:
        who = subscribers.find(conn, ALICE)
        assert who is not None
        aid = ledger.account_id_of(conn, who.id)
        assert aid is not None
        return ledger.summary(conn, aid, w.now()).available

    return await w.services.db.read(unit)


async def steps(w: World, no: str) -> list[str]:
    saga = await saga_of(w, no)

    def unit(conn: Connection) -> list[str]:
        return list(
            conn.execute(
                select(payment_step.c.step)
                .where(payment_step.c.saga_id == saga.id)
                .order_by(payment_step.c.id)
            ).scalars()
        )

    return await w.services.db.read(unit)


async def order_status(w: World, no: str) -> str:
    def unit(conn: Connection) -> str:
        return str(conn.execute(select(orders.c.status).where(orders.c.no == no)).scalar_one())

    return await w.services.db.read(unit)


async def assert_consistent(w: World) -> None:
    """No charge without its order, no paid order without money, refunds once, ledger sound."""

    def unit(conn: Connection) -> tuple[list[SagaView], dict[str, str], bool, int]:
        sagas = payments.listing(conn, limit=1000)
        statuses = {no: s for no, s in conn.execute(select(orders.c.no, orders.c.status))}
        report = examine(conn)
        active_holds = conn.execute(
            select(func.count()).where(hold.c.status == "active")
        ).scalar_one()
        return sagas, statuses, report.ok, int(active_holds)

    sagas, statuses, ledger_ok, _ = await w.services.db.read(unit)
    assert ledger_ok
    by_charge = {s.charge_id: s for s in sagas if s.charge_id}
    for charge in w.fake.charges.values():
        saga = by_charge[charge.id]  # every charge belongs to a saga and its order
        refunds = w.fake.refunds_of(charge.id)
        if charge.status == "succeeded":
            assert saga.status == "completed", saga
            assert statuses[saga.order_no] == "paid"
            assert refunds == []
        if charge.status == "refunded":
            assert saga.status == "refunded"
            assert [r.amount_cents for r in refunds] == [charge.amount_cents]
            assert statuses[saga.order_no] in ("expired", "cancelled")
        if charge.status in ("pending", "cancelled"):
            assert statuses[saga.order_no] != "paid"
    for saga in sagas:
        if statuses[saga.order_no] == "paid":
            assert saga.status == "completed"
            assert w.fake.charges[str(saga.charge_id)].status == "succeeded"


# ------------------------------------------------------------ the happy path


async def test_points_and_cash_pays_after_the_money(world: World) -> None:
    pending = await order(world)
    assert (pending.points, pending.cash_cents, pending.method) == (POINTS, CASH, "points_cash")
    assert await available(world) == 5000 - POINTS  # held
    charge_id = await open_link(world, pending.no)
    assert world.fake.charges[charge_id].amount_cents == CASH
    assert await order_status(world, pending.no) == "created"
    await pay(world, charge_id)
    assert world.fake.callback_statuses == [200]
    assert (await saga_of(world, pending.no)).status == "completed"
    assert await order_status(world, pending.no) == "paid"
    assert await available(world) == 5000 - POINTS
    assert await steps(world, pending.no) == [
        "opened",
        "charge_created",
        "cash_succeeded",
        "points_deducted",
    ]

    def topups(conn: Connection) -> int:
        return int(conn.execute(select(func.count()).select_from(topup)).scalar_one())

    assert await world.services.db.read(topups) == 1  # fulfilled through the points path
    assert await reconcile(world) == 0
    await assert_consistent(world)


@pytest.mark.parametrize("method", ["cash", "phone_bill", "online_bank"])
async def test_money_only_methods_hold_no_points(world: World, method: str) -> None:
    pending = await order(world, method)
    assert (pending.points, pending.cash_cents) == (0, PRICE)
    assert await available(world) == 5000
    charge_id = await open_link(world, pending.no)
    assert world.fake.charges[charge_id].method == method
    await pay(world, charge_id)
    assert await order_status(world, pending.no) == "paid"
    assert await available(world) == 5000
    await assert_consistent(world)


async def test_the_pay_link_redirects_to_the_gateway_page(world: World) -> None:
    pending = await order(world)
    link = payments.pay_link(world.app_url, world.services.keyring, pending.no)
    async with aiohttp.ClientSession() as http:
        async with http.get(link, allow_redirects=False) as resp:
            assert resp.status == 302
            target = resp.headers["Location"]
        async with http.get(target) as page:
            assert "Pay" in await page.text()
        async with http.post(target) as paid:  # the button
            assert paid.status == 200
        async with http.get(link.replace("?k=", "?k=x")) as forged:
            assert forged.status == 404
    await world.fake.flush()
    assert await order_status(world, pending.no) == "paid"
    async with aiohttp.ClientSession() as http, http.get(link) as again:
        assert again.status == 409  # paid: the link no longer leads to a charge
    await assert_consistent(world)


async def test_an_expired_order_link_makes_no_charge(world: World) -> None:
    pending = await order(world, "cash")
    world.clock.advance(timedelta(minutes=20))
    link = payments.pay_link(world.app_url, world.services.keyring, pending.no)
    async with aiohttp.ClientSession() as http, http.get(link) as resp:
        assert resp.status == 409
    assert world.fake.charges == {}


# ------------------------------------------------------------ a fault at each step


async def test_gateway_down_at_charge_then_timeout_cancels(world: World) -> None:
    pending = await order(world)
    world.fake.down = True
    with pytest.raises(GatewayUnavailable):
        await payments.pay_url(world.ctx, pending.no, world.now())
    link = payments.pay_link(world.app_url, world.services.keyring, pending.no)
    async with aiohttp.ClientSession() as http, http.get(link, allow_redirects=False) as resp:
        assert resp.status == 503
    assert (await saga_of(world, pending.no)).status == "started"
    world.clock.advance(timedelta(seconds=GRACE + 1))
    assert await reconcile(world) == 0  # the order may still be paid: left alone
    world.clock.advance(timedelta(minutes=20))  # past the time to pay
    assert await reconcile(world) == 0  # still down: retried later, nothing half-done
    world.fake.down = False
    await run_job(job_context(world.services), "orders-timeout")
    assert await reconcile(world) == 1
    saga = await saga_of(world, pending.no)
    assert saga.status == "cancelled"
    assert world.fake.charges[str(saga.charge_id)].status == "cancelled"
    assert await order_status(world, pending.no) == "expired"
    assert await available(world) == 5000  # hold released
    assert world.fake.refunds == []
    await assert_consistent(world)


async def test_gateway_back_before_the_deadline_lets_the_customer_pay(world: World) -> None:
    pending = await order(world)
    world.fake.down = True
    with pytest.raises(GatewayUnavailable):
        await payments.pay_url(world.ctx, pending.no, world.now())
    world.fake.down = False
    await pay(world, await open_link(world, pending.no))
    assert await order_status(world, pending.no) == "paid"
    await assert_consistent(world)


async def test_lost_callback_is_found_by_reconciliation(world: World) -> None:
    pending = await order(world)
    charge_id = await open_link(world, pending.no)
    world.fake.drop_callbacks = True
    await pay(world, charge_id)
    assert (await saga_of(world, pending.no)).status == "charge_pending"
    assert await reconcile(world) == 0  # within the grace period
    world.clock.advance(timedelta(seconds=GRACE + 1))
    assert await reconcile(world) == 1
    assert (await saga_of(world, pending.no)).status == "completed"
    assert await order_status(world, pending.no) == "paid"
    assert await reconcile(world) == 0
    await assert_consistent(world)


async def test_money_found_late_still_pays_an_order_not_yet_expired(world: World) -> None:
    pending = await order(world)
    charge_id = await open_link(world, pending.no)
    world.fake.drop_callbacks = True
    await pay(world, charge_id)  # paid in time, but we never heard
    world.clock.advance(timedelta(minutes=20))  # past pay_by; the timeout job has not run
    assert await reconcile(world) == 1
    assert await order_status(world, pending.no) == "paid"
    await run_job(job_context(world.services), "orders-timeout")
    assert await order_status(world, pending.no) == "paid"
    await assert_consistent(world)


async def test_timeout_racing_the_callback_ends_one_way_or_the_other(world: World) -> None:
    pendings = [await order(world, key=f"race{i}") for i in range(3)]
    charges = [await open_link(world, p.no) for p in pendings]
    world.clock.advance(timedelta(minutes=20))
    await asyncio.gather(
        run_job(job_context(world.services), "orders-timeout"),
        *(pay(world, c) for c in charges),
    )
    world.clock.advance(timedelta(seconds=GRACE + 1))
    await reconcile(world)
    for p in pendings:
        assert (await saga_of(world, p.no)).status in ("completed", "refunded")
    await assert_consistent(world)


async def test_duplicated_callback_has_one_effect(world: World) -> None:
    pending = await order(world)
    charge_id = await open_link(world, pending.no)
    world.fake.callback_copies = 5
    await pay(world, charge_id)
    assert world.fake.callback_statuses == [200] * 5
    assert await steps(world, pending.no) == [
        "opened",
        "charge_created",
        "cash_succeeded",
        "points_deducted",
    ]
    assert await available(world) == 5000 - POINTS
    await assert_consistent(world)


async def test_points_step_fails_after_the_hold_expired_and_cash_is_refunded_once(
    world: World,
) -> None:
    pending = await order(world)
    charge_id = await open_link(world, pending.no)
    world.clock.advance(timedelta(minutes=20))
    await run_job(job_context(world.services), "orders-timeout")  # hold released
    assert await order_status(world, pending.no) == "expired"
    await pay(world, charge_id)  # the money arrives too late
    saga = await saga_of(world, pending.no)
    assert saga.status == "refunded"
    assert [r.amount_cents for r in world.fake.refunds_of(charge_id)] == [CASH]
    assert await available(world) == 5000
    assert "points_failed" in await steps(world, pending.no)
    world.clock.advance(timedelta(seconds=GRACE + 1))
    await reconcile(world)
    await pay(world, charge_id)  # and a late duplicate of the callback
    assert len(world.fake.refunds_of(charge_id)) == 1
    await assert_consistent(world)


async def test_points_step_failing_inside_rolls_it_back_and_refunds(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    pending = await order(world)
    charge_id = await open_link(world, pending.no)
    monkeypatch.setattr(ledger, "capture_hold", lambda *a, **k: None)  # the hold is gone
    await pay(world, charge_id)
    assert (await saga_of(world, pending.no)).status == "refunded"
    assert await order_status(world, pending.no) == "expired"
    assert await available(world) == 5000
    assert len(world.fake.refunds_of(charge_id)) == 1
    await assert_consistent(world)


async def test_crash_after_the_cash_is_finished_by_reconciliation(world: World) -> None:
    pending = await order(world)
    charge_id = await open_link(world, pending.no)
    world.fake.drop_callbacks = True
    await pay(world, charge_id)
    # The callback's first unit of work commits, then the process dies before step 3.
    await world.services.db.write(
        partial(payments.record_cash, charge_id=charge_id, now=world.now())
    )
    assert (await saga_of(world, pending.no)).status == "cash_captured"
    assert await order_status(world, pending.no) == "created"
    world.clock.advance(timedelta(seconds=GRACE + 1))
    assert await reconcile(world) == 1
    assert await order_status(world, pending.no) == "paid"
    await assert_consistent(world)


async def test_crash_before_the_refund_and_gateway_down_refunds_once_later(
    world: World,
) -> None:
    pending = await order(world)
    charge_id = await open_link(world, pending.no)
    world.clock.advance(timedelta(minutes=20))
    await run_job(job_context(world.services), "orders-timeout")
    world.fake.drop_callbacks = True
    await pay(world, charge_id)
    await world.services.db.write(
        partial(payments.record_cash, charge_id=charge_id, now=world.now())
    )
    saga = await saga_of(world, pending.no)
    await world.services.db.write(
        partial(
            payments.deduct_points,
            saga_id=saga.id,
            now=world.now(),
            keyring=world.services.keyring,
            tz=world.ctx.timezone,
        )
    )
    assert (await saga_of(world, pending.no)).status == "refunding"  # ...and the crash
    world.fake.down = True
    world.clock.advance(timedelta(seconds=GRACE + 1))
    assert await reconcile(world) == 0
    world.fake.down = False
    assert await reconcile(world) == 1
    assert await reconcile(world) == 0
    assert len(world.fake.refunds_of(charge_id)) == 1
    assert (await saga_of(world, pending.no)).status == "refunded"
    await assert_consistent(world)


# ------------------------------------------------------------ the callback route


def _event(charge_id: str) -> bytes:
    return json.dumps(
        {"id": "evt_1", "type": "charge.succeeded", "data": {"id": charge_id}}
    ).encode()


async def test_bad_signature_is_403_with_no_effect(world: World) -> None:
    pending = await order(world)
    charge_id = await open_link(world, pending.no)
    world.fake.charges[charge_id].status = "succeeded"
    body = _event(charge_id)
    now = world.now()
    forged = (
        sign(b"not-the-secret", now, body),
        sign(SECRET.encode(), now - 3600, body),  # replayed an hour later
        "t=1,v1=00",
        "",
    )
    async with aiohttp.ClientSession() as http:
        for header in forged:
            async with http.post(
                f"{world.app_url}/payments/callback", data=body, headers={SIGNATURE_HEADER: header}
            ) as resp:
                assert resp.status == 403
    assert (await saga_of(world, pending.no)).status == "charge_pending"
    assert await order_status(world, pending.no) == "created"


async def test_fifty_concurrent_duplicate_callbacks_have_one_effect(world: World) -> None:
    pending = await order(world)
    charge_id = await open_link(world, pending.no)
    world.fake.charges[charge_id].status = "succeeded"
    body = _event(charge_id)
    headers = {SIGNATURE_HEADER: sign(SECRET.encode(), world.now(), body)}
    async with aiohttp.ClientSession() as http:

        async def post() -> int:
            async with http.post(
                f"{world.app_url}/payments/callback", data=body, headers=headers
            ) as resp:
                return resp.status

        statuses = await asyncio.gather(*(post() for _ in range(50)))
    assert statuses == [200] * 50

    def effects(conn: Connection) -> tuple[int, int]:
        pays = conn.execute(
            select(func.count()).where(entry.c.idempotency_key == f"order:{pending.no}:pay")
        ).scalar_one()
        tops = conn.execute(select(func.count()).select_from(topup)).scalar_one()
        return int(pays), int(tops)

    assert await world.services.db.read(effects) == (1, 1)
    assert len(await steps(world, pending.no)) == 4
    await assert_consistent(world)


# ------------------------------------------------------------ several replicas


async def test_two_schedulers_reconcile_and_settle_once(
    world: World, database_url: str, clock: ManualClock
) -> None:
    """Two replicas run reconciliation (and settlement) at the same moment: one effect."""
    late, lost = await order(world, key="late"), await order(world, "cash", key="lost")
    late_charge = await open_link(world, late.no)
    lost_charge = await open_link(world, lost.no)
    world.fake.drop_callbacks = True
    await pay(world, lost_charge)
    clock.advance(timedelta(minutes=20))
    await run_job(job_context(world.services), "orders-timeout")
    await pay(world, late_charge)  # money for an expired order: must go back, once
    other = await bootstrap(world.services.settings, clock=clock, upgrade=False)
    try:
        runs = await asyncio.gather(
            run_job(job_context(world.services), "payments-reconcile"),
            run_job(job_context(other), "payments-reconcile"),
            run_job(job_context(world.services), "settlement"),
            run_job(job_context(other), "settlement"),
        )
    finally:
        await other.close()
    if world.services.db.dialect == "postgresql":  # the advisory lock: one replica ran
        assert sorted(r.ran for r in runs[:2]) == [False, True]
        assert sum(r.changed for r in runs[:2]) == 2
    assert len(world.fake.refunds_of(late_charge)) == 1
    assert (await saga_of(world, late.no)).status == "refunded"
    assert (await saga_of(world, lost.no)).status == "refunded"  # lost order also expired
    await assert_consistent(world)


# ------------------------------------------------------------ over SMS


async def test_sms_dh_with_xj_answers_with_a_pay_link_that_pays(world: World) -> None:
    plain = await send(world.services, ALICE, "DH 5001")  # §3.5.6: no points-only price
    assert plain.reply.startswith("5001可用付款方式:XJ=积分+现金") and "DH 5001 1 XJ" in plain.reply
    await send(world.services, ALICE, "EN")
    reply = (await send(world.services, ALICE, "DH 5001 1 XJ")).reply
    match = re.search(r"Order (\d+): .* 1,000 pts \+ ¥5\. Pay within 15 min: (\S+)$", reply)
    assert match, reply
    no, link = match.groups()
    assert link.startswith(f"{world.app_url}/pay/{no}?k=")
    async with aiohttp.ClientSession() as http, http.get(link) as page:
        assert "Pay" in await page.text()  # followed the redirect to the gateway's page
        async with http.post(str(page.url)) as paid:
            assert paid.status == 200
    await world.fake.flush()
    assert await order_status(world, no) == "paid"
    assert "paid" in (await send(world.services, ALICE, f"DD {no}")).reply
    await assert_consistent(world)


async def test_sms_dh_of_a_money_only_item_offers_its_methods(world: World) -> None:
    await send(world.services, ALICE, "EN")
    reply = (await send(world.services, ALICE, "DH 5002")).reply
    assert reply == "5002 can be paid by: QK=cash HF=phone bill. E.g. DH 5002 1 QK"
    reply = (await send(world.services, ALICE, "DH 5002 2 HF")).reply
    assert "¥30 (phone bill)" in reply, reply


# ------------------------------------------------------------ reports (§5, §6.2)


async def test_points_cost_report_splits_by_payment_method(world: World) -> None:
    for method, key in (("points_cash", "a"), ("cash", "b"), ("phone_bill", "c")):
        pending = await order(world, method, key=key)
        await pay(world, await open_link(world, pending.no))
    rows = await world.services.db.read(
        partial(reports.points_cost, period="2026-11", tz=world.ctx.timezone)
    )
    credit = {r.method: (r.count, r.points, r.value_cents, r.cash_cents) for r in rows}
    assert credit == {
        "points_cash": (1, POINTS, 2000 - CASH, CASH),
        "cash": (1, 0, 0, PRICE),
        "phone_bill": (1, 0, 0, PRICE),
    }


async def test_the_pay_page_refuses_in_the_subscribers_language(world: World) -> None:
    """Issue 14: a late or foreign pay link answered in English only."""
    reply = (await send(world.services, ALICE, "DH 5001 1 XJ")).reply
    found = re.search(r"订单(\d+):.*付款:(\S+)$", reply)
    assert found, reply
    no, link = found.groups()
    world.clock.advance(timedelta(minutes=16))  # past the 15 minutes to pay
    async with aiohttp.ClientSession() as http:
        async with http.get(link, allow_redirects=False) as late:
            assert late.status == 409
            assert f"订单{no}已不在等待付款。回复DD查看订单。" in await late.text()
        async with http.get(f"{world.app_url}/pay/{no}?k=forged", allow_redirects=False) as bad:
            assert bad.status == 404
            assert "没有这笔付款。 No such payment." in await bad.text()
        forged = f"{world.app_url}/pay/{no}?k=%E9%BE%99%FF"  # not even UTF-8
        async with http.get(forged, allow_redirects=False) as odd:
            assert odd.status == 404
