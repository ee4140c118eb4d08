"""Back-office order pages (issue 16 §1, §2.2.15): search by number, phone, status and date;
the detail with its status history; ship, deliver and refund where allowed, by role."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import Connection

from core.orders import orders
from core.points import accounts
from core.points.doctor import examine
from pointshall.bootstrap import Services
from tests.support.admin_helpers import buy_flask
from tests.support.helpers import fund, redeem_paid, seed_catalog
from tests.support.merchant_helpers import ALICE, buy
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
BOB = "+8613900139000"


@dataclass(frozen=True)
class Shop:
    tokens: dict[str, str]
    flask: str
    voucher: str
    credit: str


@pytest.fixture
async def shop(services: Services, tmp_path: Path) -> Shop:
    await seed_catalog(services)
    await fund(services, tmp_path, {ALICE: 50_000, BOB: 10_000})
    flask = await buy_flask(services)
    voucher = (await buy(services, "3001")).no
    credit = await services.db.write(lambda conn: redeem_paid(conn, services, BOB, "1001").order.no)
    return Shop(await staff_tokens(services), flask, voucher, credit)


@pytest.fixture
async def client(services: Services, shop: Shop) -> AsyncIterator[TestClient]:
    async with office_client(services) as c:
        yield c


async def balance(services: Services, msisdn: str) -> int:
    def q(conn: Connection) -> int:
        card = accounts.card(conn, msisdn, 0)
        assert card.account is not None
        return card.account.balance

    return await services.db.read(q)


async def status_of(services: Services, no: str) -> str:
    found = await services.db.read(lambda conn: orders.by_no(conn, no))
    assert found is not None
    return found.status


async def test_search_by_number_phone_status_and_date(client: TestClient, shop: Shop) -> None:
    await ops_login(client, shop.tokens["support"])
    status, text = await page(client, f"{OPS}/orders")
    assert status == 200
    assert all(no in text for no in (shop.flask, shop.voucher, shop.credit))
    status, text = await page(client, f"{OPS}/orders?no={shop.credit}")
    assert shop.credit in text and shop.flask not in text and "50元话费" in text
    status, text = await page(client, f"{OPS}/orders?no={shop.credit[:6]}")  # YYMMDD
    assert all(no in text for no in (shop.flask, shop.voucher, shop.credit))
    status, text = await page(client, f"{OPS}/orders?no=99")
    assert "暂无记录" in text
    status, text = await page(client, f"{OPS}/orders?phone=139%200013%209000")
    assert shop.credit in text and shop.voucher not in text
    status, text = await page(client, f"{OPS}/orders?status=voucher_issued")
    assert shop.voucher in text and shop.flask not in text and "已出券" in text
    status, text = await page(client, f"{OPS}/orders?from=2026-11-20&to=2026-11-20")
    assert shop.flask in text
    status, text = await page(client, f"{OPS}/orders?from=2026-11-21")
    assert status == 200 and shop.flask not in text and "暂无记录" in text
    status, text = await page(client, f"{OPS}/orders?phone=abc&from=2026-13-01&status=lost")
    assert status == 400 and alert(text) == "请检查以下内容:状态, 起始日期, 手机号。"


async def test_orders_are_paged(client: TestClient, services: Services, shop: Shop) -> None:
    def more(conn: Connection) -> list[str]:
        return [redeem_paid(conn, services, ALICE, "3002").order.no for _ in range(20)]

    made = await services.db.write(more)
    await ops_login(client, shop.tokens["admin"])
    status, text = await page(client, f"{OPS}/orders?phone=%2B8613800138000")
    assert status == 200 and made[-1] in text and made[0] in text and "第1页" in text
    assert shop.voucher not in text and 'rel="next"' in text and 'rel="prev"' not in text
    status, text = await page(client, f"{OPS}/orders?phone=%2B8613800138000&page=2")
    assert shop.flask in text and shop.voucher in text and made[0] not in text
    assert 'rel="next"' not in text and 'rel="prev"' in text


async def test_a_parcel_is_shipped_then_delivered_with_its_history(
    client: TestClient, services: Services, shop: Shop
) -> None:
    await ops_login(client, shop.tokens["business_admin"])
    where = f"{OPS}/orders/{shop.flask}"
    status, text = await page(client, where)
    assert status == 200 and 'id="ship"' in text and "1 Nanjing Road" in text
    assert 'id="refund"' in text
    status, text = await submit(client, f"{where}/ship", {"carrier": "", "tracking_no": "SF1"})
    assert status == 400 and alert(text) == "请检查以下内容:快递公司。"
    status, text = await submit(
        client, f"{where}/ship", {"carrier": "SF Express", "tracking_no": "SF1234567890"}
    )
    assert status == 200 and flash(text) == f"订单{shop.flask}已发货。"
    assert 'id="status">已发货' in text and "SF Express SF1234567890" in text
    assert 'id="refund"' not in text and 'id="deliver"' in text
    status, text = await submit(client, f"{where}/ship", {"carrier": "EMS", "tracking_no": "E1"})
    assert status == 409 and alert(text) == f"订单{shop.flask}当前为“shipped”,不能执行此操作。"
    status, text = await submit(client, f"{where}/refund", {})
    assert status == 409 and alert(text) == f"订单{shop.flask}当前状态不能退款。"
    status, text = await submit(client, f"{where}/deliver", {})
    assert status == 200 and 'id="status">已送达' in text
    history = text[text.index('id="history"') :]
    assert history.index("待验证") < history.index("已支付") < history.index("已发货")
    assert history.count("已送达") == 1
    assert await status_of(services, shop.flask) == "delivered"
    assert [a for _, a, _ in await actions(services, f"order:{shop.flask}")] == [
        "order_ship",
        "order_deliver",
    ]


async def test_a_voucher_is_refunded_once_and_the_ledger_agrees(
    client: TestClient, services: Services, shop: Shop
) -> None:
    before = await balance(services, ALICE)
    await ops_login(client, shop.tokens["admin"])
    where = f"{OPS}/orders/{shop.voucher}"
    status, text = await page(client, where)
    assert 'id="voucher">未使用' in text and 'id="ship"' not in text
    status, text = await submit(client, f"{where}/refund", {})
    assert status == 200 and flash(text) == f"订单{shop.voucher}已退款。"
    assert 'id="status">已退款' in text and 'id="voucher">已退款' in text
    assert await balance(services, ALICE) == before + 800
    status, text = await submit(client, f"{where}/refund", {})
    assert status == 409
    assert await balance(services, ALICE) == before + 800
    assert (await services.db.read(examine)).discrepancies == []
    assert ("admin", "order_refund", f"order:{shop.voucher}") in await actions(services)
    status, text = await page(client, f"{OPS}/orders/{shop.credit}")
    topup = f'id="topup"><a href="{OPS}/topups/{shop.credit}">待充值</a>'
    assert topup in text and 'id="refund"' not in text


async def test_support_reads_orders_but_moves_none(
    client: TestClient, services: Services, shop: Shop
) -> None:
    await ops_login(client, shop.tokens["support"])
    status, text = await page(client, f"{OPS}/orders/{shop.flask}")
    assert status == 200 and 'id="ship"' not in text and 'id="refund"' not in text
    for move, data in (
        ("ship", {"carrier": "SF", "tracking_no": "1"}),
        ("deliver", {}),
        ("refund", {}),
    ):
        status, text = await submit(client, f"{OPS}/orders/{shop.flask}/{move}", data)
        assert status == 403 and "您没有权限访问此页面" in text
    assert await status_of(services, shop.flask) == "paid"
    await ops_login(client, shop.tokens["finance"])
    assert (await page(client, f"{OPS}/orders"))[0] == 403
    assert (await page(client, f"{OPS}/orders/{shop.flask}"))[0] == 403
    status, _ = await page(client, f"{OPS}/orders/000000000000")
    assert status == 403  # the role is checked before the order is looked up
    await ops_login(client, shop.tokens["support"])
    assert (await page(client, f"{OPS}/orders/000000000000"))[0] == 404
