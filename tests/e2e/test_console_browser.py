"""The merchant console in a real browser (issue 8): Playwright driving Debian's headless
``chromium`` against the app listening on a free port.

An owner logs in with the SMS code (read from the outbox table), verifies a voucher,
confirms the month's statement and downloads the bill, which must parse. A screenshot
of every page goes to ``test-artifacts/console/``. The browser is never downloaded:
``.ci/run`` installs Debian's ``chromium``; without it this test fails under
``CI=true`` and is skipped elsewhere.
"""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from pathlib import Path

import openpyxl
import pytest
from aiohttp import web

from pointshall.app import build_app
from pointshall.bootstrap import Services
from tests.support.browser import CHROMIUM, unavailable
from tests.support.console_helpers import OWNER_A, Shops, console_shops, last_code

pytestmark = pytest.mark.filterwarnings("ignore::aiohttp.web_exceptions.NotAppKeyWarning")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"


def _chromium_installed() -> bool:
    return Path(CHROMIUM).exists()


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    if not _chromium_installed():
        unavailable(f"no Debian chromium at {CHROMIUM}: apt-get install chromium")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def served(services: Services, tmp_path: Path) -> AsyncIterator[tuple[str, Shops]]:
    """The whole app on 127.0.0.1 and a free port, as ``pointshall serve`` runs it."""
    shops = await console_shops(services, tmp_path)
    services.settings.public_url = None
    runner = web.AppRunner(build_app(services, drain=False), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}", shops
    finally:
        await runner.cleanup()


async def test_an_owner_logs_in_verifies_confirms_and_downloads_the_bill(
    browser: object, served: tuple[str, Shops], services: Services, tmp_path: Path
) -> None:
    from playwright.async_api import Browser, expect

    assert isinstance(browser, Browser)
    base, shops = served
    backend = services.settings.database_url.split(":")[0].split("+")[0]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = await browser.new_context(accept_downloads=True, locale="zh-CN")
    page = await context.new_page()

    async def shot(name: str) -> None:
        await page.screenshot(path=str(ARTIFACTS / f"{backend}-{name}.png"), full_page=True)

    await page.goto(f"{base}/console/")
    await expect(page.locator("h1")).to_have_text("商户员工登录")
    await shot("01-login")
    await page.fill("input[name=phone]", "135 0013 5001")
    await page.click("button[type=submit]")
    await expect(page.locator("input[name=code]")).to_be_visible()
    await shot("02-code")
    code = await last_code(services, OWNER_A)
    assert code is not None
    await page.fill("input[name=code]", code)
    await page.click("main button[type=submit]")
    await expect(page.locator("table#orders")).to_contain_text(shops.open_a.no)
    await shot("03-orders")

    await page.click("text=核销")
    await page.fill("input[name=order_no]", shops.open_a.no)
    await page.fill("input[name=password]", shops.open_a.password)
    await page.click("main button[type=submit]")
    await expect(page.locator("[role=status]")).to_contain_text("核销成功")
    await shot("04-verified")

    await page.click("header >> text=结算单")
    await expect(page.locator("svg.chart")).to_be_visible()
    await shot("05-statements")
    await page.click("table#statements >> text=详情")
    await expect(page.locator("#status")).to_have_text("待确认")
    await shot("06-statement")
    await page.click("#confirm")
    await expect(page.locator("#status")).to_have_text("已确认")
    await shot("07-confirmed")

    async with page.expect_download() as xlsx_download:
        await page.click("#bill-xlsx")
    xlsx = tmp_path / "bill.xlsx"
    await (await xlsx_download.value).save_as(xlsx)
    book = openpyxl.load_workbook(xlsx, read_only=True)
    summary = {r[0]: r[1] for r in book["statement"].iter_rows(values_only=True) if r and r[0]}
    assert summary["status"] == "confirmed" and summary["points"] == 800
    async with page.expect_download() as csv_download:
        await page.click("#bill-csv")
    bill = tmp_path / "bill.csv"
    await (await csv_download.value).save_as(bill)
    with bill.open(encoding="utf-8") as rows:
        lines = list(csv.DictReader(rows))
    assert [line["ref"] for line in lines] == [f"voucher:{shops.used_a.no}"]

    await page.click("header >> text=核销员")
    await expect(page.locator("table#staff")).to_contain_text(OWNER_A)
    await shot("08-staff")
    await page.click("header >> text=商品申报")
    await expect(page.locator("h1")).to_have_text("商品申报")
    await shot("09-goods")
    await page.click("header >> text=English")
    await expect(page.locator("h1")).to_have_text("Goods for review")
    await shot("10-goods-en")
    await page.click("header >> text=Log out")
    await expect(page.locator("h1")).to_have_text("Merchant staff login")
    await shot("11-logged-out")
    await context.close()
