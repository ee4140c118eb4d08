"""Back-office statements and reports (issue 16 §1; §6.3): finance approves a statement the
merchant confirmed and marks it paid; statement and points-cost reports download."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from aiohttp.test_utils import TestClient

from core.platform.clock import epoch
from core.settlement import settlement, statements
from pointshall.bootstrap import Services
from tests.support.console_helpers import Shops, console_shops
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


@dataclass(frozen=True)
class World:
    tokens: dict[str, str]
    shops: Shops


@pytest.fixture
async def world(services: Services, tmp_path: Path) -> World:
    shops = await console_shops(services, tmp_path)
    return World(await staff_tokens(services), shops)


@pytest.fixture
async def client(services: Services, world: World) -> AsyncIterator[TestClient]:
    async with office_client(services) as c:
        yield c


async def status_of(services: Services, statement_id: int) -> str:
    view = await services.db.read(lambda conn: settlement.statement_by_id(conn, statement_id))
    assert view is not None
    return view.status


async def test_finance_approves_a_confirmed_statement_then_pays_it(
    client: TestClient, services: Services, world: World
) -> None:
    sid = world.shops.statement_a
    await ops_login(client, world.tokens["finance"])
    status, text = await page(client, f"{OPS}/statements")
    assert status == 200 and "咖啡时光" in text and "星光影城" in text and "待确认" in text
    status, text = await page(client, f"{OPS}/statements/{sid}")
    assert 'id="approve"' not in text and "等待商户确认后才能审核" in text
    assert f"voucher:{world.shops.used_a.no}" in text and 'id="amount">2.00' in text
    status, text = await submit(client, f"{OPS}/statements/{sid}/approve", {})
    assert status == 409 and alert(text) == "结算单当前为“draft”,不能执行此操作。"
    now = epoch(services.clock.now())
    await services.db.write(
        lambda conn: statements.move(
            conn, sid, "confirm", by="console:owner", now=now, by_kind="staff"
        )
    )
    status, text = await page(client, f"{OPS}/statements/{sid}")
    assert 'id="approve"' in text
    status, text = await submit(client, f"{OPS}/statements/{sid}/approve", {})
    assert status == 200 and flash(text) == f"结算单#{sid}已审核通过。"
    assert 'id="status">财务已审核' in text and 'id="pay"' in text
    status, text = await submit(client, f"{OPS}/statements/{sid}/pay", {})
    assert status == 200 and 'id="status">已付款' in text
    assert await status_of(services, sid) == "paid"
    assert [a for _, a, _ in await actions(services, f"statement:{sid}")] == [
        "statement_draft",
        "statement_confirm",
        "statement_approve",
        "statement_pay",
    ]


async def test_an_admin_reads_statements_but_finance_alone_moves_them(
    client: TestClient, services: Services, world: World
) -> None:
    sid = world.shops.statement_b
    now = epoch(services.clock.now())
    await services.db.write(
        lambda conn: statements.move(conn, sid, "confirm", by="m", now=now, by_kind="staff")
    )
    await ops_login(client, world.tokens["admin"])
    status, text = await page(client, f"{OPS}/statements/{sid}")
    assert status == 200 and 'id="approve"' not in text and 'id="report-xlsx"' in text
    status, _ = await submit(client, f"{OPS}/statements/{sid}/approve", {})
    assert status == 403
    assert await status_of(services, sid) == "confirmed"
    for role in ("business_admin", "support"):
        await ops_login(client, world.tokens[role])
        assert (await page(client, f"{OPS}/statements"))[0] == 403
        assert (await page(client, f"{OPS}/reports"))[0] == 403


async def test_statements_filter_by_period_and_merchant(client: TestClient, world: World) -> None:
    await ops_login(client, world.tokens["admin"])
    status, text = await page(client, f"{OPS}/statements?merchant=m2")
    assert status == 200 and "星光影城" in text and "咖啡时光" not in text
    status, text = await page(client, f"{OPS}/statements?period=2026-11")
    assert "咖啡时光" in text
    status, text = await page(client, f"{OPS}/statements?period=2026-10")
    assert "暂无记录" in text
    status, text = await page(client, f"{OPS}/statements?period=26-11")
    assert status == 400 and alert(text) == "请检查以下内容:账期。"


async def test_reports_download_and_parse(client: TestClient, world: World) -> None:
    sid = world.shops.statement_a
    await ops_login(client, world.tokens["finance"])
    resp = await client.get(f"{OPS}/statements/{sid}/report.csv")
    assert resp.status == 200 and resp.content_type == "text/csv"
    assert 'filename="statement-M1-2026-11.csv"' in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    assert [r["ref"] for r in rows] == [f"voucher:{world.shops.used_a.no}"]
    resp = await client.get(f"{OPS}/statements/{sid}/report.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(await resp.read()), read_only=True)
    assert "statement" in book.sheetnames
    status, text = await page(client, f"{OPS}/reports")
    assert status == 200 and 'value="2026-10"' in text
    resp = await client.get(f"{OPS}/reports/points-cost?period=2026-11&format=csv")
    assert resp.status == 200
    body = (await resp.read()).decode("utf-8-sig")
    assert "merchant" in body and "points" in body
    resp = await client.get(f"{OPS}/reports/points-cost?period=2026-11")
    assert resp.content_type.endswith("spreadsheetml.sheet")
    status, text = await page(client, f"{OPS}/reports/points-cost?period=2026-13&format=pdf")
    assert status == 400 and alert(text) == "请检查以下内容:账期, 格式。"
