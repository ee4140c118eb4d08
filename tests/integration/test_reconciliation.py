"""The monthly reconciliation (issue 16 §3, seed §6.2, §6.3) on both databases.

One story builds January 2027 (Asia/Shanghai) with every kind of movement — points
earned, phone credit, goods, vouchers used / left unused / expired / refunded, a
voucher bought in December and used in January, a POS payment, a refund, points
expiring, adjustments up and down, money captured by points + cash and by phone bill,
money captured and refunded when the points step fails — with movements before and
after the month around it. The report must equal sums computed independently from
the raw rows (and, for money, from the fake gateway's own records), and tie out:
opening + movement = closing, and the voucher liability rolled forward.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from aiohttp.test_utils import TestClient, TestServer, unused_port
from sqlalchemy import Connection, select

from core.catalogue.editing import ItemSpec, upsert_item
from core.merchants import merchants
from core.payments import pos
from core.payments import saga as payments
from core.payments.saga import PaymentContext
from core.platform.clock import ManualClock, epoch
from core.platform.schema import (
    entry,
    item,
    order_event,
    orders,
    payment_saga,
    payment_step,
    settlement_line,
    voucher,
)
from core.points import adjustments, doctor
from core.settlement import reconciliation, report_files, settlement
from core.settlement.reconciliation import Reconciliation
from core.subscribers import subscribers
from pointshall.app import build_app
from pointshall.bootstrap import Services, bootstrap
from pointshall.fake_gateway import FakeGateway
from pointshall.scheduling import job_context
from scheduler.runner import run_job
from tests.integration.test_pos import set_passwords
from tests.support.admin_helpers import BASE, make_staff
from tests.support.helpers import fund, redeem_paid, send
from tests.support.merchant_helpers import ALICE, STAFF_A, STAFF_B, Bought, buy, merchant_mall
from tests.support.settings import make_settings

TZ = ZoneInfo("Asia/Shanghai")
MONTH = "2027-01"
DECEMBER = datetime(2026, 12, 10, 4, 0, tzinfo=UTC)
JANUARY = datetime(2027, 1, 5, 4, 0, tzinfo=UTC)
FEBRUARY = datetime(2027, 2, 3, 4, 0, tzinfo=UTC)
BOB = "+8613800138001"
CAROL = "+8613800138002"
SECRET = "reconcile-gateway-secret"
MONEY_ITEM = "5001"
POINTS, CASH, PRICE = 1000, 500, 1500
POS_POINTS = 777


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

    def later(self, minutes: int = 30) -> None:
        self.clock.advance(timedelta(minutes=minutes))


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    """The app and the fake gateway on real ports, on a clock that starts in December."""
    clock = ManualClock(DECEMBER)
    app_port, gw_port = unused_port(), unused_port()
    fake = FakeGateway(
        SECRET, public_url=f"http://127.0.0.1:{gw_port}", clock=lambda: epoch(clock.now())
    )
    settings = make_settings(
        database_url,
        public_url=f"http://127.0.0.1:{app_port}",
        gateway_url=f"http://127.0.0.1:{gw_port}",
        gateway_secret=SECRET,
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


# ------------------------------------------------------------------ the story's steps


async def money_order(w: World, method: str) -> str:
    def unit(conn: Connection) -> str:
        who = subscribers.find(conn, ALICE)
        assert who is not None
        return payments.redeem_for_money(
            conn,
            subscriber=who,
            code=MONEY_ITEM,
            qty=1,
            method=method,
            channel="test",
            key=uuid.uuid4().hex,
            now=w.now(),
            policy=w.services.hall.policy.orders,
            keyring=w.services.keyring,
        ).no

    return await w.services.db.write(unit)


async def charge_of(w: World, no: str) -> str:
    await payments.pay_url(w.ctx, no, w.now())
    saga = await w.services.db.read(partial(payments.by_order, no=no))
    assert saga is not None and saga.charge_id is not None
    return saga.charge_id


async def paid_with_money(w: World, method: str) -> str:
    """An order paid with money through the gateway; returns its charge id."""
    charge = await charge_of(w, await money_order(w, method))
    await w.fake.pay(charge)
    await w.fake.flush()
    return charge


async def money_back(w: World) -> str:
    """Points + cash whose money arrives after the order expired: captured, then refunded."""
    charge = await charge_of(w, await money_order(w, "points_cash"))
    w.later(20)
    await run_job(job_context(w.services), "orders-timeout")
    await w.fake.pay(charge)
    await w.fake.flush()
    assert [r.amount_cents for r in w.fake.refunds_of(charge)] == [CASH]
    return charge


async def verify(w: World, staff: str, bought: Bought) -> None:
    reply = (await send(w.services, staff, f"YZ {bought.no} {bought.password}")).reply
    assert bought.no in reply


async def cancel(w: World, no: str) -> None:
    reply = (await send(w.services, ALICE, f"QX {no}")).reply
    assert no in reply


async def pos_pay(w: World, points: int) -> None:
    now = w.now()

    def unit(conn: Connection) -> pos.PaymentOutcome:
        terminal = merchants.find_terminal(conn, "T-B")
        assert terminal is not None
        request = pos.PaymentRequest(ALICE, "135790", "246801", points, uuid.uuid4().hex[:12])
        return pos.pay(conn, terminal, request, now, w.services.keyring)

    assert isinstance(await w.services.db.write(unit), pos.PaymentDone)


async def adjust(w: World, points: int) -> None:
    now = w.now()

    def unit(conn: Connection) -> None:
        made = adjustments.propose(
            conn, msisdn=ALICE, points=points, reason="goodwill", by="support", now=now
        )
        adjustments.approve(conn, made.id, by="finance", now=now, expires_at=now + 400 * 86_400)

    await w.services.db.write(unit)


async def paid(w: World, code: str) -> str:
    found = await w.services.db.write(lambda conn: redeem_paid(conn, w.services, ALICE, code))
    return found.order.no


@dataclass
class Story:
    """What the story did that the report must show, written down as it happened."""

    january_charges: list[str]
    january_refunded_charges: list[str]


async def build_story(w: World, tmp_path: Path) -> Story:
    services = w.services
    # ---- December: the catalogue, points, two vouchers still open at the month's start
    await merchant_mall(services, tmp_path)  # Alice: 50,000 points (period 2026-10)
    for code, cents in (("M1", 250), ("M2", 333)):
        await services.db.write(
            lambda conn, code=code, cents=cents: settlement.set_rate(
                conn, code, cents, "test", w.now()
            )
        )
    extra = (
        ItemSpec(
            "3002", "电影票", "Cinema ticket", "SJ", "voucher", 1500, merchant="M2", voucher_days=90
        ),
        ItemSpec(
            "3003", "短期券", "Short voucher", "SJ", "voucher", 400, merchant="M1", voucher_days=2
        ),
        ItemSpec(
            MONEY_ITEM,
            "充值卡",
            "Top-up card",
            "HF",
            "credit",
            POINTS,
            face_value_cents=2000,
            cash_cents=CASH,
            price_cents=PRICE,
            pay_methods="points_cash,cash,phone_bill,online_bank",
        ),
    )
    for spec in extra:
        await services.db.write(partial(upsert_item, spec=spec, now=w.now()))
    await set_passwords(services, ALICE, "135790", "246801")
    assert "已" in (await send(services, ALICE, "DZ 北京市朝阳区建国路1号")).reply
    await fund(services, tmp_path, {BOB: 1_000}, period="2025-12")  # expires 2027-01-01 local
    december_used = await buy(services, "3001")
    december_open = await buy(services, "3002")
    await paid_with_money(w, "points_cash")  # captured in December: not January's
    # ---- January
    w.clock.set(JANUARY)
    assert (await run_job(job_context(services), "lots-expiry")).changed == 1_000
    await fund(services, tmp_path, {CAROL: 2_000, ALICE: 700}, period="2026-12")
    await paid(w, "1001")
    await paid(w, "2001")
    await cancel(w, await paid(w, "2001"))  # goods refunded
    w.later()
    used = await buy(services, "3001")
    await verify(w, STAFF_A, used)
    await verify(w, STAFF_A, december_used)
    unused = await buy(services, "3002")
    await buy(services, "3003")  # expires two days later, never used
    await cancel(w, (await buy(services, "3001")).no)  # voucher refunded
    await pos_pay(w, POS_POINTS)
    await adjust(w, 500)
    await adjust(w, -200)
    january = [await paid_with_money(w, "points_cash"), await paid_with_money(w, "phone_bill")]
    refunded = await money_back(w)
    await money_order(w, "cash")  # never paid: no money moves
    w.clock.advance(timedelta(days=3))
    await run_job(job_context(services), "vouchers-expiry")
    # ---- February: nothing here is January's
    w.clock.set(FEBRUARY)
    await fund(services, tmp_path, {CAROL: 300}, period="2027-01")
    await paid(w, "1001")
    await paid_with_money(w, "phone_bill")
    await verify(w, STAFF_B, unused)
    await verify(w, STAFF_B, december_open)
    return Story([*january, refunded], [refunded])


# ------------------------------------------------------------- independent sums


def _sums(rows: list[tuple[str, int]]) -> dict[str, tuple[int, int]]:
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for code, amount in rows:
        out[code][0] += 1
        out[code][1] += amount
    return {code: (n, points) for code, (n, points) in out.items()}


def independent(conn: Connection, start: int, end: int) -> dict[str, Any]:
    """The month computed in Python from raw rows, without the report's SQL."""
    entries = conn.execute(
        select(entry.c.kind, entry.c.source, entry.c.amount, entry.c.idempotency_key).where(
            entry.c.created_at >= start, entry.c.created_at < end
        )
    ).all()
    order_rows = {
        f"order:{no}:pay": (oid, kind, points, paid_at)
        for oid, no, kind, points, paid_at in conn.execute(
            select(orders.c.id, orders.c.no, item.c.kind, orders.c.points, orders.c.paid_at).join(
                item, item.c.id == orders.c.item_id
            )
        )
    }
    refunded_at: dict[int, int] = {}
    for oid, at in conn.execute(
        select(order_event.c.order_id, order_event.c.at).where(
            order_event.c.to_status == "refunded"
        )
    ):
        refunded_at[oid] = min(at, refunded_at.get(oid, at))
    ends: dict[int, tuple[str, int]] = {}
    for oid, verified_at, expires_at in conn.execute(
        select(voucher.c.order_id, voucher.c.verified_at, voucher.c.expires_at)
    ):
        if verified_at is not None:
            ends[oid] = ("used", verified_at)
        elif oid in refunded_at and refunded_at[oid] < expires_at:
            ends[oid] = ("refunded", refunded_at[oid])
        else:
            ends[oid] = ("expired", expires_at)
    rows: list[tuple[str, int]] = []
    for kind, source, amount, key in entries:
        if kind == "earn":
            rows.append(("earned", amount))
        elif kind == "redeem" and source == "pos":
            rows.append(("redeemed_pos", amount))
        elif kind == "redeem" and key in order_rows:
            oid, item_kind, _, _ = order_rows[key]
            if item_kind == "voucher":
                how, at = ends[oid]
                rows.append((f"redeemed_voucher_{how if at < end else 'unused'}", amount))
            else:
                rows.append(
                    ({"credit": "redeemed_credit"}.get(item_kind, "redeemed_goods"), amount)
                )
        elif kind == "redeem":
            rows.append(("redeemed_other", amount))
        elif kind == "adjust":
            rows.append(("adjusted_up" if amount > 0 else "adjusted_down", amount))
        else:
            rows.append(({"refund": "refunded", "expire": "expired"}[kind], amount))
    vouchers: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for oid, (how, at) in ends.items():
        points, issued = next((p, i) for o, _, p, i in order_rows.values() if o == oid)
        if issued < start <= at:
            vouchers["vouchers_opening"][0] += 1
            vouchers["vouchers_opening"][1] += points
        if start <= issued < end:
            vouchers["vouchers_issued"][0] += 1
            vouchers["vouchers_issued"][1] += points
        if start <= at < end:
            vouchers[f"vouchers_{how}"][0] += 1
            vouchers[f"vouchers_{how}"][1] -= points
        if issued < end <= at:
            vouchers["vouchers_closing"][0] += 1
            vouchers["vouchers_closing"][1] += points
    money: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for step, method, cents in conn.execute(
        select(payment_step.c.step, payment_saga.c.method, payment_saga.c.amount_cents)
        .join(payment_saga, payment_saga.c.id == payment_step.c.saga_id)
        .where(payment_step.c.at >= start, payment_step.c.at < end)
    ):
        if step == "cash_succeeded":
            money[f"money_{method}"][0] += 1
            money[f"money_{method}"][1] += cents
        if step == "cash_refunded":
            money[f"money_{method}"][2] += cents
    lines = conn.execute(
        select(
            settlement_line.c.source, settlement_line.c.points, settlement_line.c.amount_cents
        ).where(settlement_line.c.consumed_at >= start, settlement_line.c.consumed_at < end)
    ).all()
    opening = sum(
        a for (a,) in conn.execute(select(entry.c.amount).where(entry.c.created_at < start))
    )
    closing = sum(
        a for (a,) in conn.execute(select(entry.c.amount).where(entry.c.created_at < end))
    )
    return {
        "points": _sums(rows),
        "vouchers": {k: tuple(v) for k, v in vouchers.items()},
        "money": {k: tuple(v) for k, v in money.items()},
        "settlement": {
            source: (
                sum(1 for s, _, _ in lines if s == source),
                sum(p for s, p, _ in lines if s == source),
                sum(c for s, _, c in lines if s == source),
            )
            for source in ("voucher", "pos")
        },
        "movement": sum(amount for _, _, amount, _ in entries),
        "opening": opening,
        "closing": closing,
    }


def assert_equals_independent(rec: Reconciliation, sums: dict[str, Any]) -> None:
    for row in rec.lines:
        if row.section == "points":
            assert (row.count, row.points) == sums["points"].get(row.code, (0, 0)), row
            assert row.captured_cents == row.refunded_cents == 0
        else:
            assert (row.count, row.captured_cents, row.refunded_cents) == sums["money"].get(
                row.code, (0, 0, 0)
            ), row
    assert rec.total.points == sums["movement"] == sums["closing"] - sums["opening"]
    assert rec.check("balance_opening").points == sums["opening"]
    assert rec.check("balance_closing").points == sums["closing"]
    for code in ("opening", "issued", "used", "expired", "refunded", "closing"):
        row = rec.check(f"vouchers_{code}")
        assert (row.count, row.points) == sums["vouchers"].get(f"vouchers_{code}", (0, 0)), row
    for source in ("voucher", "pos"):
        row = rec.check(f"settlement_{source}")
        assert (row.count, row.points, row.merchant_cents) == sums["settlement"][source], row


# ------------------------------------------------------------------------------ tests


async def test_a_month_of_every_movement_reconciles(world: World, tmp_path: Path) -> None:
    story = await build_story(world, tmp_path)
    rec = await world.services.db.read(partial(reconciliation.reconcile, period=MONTH, tz=TZ))
    start, end = rec.start, rec.end
    assert (start, end) == settlement.period_bounds(MONTH, TZ)
    sums = await world.services.db.read(partial(independent, start=start, end=end))
    assert_equals_independent(rec, sums)

    # What the story did, by hand: every kind of movement is there, in its own row.
    expected_points = {
        "earned": (2, 2_700),
        "redeemed_credit": (2, -5_000 - POINTS),  # 1001, and the points of points + cash
        "redeemed_goods": (2, -6_000),
        "redeemed_voucher_used": (1, -800),
        "redeemed_voucher_unused": (1, -1_500),  # used in February: a liability at month end
        "redeemed_voucher_expired": (1, -400),
        "redeemed_voucher_refunded": (1, -800),
        "redeemed_pos": (1, -POS_POINTS),
        "redeemed_other": (0, 0),
        "refunded": (2, 3_000 + 800),
        "expired": (1, -1_000),
        "adjusted_up": (1, 500),
        "adjusted_down": (1, -200),
    }
    assert {r.code: (r.count, r.points) for r in rec.lines if r.section == "points"} == (
        expected_points
    )
    vouchers = {c: rec.check(f"vouchers_{c}") for c in ("opening", "issued", "closing")}
    assert (vouchers["opening"].count, vouchers["opening"].points) == (2, 2_300)
    assert (vouchers["issued"].count, vouchers["issued"].points) == (4, 3_500)
    assert (vouchers["closing"].count, vouchers["closing"].points) == (2, 3_000)
    rolled = sum(
        rec.check(f"vouchers_{c}").points
        for c in ("opening", "issued", "used", "expired", "refunded")
    )
    assert rolled == vouchers["closing"].points
    assert rec.check("settlement_voucher").points == -rec.check("vouchers_used").points

    # Money: the rows sum to what the gateway itself captured and refunded in January.
    gateway = world.fake
    captured = sum(gateway.charges[c].amount_cents for c in story.january_charges)
    refunded = sum(
        r.amount_cents for c in story.january_refunded_charges for r in gateway.refunds_of(c)
    )
    assert (rec.total.captured_cents, rec.total.refunded_cents) == (captured, refunded)
    assert (captured, refunded) == (CASH + PRICE + CASH, CASH)
    assert rec.line("money_points_cash").captured_cents == 2 * CASH
    assert rec.line("money_phone_bill").captured_cents == PRICE
    assert (await world.services.db.read(doctor.examine)).ok


async def test_report_files_carry_the_figures_in_either_language(
    world: World, tmp_path: Path
) -> None:
    await build_story(world, tmp_path)
    rec = await world.services.db.read(partial(reconciliation.reconcile, period=MONTH, tz=TZ))
    zh_csv, en_xlsx = tmp_path / "r.csv", tmp_path / "r.xlsx"
    report_files.write_reconciliation(zh_csv, rec, "zh")
    report_files.write_reconciliation(en_xlsx, rec, "en")
    with zh_csv.open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0][:5] == ["分类", "代码", "项目", "笔数", "积分"]
    by_code = {r[1]: r for r in rows[1:]}
    assert by_code["redeemed_voucher_unused"][2] == "兑换电子券:月末未使用(负债)"
    body = [
        r for r in rows[1:] if r[1] not in ("total",) and r[0] in ("积分变动", "资金(支付网关)")
    ]
    assert sum(int(r[4]) for r in body) == int(by_code["total"][4]) == rec.total.points
    assert sum(int(r[5]) for r in body) == int(by_code["total"][5]) == rec.total.captured_cents
    assert sum(int(r[6]) for r in body) == int(by_code["total"][6]) == rec.total.refunded_cents
    book = openpyxl.load_workbook(en_xlsx)
    sheet = book["reconcile"]
    table = list(sheet.iter_rows(values_only=True))
    assert table[1][:5] == ("section", "code", "item", "count", "points")
    xlsx_codes = {r[1]: r for r in table[2:] if r and r[1]}
    assert xlsx_codes["total"][4] == rec.total.points
    assert xlsx_codes["vouchers_closing"][2] == "vouchers unused at the end (liability)"
    assert len(sheet._charts) == 1  # noqa: SLF001 - openpyxl keeps a sheet's charts here


async def test_the_admin_api_serves_it_in_the_requesters_language(world: World) -> None:
    tokens = await make_staff(world.services)
    async with TestClient(TestServer(build_app(world.services, drain=False))) as client:

        async def get(who: str, **extra: Any) -> tuple[int, bytes]:
            headers = {"Authorization": f"Bearer {tokens[who]}", **extra.pop("headers", {})}
            params = {"period": MONTH, "format": "csv", **extra}
            resp = await client.get(f"{BASE}/reports/reconcile", headers=headers, params=params)
            return resp.status, await resp.read()

        status, data = await get("finance", headers={"Accept-Language": "en-GB,en;q=0.9"})
        assert status == 200 and data.decode().startswith("section,code,item")
        status, data = await get("admin", headers={"Accept-Language": "zh-CN"})
        assert status == 200 and data.decode().startswith("分类,代码,项目")
        status, data = await get("finance", headers={"Accept-Language": "zh"}, lang="en")
        assert status == 200 and data.decode().startswith("section")
        status, data = await get("finance")  # no header: the installation's language
        assert status == 200 and data.decode().startswith("分类")
        rows = list(csv.reader(io.StringIO(data.decode())))
        assert {r[1] for r in rows[1:]} >= set(reconciliation.POINT_ROWS)
        assert (await get("business_admin"))[0] == 403
        assert (await get("finance", period="2027-13"))[0] == 400
        status, data = await get("finance", format="xlsx")
        assert status == 200 and data[:2] == b"PK"
