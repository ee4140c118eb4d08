"""Back-office phone top-up pages and the reconciliation download (issue 16 §1–§3, seed §1
"积分兑换话费"): staff list top-ups by status and see one with its history; business admins
and admins retry a stalled one (support only reads, finance neither); a finished one is
refused; the reports page downloads the month's reconciliation as XLSX and CSV with the
staff member's headers. Both databases, through the pages."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import Connection

from api.admin.app import all_routes
from console.backoffice.access import CAN
from core.platform.audit import entries as audit_entries
from core.platform.clock import epoch
from core.recharge import topups
from core.recharge.errors import RechargeUnavailable
from core.recharge.gateway import FAILED, Recharge
from core.recharge.topups import RechargePolicy, TopupView
from core.settlement import report_texts
from pointshall.bootstrap import Services
from tests.support.helpers import fund, redeem_paid, seed_catalog
from tests.support.office import (
    OPS,
    alert,
    flash,
    office_client,
    ops_login,
    page,
    staff_tokens,
    submit,
)

pytestmark = pytest.mark.filterwarnings("ignore::aiohttp.web_exceptions.NotAppKeyWarning")
ALICE, BOB = "+8613800138000", "+8613900139000"
CREDIT = "1001"
ONE_TRY = RechargePolicy(max_attempts=1)


@dataclass(frozen=True)
class Books:
    tokens: dict[str, str]
    stalled: str
    failed: str


async def _buy(services: Services, msisdn: str) -> str:
    paid = await services.db.write(
        partial(redeem_paid, services=services, msisdn=msisdn, code=CREDIT)
    )
    return paid.order.no


async def _topup(services: Services, no: str) -> TopupView:
    found = await services.db.read(partial(topups.by_order, no=no))
    assert found is not None
    return found


@pytest.fixture
async def books(services: Services, tmp_path: Path) -> Books:
    """Alice's top-up ran out of tries (``stalled``); Bob's was refused by the provider
    (``failed``, refunded) — as the recharge job leaves them (``core.recharge.topups``)."""
    await seed_catalog(services)
    await fund(services, tmp_path, {ALICE: 20_000, BOB: 20_000})
    stalled, failed = await _buy(services, ALICE), await _buy(services, BOB)
    now = epoch(services.clock.now())
    s = await _topup(services, stalled)
    f = await _topup(services, failed)

    def unit(conn: Connection) -> None:
        topups.record_no_answer(
            conn, s.id, "requested", RechargeUnavailable("provider down"), now, ONE_TRY
        )
        refused = Recharge("", f.key, f.msisdn, f.amount_cents, FAILED, "number_not_rechargeable")
        topups.record_answer(conn, f.id, refused, now, ONE_TRY)

    await services.db.write(unit)
    assert (await _topup(services, stalled)).status == "stalled"
    assert (await _topup(services, failed)).status == "failed"
    return Books(await staff_tokens(services), stalled, failed)


@pytest.fixture
async def client(services: Services, books: Books) -> AsyncIterator[TestClient]:
    async with office_client(services) as c:
        yield c


def test_the_pages_have_the_roles_of_the_admin_api_topups_routes() -> None:
    routes = {(r.method, r.path): r.roles for r in all_routes()}
    assert routes[("GET", "/topups")] == CAN["orders.read"]
    assert routes[("GET", "/topups/{no}")] == CAN["orders.read"]
    assert routes[("POST", "/topups/{no}/retry")] == CAN["orders.write"]
    assert routes[("GET", "/reports/reconcile")] == CAN["reports.read"]


@pytest.mark.parametrize(
    ("role", "sees", "retries"),
    [
        ("business_admin", True, True),
        ("admin", True, True),
        ("support", True, False),
        ("finance", False, False),
    ],
)
async def test_who_sees_and_who_retries(
    client: TestClient, services: Services, books: Books, role: str, sees: bool, retries: bool
) -> None:
    await ops_login(client, books.tokens[role])
    status, text = await page(client, f"{OPS}/topups")
    assert status == (200 if sees else 403)
    assert (f'href="{OPS}/topups"' in text) is sees  # the menu
    status, text = await page(client, f"{OPS}/topups/{books.stalled}")
    assert status == (200 if sees else 403)
    assert ('id="retry"' in text) is retries
    status, text = await submit(client, f"{OPS}/topups/{books.stalled}/retry", {})
    after = await _topup(services, books.stalled)
    if retries:
        assert status == 200 and flash(text) == f"订单{books.stalled}的充值已重新提交。"
        assert (after.status, after.attempts, after.next_attempt_at) == (
            "requested",
            0,
            epoch(services.clock.now()),
        )
        rows = await services.db.read(partial(audit_entries, subject=f"order {books.stalled}"))
        assert [(r.actor, r.action, r.result) for r in rows] == [(role, "topup_retry", "stalled")]
    else:
        assert status == 403 and after.status == "stalled"


async def test_the_list_shows_stalled_and_failed_top_ups_by_status(
    client: TestClient, books: Books
) -> None:
    await ops_login(client, books.tokens["support"])
    status, text = await page(client, f"{OPS}/topups")
    assert status == 200
    assert books.stalled in text and books.failed in text
    assert "已暂停(待人工重试): 1" in text and "充值失败: 1" in text
    status, text = await page(client, f"{OPS}/topups?status=stalled")
    assert status == 200 and books.stalled in text and books.failed not in text
    status, text = await page(client, f"{OPS}/topups?status=succeeded")
    assert status == 200 and "暂无记录" in text
    status, text = await page(client, f"{OPS}/topups?status=bogus&page=x")
    assert status == 200 and books.stalled in text  # an unknown status is all of them
    status, text = await page(client, f"{OPS}/topups/{books.failed}")
    assert status == 200 and 'id="retry"' not in text
    assert "number_not_rechargeable" in text
    assert re.search(r'<td id="status">充值失败</td>', text)
    status, text = await page(client, f"{OPS}/topups/{books.stalled}")
    assert "attempt 1: provider down" in text  # the history
    status, _ = await page(client, f"{OPS}/topups/000000000000")
    assert status == 404
    status, text = await page(client, f"{OPS}/orders/{books.stalled}")
    assert status == 200 and f'href="{OPS}/topups/{books.stalled}"' in text


async def test_retry_moves_a_stalled_top_up_and_refuses_a_finished_one(
    client: TestClient, services: Services, books: Books
) -> None:
    await ops_login(client, books.tokens["admin"])
    status, text = await submit(client, f"{OPS}/topups/{books.stalled}/retry", {})
    assert status == 200 and 'id="status">待充值<' in text
    assert "retry by admin" in text  # its history
    status, text = await page(client, f"{OPS}/topups?status=requested")
    assert books.stalled in text
    status, text = await submit(client, f"{OPS}/topups/{books.failed}/retry", {})
    assert status == 409
    assert alert(text) == f"订单{books.failed}的充值已结束(“failed”),无需重试。"
    assert (await _topup(services, books.failed)).status == "failed"
    status, _ = await submit(client, f"{OPS}/topups/000000000000/retry", {})
    assert status == 404


async def test_the_reconciliation_downloads_as_xlsx_and_csv_in_the_staff_language(
    client: TestClient, books: Books
) -> None:
    await ops_login(client, books.tokens["finance"])
    status, text = await page(client, f"{OPS}/reports")
    assert status == 200 and 'id="reconcile"' in text
    found = re.search(r'name="period" type="month" value="[0-9-]+" max="([0-9-]{7})"', text)
    assert found is not None
    period = found.group(1)  # this month: the top-ups' refund is in it
    resp = await client.get(f"{OPS}/reports/reconcile?period={period}&format=xlsx")
    assert resp.status == 200 and resp.content_type.endswith("spreadsheetml.sheet")
    assert f'filename="reconcile-{period}.xlsx"' in resp.headers["Content-Disposition"]
    assert (await resp.read())[:4] == b"PK\x03\x04"
    resp = await client.get(f"{OPS}/reports/reconcile?period={period}&format=csv")
    assert resp.status == 200 and resp.content_type == "text/csv"
    rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    assert tuple(rows[0]) == report_texts.RECONCILE_HEADER["zh"]
    assert len(rows) > 2
    await client.get(f"/console/lang/en?next={OPS}/reports")
    resp = await client.get(f"{OPS}/reports/reconcile?period={period}&format=csv")
    rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    assert tuple(rows[0]) == report_texts.RECONCILE_HEADER["en"]
    status, text = await page(client, f"{OPS}/reports/reconcile?period=2026-13&format=pdf")
    assert status == 400 and "Month" in alert(text)


async def test_support_may_not_download_the_reconciliation(
    client: TestClient, books: Books
) -> None:
    await ops_login(client, books.tokens["support"])
    status, _ = await page(client, f"{OPS}/reports/reconcile?period=2026-11")
    assert status == 403
