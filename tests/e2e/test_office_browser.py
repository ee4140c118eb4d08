"""The back office in a real browser (issue 16 §1): Playwright driving Debian's headless
``chromium`` against the whole app on a free port, as ``pointshall serve`` runs it.

For each operator role, a member logs in with their token and does the work of the pages
the role may use, end to end (clicking the page's own forms); the pages it may not use answer
the refusal page, and a form it may not post is refused even when posted by hand with the
session's CSRF token. A phone-sized run checks that the main pages never scroll sideways.
Screenshots of every step go to ``test-artifacts/office/`` (the path is printed). The
browser is never downloaded: without Debian's chromium this fails under ``CI=true`` and is
skipped elsewhere.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from PIL import Image
from sqlalchemy import Connection, select

from core.backoffice import decisions, operator_staff
from core.feedback import messages, questions
from core.merchants import admission
from core.platform.clock import epoch
from core.platform.schema import item
from core.points import accounts, adjustments
from core.settlement import settlement, statements
from core.subscribers.subscribers import get_or_create
from pointshall.app import build_app
from pointshall.bootstrap import Services
from tests.support.admin_helpers import buy_flask
from tests.support.browser import CHROMIUM, unavailable
from tests.support.console_helpers import Shops, console_shops
from tests.support.merchant_helpers import ALICE
from tests.support.office import staff_tokens

pytestmark = pytest.mark.filterwarnings("ignore::aiohttp.web_exceptions.NotAppKeyWarning")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "office"
OPS = "/console/ops"
REFUSED = "您没有权限访问此页面"
PHONE = {"width": 390, "height": 844}


def _chromium_installed() -> bool:
    return Path(CHROMIUM).exists()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
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


@dataclass(frozen=True)
class World:
    base: str
    backend: str
    tokens: dict[str, str]
    shops: Shops
    flask: str
    message: int
    question: int
    adjustment: int


@pytest.fixture
async def world(services: Services, tmp_path: Path) -> AsyncIterator[World]:
    """The merchant mall with a paid parcel, a message, a question, a merchant application,
    an adjustment support proposed, statement A confirmed by its merchant; one member per
    role; the whole app listening on 127.0.0.1."""
    shops = await console_shops(services, tmp_path)
    flask = await buy_flask(services)
    tokens = await staff_tokens(services)
    now = epoch(services.clock.now())

    def unit(conn: Connection) -> tuple[int, int, int]:
        sub = get_or_create(conn, ALICE, now)
        message = messages.leave(
            conn, subscriber_id=sub.id, channel="sms", reply_to=ALICE, text="快递到哪了?", now=now
        )
        flask_id = conn.execute(select(item.c.id).where(item.c.code == "2001")).scalar_one()
        question = questions.ask(conn, sub.id, int(flask_id), "能装热水吗?", now)
        admission.apply(
            conn, code="M9", name_zh="新店", name_en="New shop", applicant="+8613900139009", now=now
        )
        support = operator_staff.find(conn, "support")  # as the page does (issue 13 §3)
        proposed = decisions.propose_adjustment(
            conn, support, msisdn=ALICE, points=500, reason="goodwill", now=now
        )
        statements.move(conn, shops.statement_a, "confirm", by="m1", now=now, by_kind="staff")
        return message, question, proposed.id

    message, question, adjustment = await services.db.write(unit)
    services.settings.public_url = None
    runner = web.AppRunner(build_app(services, drain=False), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    backend = services.settings.database_url.split(":")[0].split("+")[0]
    try:
        yield World(
            f"http://127.0.0.1:{port}",
            backend,
            tokens,
            shops,
            flask,
            message,
            question,
            adjustment,
        )
    finally:
        await runner.cleanup()


class Desk:
    """One member's browser tab: log in, open pages, take screenshots."""

    def __init__(self, page: Any, world: World, role: str, label: str | None = None) -> None:
        self.page = page
        self.world = world
        self.role = role
        self.label = label or role

    async def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.world.backend}-{self.label}-{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)

    async def login(self) -> None:
        from playwright.async_api import expect

        await self.page.goto(f"{self.world.base}{OPS}/login")
        await expect(self.page.locator("h1")).to_have_text("运营人员登录")
        await self.page.fill("input[name=token]", self.world.tokens[self.role])
        await self.page.click("main button[type=submit]")
        await expect(self.page.locator("#ops-nav")).to_contain_text(self.role)

    async def open(self, path: str) -> int:
        response = await self.page.goto(f"{self.world.base}{OPS}{path}")
        assert response is not None
        return int(response.status)

    async def refused(self, *paths: str) -> None:
        for path in paths:
            status = await self.open(path)
            assert status == 403, (self.role, path, status)
            assert REFUSED in await self.page.inner_text("main"), (self.role, path)

    async def post_by_hand(self, path: str, form: dict[str, str]) -> int:
        """Post ``form`` with the session's CSRF token, as a forged button would."""
        token = await self.page.get_attribute("input[name=csrf]", "value")
        assert token
        response = await self.page.request.post(
            f"{self.world.base}{OPS}{path}", form={**form, "csrf": token}, max_redirects=0
        )
        return int(response.status)

    async def menu(self) -> list[str]:
        return [t.strip() for t in await self.page.locator("#ops-nav > a").all_inner_texts()]


async def balance(services: Services) -> str:
    """Alice's balance as the pages show it (``42,400``)."""

    def q(conn: Connection) -> int:
        card = accounts.card(conn, ALICE, 0)
        assert card.account is not None
        return card.account.balance

    return f"{await services.db.read(q):,}"


async def _desk(browser: Any, world: World, role: str, **options: Any) -> tuple[Any, Desk]:
    context = await browser.new_context(accept_downloads=True, locale="zh-CN", **options)
    return context, Desk(await context.new_page(), world, role)


async def test_a_business_admin_ships_edits_an_item_and_answers(
    browser: Any, world: World, services: Services, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    context, desk = await _desk(browser, world, "business_admin")
    page = desk.page
    await desk.login()
    assert page.url.endswith(f"{OPS}/orders")
    assert await desk.menu() == [
        "订单", "话费充值", "商品", "分类", "品牌", "活动", "公告", "轮播图", "广告",
        "留言", "商品咨询", "商品评价", "商品审核", "商户入驻申请", "商户",
    ]  # fmt: skip
    await expect(page.locator("table#orders")).to_contain_text(world.flask)
    await desk.shot("01-orders")
    await page.click(f"table#orders >> text={world.flask}")
    await expect(page.locator("#status")).to_have_text("已支付")
    await page.fill("#ship input[name=carrier]", "顺丰速运")
    await page.fill("#ship input[name=tracking_no]", "SF1234567890")
    await page.click("#ship button[type=submit]")
    await expect(page.locator("#status")).to_have_text("已发货")
    await expect(page.locator("#history")).to_contain_text("顺丰速运 SF1234567890")
    await desk.shot("02-order-shipped")
    await page.click("#deliver")
    await expect(page.locator("#status")).to_have_text("已送达")

    await page.click("#ops-nav >> text=商品")
    await page.click("table#items >> text=2001")
    await page.fill("#item-form input[name=stock]", "42")
    await page.uncheck("#item-form input[name=pay_methods][value=points]")  # §3.5.6: one of the two
    await page.check("#item-form input[name=pay_methods][value=points_cash]")
    await page.fill("#item-form input[name=cash]", "9.90")
    await page.click("#save-item")
    await expect(page.locator("[role=status]")).to_have_text("商品2001已保存。")
    await expect(page.locator("#stock")).to_have_text("42")
    picture = tmp_path / "flask.png"
    Image.new("RGB", (240, 160), (31, 79, 143)).save(picture)
    await page.set_input_files("#picture input[type=file]", str(picture))
    await page.click("#picture button[type=submit]")
    await expect(page.locator("[role=status]")).to_have_text("图片已保存。")
    await expect(page.locator("#picture img")).to_be_visible()
    await desk.shot("03-item-edit")
    await page.click("#unlist")
    await expect(page.locator("#listing")).to_have_text("已下架")

    await page.click("#ops-nav >> text=商品咨询")
    await page.fill(f"#question-{world.question} input[name=text]", "可以,耐温100°C。")
    await page.click(f"#question-{world.question} button[type=submit]")
    await expect(page.locator("[role=status]")).to_contain_text("已回答")
    await desk.shot("04-questions")
    await page.click("#ops-nav >> text=商户入驻申请")
    await page.click("table#applications >> text=开始初审")
    await expect(page.locator("table#applications")).to_contain_text("初审中")
    await desk.shot("05-applications")

    await desk.refused(
        "/subscribers", "/adjustments", "/statements", "/reports", "/staff", "/audit"
    )
    await desk.open("/merchants/M1")
    assert await desk.post_by_hand("/merchants/M1/rate", {"yuan": "9"}) == 403
    await context.close()


async def test_an_admin_approves_sets_a_rate_and_adds_staff(
    browser: Any, world: World, services: Services
) -> None:
    from playwright.async_api import expect

    context, desk = await _desk(browser, world, "admin")
    page = desk.page
    await desk.login()
    assert len(await desk.menu()) == 21  # every page
    before = await balance(services)
    await desk.open("/adjustments?status=proposed")
    row = page.locator(f"#adjustment-{world.adjustment}")
    await row.locator("button", has_text="通过").click()
    await expect(page.locator("[role=status]")).to_contain_text("已批准并入账")
    await desk.shot("01-adjustments")
    await desk.open("/subscribers?msisdn=13800138000")
    after = await balance(services)
    assert int(after.replace(",", "")) == int(before.replace(",", "")) + 500
    await expect(page.locator("#balance")).to_have_text(after)
    await desk.shot("02-subscriber")

    await desk.open("/merchants/M1")
    await page.fill("#rate input[name=yuan]", "3.20")
    await page.click("#rate button[type=submit]")
    await expect(page.locator("[role=status]")).to_have_text("商户M1的费率已更新。")
    await page.fill("#add-terminal input[name=terminal_id]", "T-A9")
    await page.click("#add-terminal button[type=submit]")
    await expect(page.locator("#terminal-key .token")).to_be_visible()
    await desk.shot("03-merchant")

    await page.click("#ops-nav >> text=员工与角色")
    await page.fill("#add-staff input[name=name]", "wang.fang")
    await page.select_option("#add-staff select[name=role]", "finance")
    await page.click("#add-staff button[type=submit]")
    await expect(page.locator("#new-token .token")).to_contain_text("psa_")
    await desk.shot("04-staff")
    await page.click("#ops-nav >> text=审计日志")
    await page.fill("#audit-filter input[name=action]", "staff_add")
    await page.click("#audit-filter button[type=submit]")
    await expect(page.locator("table#audit")).to_contain_text("staff:wang.fang")
    await desk.shot("05-audit")

    await desk.open(f"/statements/{world.shops.statement_a}")
    await expect(page.locator("#status")).to_have_text("已确认")
    assert await page.locator("#approve").count() == 0  # finance approves, not admins
    assert await desk.post_by_hand(f"/statements/{world.shops.statement_a}/approve", {}) == 403
    await context.close()
    view = await services.db.read(
        lambda conn: settlement.statement_by_id(conn, world.shops.statement_a)
    )
    assert view is not None and view.status == "confirmed"


async def test_finance_approves_and_pays_a_statement_and_downloads_reports(
    browser: Any, world: World, services: Services, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    context, desk = await _desk(browser, world, "finance")
    page = desk.page
    await desk.login()
    assert page.url.endswith(f"{OPS}/subscribers")
    assert await desk.menu() == [
        "用户查询", "积分调整", "商品", "分类", "品牌", "活动", "公告", "轮播图", "广告",
        "商户", "结算单", "报表", "审计日志",
    ]  # fmt: skip
    await page.fill("#lookup input[name=msisdn]", "138 0013 8000")
    await page.click("#lookup button[type=submit]")
    await expect(page.locator("#balance")).to_have_text(await balance(services))
    await expect(page.locator("table#lots")).to_be_visible()
    await desk.shot("01-subscriber")

    await page.click("#ops-nav >> text=结算单")
    await page.click(f"table#statements >> a[href$='/statements/{world.shops.statement_a}']")
    await expect(page.locator("#status")).to_have_text("已确认")
    await page.click("#approve")
    await expect(page.locator("#status")).to_have_text("财务已审核")
    await page.click("#pay")
    await expect(page.locator("#status")).to_have_text("已付款")
    await desk.shot("02-statement")
    async with page.expect_download() as download:
        await page.click("#report-csv")
    saved = tmp_path / "statement.csv"
    await (await download.value).save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert [r["ref"] for r in rows] == [f"voucher:{world.shops.used_a.no}"]

    await page.click("#ops-nav >> text=报表")
    await page.fill("#points-cost input[name=period]", "2026-11")
    await page.select_option("#points-cost select[name=format]", "csv")
    async with page.expect_download() as download:
        await page.click("#points-cost button[type=submit]")
    cost = tmp_path / "cost.csv"
    await (await download.value).save_as(cost)
    assert "merchant" in cost.read_text(encoding="utf-8-sig")
    await desk.shot("03-reports")

    await desk.refused("/orders", f"/orders/{world.flask}", "/items/new", "/messages", "/staff")
    await desk.open("/adjustments")
    assert (
        await desk.post_by_hand("/adjustments", {"msisdn": ALICE, "points": "1", "reason": "x"})
        == 403
    )
    await context.close()
    view = await services.db.read(
        lambda conn: settlement.statement_by_id(conn, world.shops.statement_a)
    )
    assert view is not None and view.status == "paid"


async def test_support_looks_up_proposes_and_replies(
    browser: Any, world: World, services: Services
) -> None:
    from playwright.async_api import expect

    context, desk = await _desk(browser, world, "support")
    page = desk.page
    await desk.login()
    before = await balance(services)
    assert page.url.endswith(f"{OPS}/orders")
    await desk.open("/subscribers?msisdn=%2B8613800138000")
    await page.fill("#propose input[name=points]", "-200")
    await page.fill("#propose input[name=reason]", "重复发放")
    await page.click("#propose button[type=submit]")
    await expect(page.locator("[role=status]")).to_contain_text("等待另一名员工审批")
    await expect(page.locator("#balance")).to_have_text(await balance(services))  # not yet
    await desk.shot("01-subscriber-proposed")
    await page.click("#ops-nav >> text=留言")
    await page.fill(f"#message-{world.message} input[name=text]", "明天送达。")
    await page.click(f"#message-{world.message} button[type=submit]")
    await expect(page.locator(f"#message-{world.message}")).to_contain_text("明天送达。")
    await desk.shot("02-messages")
    await page.click("header >> text=English")
    await expect(page.locator("h1")).to_have_text("Messages")
    await desk.shot("03-messages-en")
    await page.click("header >> text=中文")
    await expect(page.locator("h1")).to_have_text("留言")
    await desk.open(f"/orders/{world.flask}")
    assert await page.locator("#ship").count() == 0 and await page.locator("#refund").count() == 0
    assert await desk.post_by_hand(f"/orders/{world.flask}/refund", {}) == 403
    await desk.refused("/statements", "/staff", "/audit", "/items/new", "/merchants", "/reviews")
    found = await services.db.read(lambda conn: adjustments.listing(conn, status="proposed"))
    assert [(a.points, a.proposed_by) for a in found] == [(-200, "support"), (500, "support")]
    assert await balance(services) == before
    await context.close()


async def test_the_main_pages_fit_a_phone(
    browser: Any, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    from playwright.async_api import expect

    context, desk = await _desk(
        browser, world, "admin", viewport=PHONE, is_mobile=True, has_touch=True
    )
    desk.label = "phone"
    page = desk.page
    await desk.login()
    for name, path in (
        ("orders", "/orders"),
        ("order", f"/orders/{world.flask}"),
        ("item-edit", "/items/2001"),
        ("subscriber", "/subscribers?msisdn=%2B8613800138000"),
        ("statement", f"/statements/{world.shops.statement_a}"),
        ("audit", "/audit"),
    ):
        assert await desk.open(path) == 200, path
        await expect(page.locator("h1")).to_be_visible()
        wide = await page.evaluate("document.documentElement.scrollWidth")
        assert wide <= PHONE["width"], (path, wide)
        await desk.shot(name)
    await context.close()
    with capsys.disabled():
        print(f"\nback-office screenshots: {ARTIFACTS}")
