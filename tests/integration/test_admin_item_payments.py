"""Admin API items with payment methods (issue 8 item 3, §3.5.6): create and update take
``pay_methods`` and ``price_cents`` (``core.catalogue.editing.ItemSpec``) and show them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from core.catalogue import pay_methods
from core.platform.schema import item
from pointshall.app import build_app
from pointshall.bootstrap import Services
from tests.support.admin_helpers import Admin, make_staff
from tests.support.merchant_helpers import merchant_mall

EARPHONES = {
    "code": "5101",
    "name_zh": "耳机",
    "name_en": "Earphones",
    "category": "LP",
    "kind": "physical",
    "points": 9000,
    "stock": 3,
}


@pytest.fixture
async def admin(services: Services, tmp_path: Path) -> AsyncIterator[Admin]:
    await merchant_mall(services, tmp_path)
    tokens = await make_staff(services)
    async with TestClient(TestServer(build_app(services, drain=False))) as client:
        yield Admin(client, tokens)


async def test_items_take_and_show_payment_methods(admin: Admin, services: Services) -> None:
    status, plain = await admin.call("POST", "/items", "business_admin", EARPHONES)
    assert status == 201, plain
    assert (plain["pay_methods"], plain["price_cents"]) == ("points", None)

    update = {k: v for k, v in EARPHONES.items() if k != "code"}
    status, mixed = await admin.call(
        "PUT",
        "/items/5101",
        "admin",
        {
            **update,
            "cash_cents": 500,
            "pay_methods": "points_cash,cash",
            "price_cents": 9900,
        },
    )
    assert status == 200, mixed
    assert (mixed["pay_methods"], mixed["price_cents"], mixed["cash_cents"]) == (
        "points_cash,cash",
        9900,
        500,
    )
    offered = await services.db.read(
        lambda conn: pay_methods.offered_by(
            conn, conn.execute(select(item.c.id).where(item.c.code == "5101")).scalar_one()
        )
    )
    assert offered == ("points_cash", "cash")
    status, shown = await admin.call("GET", "/items/5101", "finance")
    assert status == 200 and shown == mixed

    status, refused = await admin.call(
        "PUT", "/items/5101", "admin", {**update, "pay_methods": "cash"}
    )
    assert status == 422 and "price_cents" in refused["detail"]
    status, refused = await admin.call(
        "PUT", "/items/5101", "admin", {**update, "pay_methods": "points,barter"}
    )
    assert status == 422 and "barter" in refused["detail"]
    status, refused = await admin.call(  # §3.5.6: one points price, one of the two methods
        "PUT",
        "/items/5101",
        "admin",
        {**update, "cash_cents": 500, "pay_methods": "points,points_cash"},
    )
    assert status == 422 and "one of them" in refused["detail"]
    status, bad = await admin.call("PUT", "/items/5101", "admin", {**update, "pay_methods": "A B"})
    assert status == 400 and "pay_methods" in bad["detail"]
    status, same = await admin.call("GET", "/items/5101", "admin")
    assert same == mixed  # refused updates changed nothing
