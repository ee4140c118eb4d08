"""Back-office subscriber lookup and points adjustments (issue 16 §1; §1 points; issue 8
two-person rule): balance, lots with expiry, journal, orders; propose, approve, reject."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import Connection

from core.points import accounts, adjustments
from core.points.doctor import examine
from pointshall.bootstrap import Services
from tests.support.admin_helpers import buy_flask
from tests.support.helpers import fund, seed_catalog
from tests.support.merchant_helpers import ALICE
from tests.support.office import (
    OPS,
    actions,
    alert,
    flash,
    office_client,
    ops_login,
    page,
    staff_tokens,
    submit,
)

pytestmark = pytest.mark.filterwarnings("ignore::aiohttp.web_exceptions.NotAppKeyWarning")
LOOKUP = f"{OPS}/subscribers?msisdn=%2B8613800138000"


@dataclass(frozen=True)
class World:
    tokens: dict[str, str]
    flask: str


@pytest.fixture
async def world(services: Services, tmp_path: Path) -> World:
    await seed_catalog(services)
    await fund(services, tmp_path, {ALICE: 20_000}, period="2026-09")
    await fund(services, tmp_path, {ALICE: 5_000}, period="2026-10")
    flask = await buy_flask(services)
    return World(await staff_tokens(services, (("admin2", "admin"),)), flask)


@pytest.fixture
async def client(services: Services, world: World) -> AsyncIterator[TestClient]:
    async with office_client(services) as c:
        yield c


async def balance(services: Services) -> int:
    def q(conn: Connection) -> int:
        card = accounts.card(conn, ALICE, 0)
        assert card.account is not None
        return card.account.balance

    return await services.db.read(q)


async def test_a_subscriber_with_lots_journal_and_orders(client: TestClient, world: World) -> None:
    await ops_login(client, world.tokens["support"])
    status, text = await page(client, f"{OPS}/subscribers?msisdn=138%200013%208000")
    assert status == 200 and 'id="balance">22,000' in text and 'id="available">22,000' in text
    lots = text[text.index('id="lots"') : text.index('id="entries"')]
    assert "17,000" in lots and "5,000" in lots and "2027-12-31" not in lots
    assert "2028-01-01 00:00" in lots  # earned in 2026, they expire when 2027 ends
    assert lots.index("17,000") < lots.index("5,000")  # the older lot was spent first
    entries = text[text.index('id="entries"') : text.index('id="subscriber-orders"')]
    assert "-3,000" in entries and "+20,000" in entries and "保温杯 ×1" in entries
    assert world.flask in text[text.index('id="subscriber-orders"') :]
    assert 'id="propose"' in text


async def test_lookups_that_find_nothing_say_why(client: TestClient, world: World) -> None:
    await ops_login(client, world.tokens["finance"])
    status, text = await page(client, f"{OPS}/subscribers?msisdn=12ab")
    assert status == 400 and alert(text) == "请输入正确的手机号。"
    status, text = await page(client, f"{OPS}/subscribers?msisdn=13912345678")
    assert status == 404 and alert(text) == "没有找到用户+8613912345678。"
    status, text = await page(client, f"{OPS}/subscribers")
    assert status == 200 and 'id="card"' not in text
    status, text = await page(client, LOOKUP)
    assert status == 200 and 'id="propose"' not in text  # finance decides, never proposes


async def test_an_adjustment_needs_a_second_member(
    client: TestClient, services: Services, world: World
) -> None:
    await ops_login(client, world.tokens["support"])
    proposal = {"msisdn": "13800138000", "points": "+500", "reason": "goodwill"}
    status, text = await submit(client, f"{OPS}/adjustments", proposal)
    assert status == 200 and flash(text) == "调整申请#1(+500积分)已提交,等待另一名员工审批。"
    assert 'id="balance">22,000' in text
    status, text = await submit(client, f"{OPS}/adjustments/1/approve", {})
    assert status == 403  # support proposes, never decides

    await ops_login(client, world.tokens["admin"])
    status, text = await submit(
        client, f"{OPS}/adjustments", {"msisdn": ALICE, "points": "-200", "reason": "duplicate"}
    )
    assert status == 200 and "#2" in flash(text)
    status, text = await page(client, f"{OPS}/adjustments?status=proposed")
    own = text[text.index('id="adjustment-2"') : text.index('id="adjustment-1"')]
    assert "/approve" not in own and "/approve" in text[text.index('id="adjustment-1"') :]
    status, text = await submit(client, f"{OPS}/adjustments/2/approve", {})
    assert status == 403 and alert(text) == "两人规则:admin不能审批自己提出的事项。"
    assert await balance(services) == 22_000

    status, text = await submit(client, f"{OPS}/adjustments/1/approve", {})
    assert status == 200 and flash(text) == "调整#1已批准并入账(+8613800138000)。"
    assert await balance(services) == 22_500
    status, text = await submit(client, f"{OPS}/adjustments/1/approve", {})
    assert status == 409 and alert(text) == "调整#1已处理(当前:approved)。"
    assert await balance(services) == 22_500

    await ops_login(client, world.tokens["finance"])
    status, text = await submit(client, f"{OPS}/adjustments/2/reject", {"reason": "not needed"})
    assert status == 200 and flash(text) == "调整#2已驳回。"
    assert await balance(services) == 22_500
    found = await services.db.read(lambda conn: adjustments.listing(conn))
    assert [(a.id, a.status, a.decided_by) for a in found] == [
        (2, "rejected", "finance"),
        (1, "approved", "admin"),
    ]
    assert (await services.db.read(examine)).discrepancies == []
    assert [a for _, a, _ in await actions(services, "adjustment:1")] == [
        "adjustment_propose",
        "adjustment_approve",
    ]
    status, text = await page(client, LOOKUP)
    assert "goodwill" in text and "+500" in text


async def test_bad_proposals_are_refused_on_the_page(
    client: TestClient, services: Services, world: World
) -> None:
    await ops_login(client, world.tokens["admin"])
    for bad, fields in (
        ({"msisdn": ALICE, "points": "0", "reason": "x"}, "积分"),
        ({"msisdn": ALICE, "points": "12.5", "reason": ""}, "积分, 原因"),
        ({"msisdn": "nobody", "points": "10", "reason": "x"}, "手机号"),
    ):
        status, text = await submit(client, f"{OPS}/adjustments", bad)
        assert status == 400 and alert(text) == f"请检查以下内容:{fields}。", bad
    status, text = await submit(
        client, f"{OPS}/adjustments", {"msisdn": "13912345678", "points": "10", "reason": "x"}
    )
    assert status == 404 and alert(text) == "没有找到用户+8613912345678。"
    await ops_login(client, world.tokens["admin2"])
    status, text = await submit(
        client, f"{OPS}/adjustments", {"msisdn": ALICE, "points": "-50000", "reason": "oops"}
    )
    assert status == 200
    await ops_login(client, world.tokens["admin"])
    status, text = await submit(client, f"{OPS}/adjustments/1/approve", {})
    assert status == 409 and alert(text) == "可用积分不足:可用22,000,需要50,000。"
    assert await balance(services) == 22_000


async def test_pages_in_english(client: TestClient, world: World) -> None:
    await ops_login(client, world.tokens["admin"])
    await client.get(f"/console/lang/en?next={OPS}/adjustments")
    _, text = await page(client, LOOKUP)
    assert "Lots (spent first-expiring-first)" in text and "Journal" in text
    assert "Propose a points adjustment" in text and "redeemed" in text
