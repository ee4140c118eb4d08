"""Merchant console (issue 8, §3.4.3, §3.4.4, §3.6): login by SMS code, CSRF, sessions, pages."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import openpyxl
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Connection, func, select

from core.platform import audit
from core.platform.schema import item, outbox, statement, voucher
from core.platform.schema import orders as orders_table
from pointshall.app import build_app
from pointshall.bootstrap import Services
from tests.support.console_helpers import (
    OWNER_A,
    OWNER_B,
    VERIFIER_A,
    Shops,
    console_shops,
    csrf_of,
    last_code,
    login,
)
from tests.support.merchant_helpers import STRANGER, texts_to

pytestmark = pytest.mark.filterwarnings("ignore::aiohttp.web_exceptions.NotAppKeyWarning")


@pytest.fixture
async def shops(services: Services, tmp_path: Path) -> Shops:
    return await console_shops(services, tmp_path)


@pytest.fixture
async def client(services: Services, shops: Shops) -> AsyncIterator[TestClient]:
    services.settings.public_url = None  # plain http in tests: the cookie is not Secure
    async with TestClient(TestServer(build_app(services, drain=False))) as c:
        yield c


async def post(
    client: TestClient, path: str, data: dict[str, str], *, page: str
) -> tuple[int, str]:
    """Post a form the way a browser does: with the CSRF token of the page it is on."""
    token = await csrf_of(client, page)
    resp = await client.post(path, data={**data, "csrf": token}, allow_redirects=False)
    return resp.status, await resp.text()


async def voucher_of(services: Services, no: str) -> tuple[str, int]:
    def q(conn: Connection) -> tuple[str, int]:
        row = conn.execute(
            select(voucher.c.status, voucher.c.failed_attempts)
            .join(orders_table, orders_table.c.id == voucher.c.order_id)
            .where(orders_table.c.no == no)
        ).one()
        return str(row[0]), int(row[1])

    return await services.db.read(q)


async def statement_status(services: Services, sid: int) -> str:
    def q(conn: Connection) -> str:
        return str(
            conn.execute(select(statement.c.status).where(statement.c.id == sid)).scalar_one()
        )

    return await services.db.read(q)


async def login_codes(services: Services, phone: str) -> int:
    def q(conn: Connection) -> int:
        return int(
            conn.execute(
                select(func.count()).where(
                    outbox.c.recipient == phone, outbox.c.idempotency_key.like("console-login:%")
                )
            ).scalar_one()
        )

    return await services.db.read(q)


# --------------------------------------------------------------------------- login


async def test_staff_log_in_with_the_sms_code_and_log_out(
    client: TestClient, services: Services, shops: Shops
) -> None:
    resp = await client.get("/console/orders", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/console/login"
    await login(client, services, OWNER_A)
    text = await (await client.get("/console/orders")).text()
    assert shops.open_a.no in text and shops.used_a.no in text
    assert shops.open_b.no not in text  # another merchant's orders are never listed
    assert "+86138****8000" in text and "+8613800138000" not in text  # customer masked
    actions = [
        (r.action, r.result) for r in await services.db.read(lambda c: audit.entries(c, None, 500))
    ]
    assert ("console_code", "sent") in actions and ("console_login", "ok") in actions
    status, _ = await post(client, "/console/logout", {}, page="/console/orders")
    assert status == 200
    resp = await client.get("/console/orders", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"].startswith("/console/login")


async def test_the_code_is_single_use_and_a_new_code_replaces_the_old(
    client: TestClient, services: Services, shops: Shops, clock: object
) -> None:
    from datetime import timedelta

    from core.merchants import console_login
    from core.platform.clock import ManualClock, epoch

    assert isinstance(clock, ManualClock)
    await login(client, services, VERIFIER_A)
    code = str(await last_code(services, VERIFIER_A))
    now = epoch(clock.now())
    again = await services.db.write(
        lambda c: console_login.check_code(
            c, VERIFIER_A, code, now, services.keyring, session="another browser"
        )
    )
    assert again.result == "none"  # used, and only the session that asked may try it
    await post(client, "/console/logout", {}, page="/console/orders")
    clock.advance(timedelta(seconds=61))
    token = await csrf_of(client, "/console/login")
    await client.post("/console/login", data={"phone": VERIFIER_A, "csrf": token})
    old = code
    new = str(await last_code(services, VERIFIER_A))
    if old != new:
        status, text = await post(
            client, "/console/login/code", {"code": old}, page="/console/login/code"
        )
        assert status == 400 and "验证码错误" in text
    status, _ = await post(client, "/console/login/code", {"code": new}, page="/console/login/code")
    assert status == 302


async def test_a_number_that_is_not_staff_gets_no_sms_and_the_same_answer(
    client: TestClient, services: Services, shops: Shops
) -> None:
    token = await csrf_of(client, "/console/login")
    resp = await client.post(
        "/console/login", data={"phone": STRANGER, "csrf": token}, allow_redirects=False
    )
    assert resp.status == 302 and resp.headers["Location"] == "/console/login/code"
    assert await login_codes(services, STRANGER) == 0
    status, text = await post(
        client, "/console/login/code", {"code": "123456"}, page="/console/login/code"
    )
    assert status == 400 and "还可尝试4次" in text  # as a staff number's wrong code
    resp = await client.get("/console/orders", allow_redirects=False)
    assert resp.status == 302


async def test_sends_are_rate_limited(
    client: TestClient, services: Services, shops: Shops, clock: object
) -> None:
    from datetime import timedelta

    from core.platform.clock import ManualClock

    assert isinstance(clock, ManualClock)
    for i in range(7):
        token = await csrf_of(client, "/console/login")
        resp = await client.post(
            "/console/login", data={"phone": OWNER_A, "csrf": token}, allow_redirects=False
        )
        assert resp.status == 302  # over the limit too: silently, the same answer
        assert resp.headers["Location"] == "/console/login/code"
        clock.advance(timedelta(seconds=61 if i % 2 else 1))
    # one a minute, at most five an hour
    assert await login_codes(services, OWNER_A) <= 5


async def test_wrong_codes_kill_the_code_and_codes_expire(
    client: TestClient, services: Services, shops: Shops, clock: object
) -> None:
    from datetime import timedelta

    from core.platform.clock import ManualClock

    assert isinstance(clock, ManualClock)
    token = await csrf_of(client, "/console/login")
    await client.post("/console/login", data={"phone": OWNER_A, "csrf": token})
    code = await last_code(services, OWNER_A)
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        status, text = await post(
            client, "/console/login/code", {"code": wrong}, page="/console/login/code"
        )
        assert status == 400 and f"还可尝试{left}次" in text
    status, text = await post(
        client, "/console/login/code", {"code": wrong}, page="/console/login/code"
    )
    assert "验证码已失效" in text
    status, text = await post(
        client, "/console/login/code", {"code": str(code)}, page="/console/login/code"
    )
    assert status == 400 and "验证码已失效" in text  # dead even with the right code
    status, text = await post(
        client, "/console/login/code", {"code": "12a"}, page="/console/login/code"
    )
    assert status == 400 and "6位数字" in text
    # a new code, 5 minutes and 1 second later, no longer works
    clock.advance(timedelta(seconds=61))
    token = await csrf_of(client, "/console/login")
    await client.post("/console/login", data={"phone": OWNER_A, "csrf": token})
    code = await last_code(services, OWNER_A)
    clock.advance(timedelta(seconds=301))
    status, text = await post(
        client, "/console/login/code", {"code": str(code)}, page="/console/login/code"
    )
    assert status == 400 and "验证码已失效" in text


async def test_bad_phone_is_answered_on_the_page(client: TestClient, shops: Shops) -> None:
    status, text = await post(client, "/console/login", {"phone": "12"}, page="/console/login")
    assert status == 400 and "请输入正确的手机号" in text


# ----------------------------------------------------------------- CSRF, sessions


async def test_posts_without_the_csrf_token_are_refused(
    client: TestClient, services: Services, shops: Shops
) -> None:
    resp = await client.post("/console/login", data={"phone": OWNER_A})
    assert resp.status == 403
    assert await login_codes(services, OWNER_A) == 0
    await login(client, services, OWNER_A)
    form = {"order_no": shops.open_a.no, "password": shops.open_a.password}
    for extra in ({}, {"csrf": "forged"}, {"csrf": ""}):
        resp = await client.post("/console/verify", data={**form, **extra})
        assert resp.status == 403 and "表单已过期" in await resp.text()
    assert (await voucher_of(services, shops.open_a.no))[0] == "issued"
    resp = await client.post(f"/console/statements/{shops.statement_a}/confirm", data={})
    assert resp.status == 403
    assert await statement_status(services, shops.statement_a) == "draft"


async def test_a_tampered_or_foreign_session_cookie_is_refused(
    client: TestClient, services: Services, shops: Shops
) -> None:
    from yarl import URL

    from console.session import COOKIE

    await login(client, services, OWNER_A)
    jar = client.session.cookie_jar
    value = next(c.value for c in jar if c.key == COOKIE)
    for forged in (value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB"), "x" + value):
        jar.clear()
        jar.update_cookies({COOKIE: forged}, URL(str(client.make_url("/console/"))))
        resp = await client.get("/console/orders", allow_redirects=False)
        assert resp.status == 302 and resp.headers["Location"].startswith("/console/login")
    jar.clear()
    jar.update_cookies({COOKIE: value}, URL(str(client.make_url("/console/"))))
    assert (await client.get("/console/orders", allow_redirects=False)).status == 200


async def test_sessions_expire_when_idle(
    client: TestClient, services: Services, shops: Shops, clock: object
) -> None:
    from datetime import timedelta

    from core.platform.clock import ManualClock

    assert isinstance(clock, ManualClock)
    await login(client, services, OWNER_A)
    clock.advance(timedelta(minutes=29))
    assert (await client.get("/console/orders", allow_redirects=False)).status == 200
    clock.advance(timedelta(minutes=31))
    resp = await client.get("/console/orders", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/console/login?expired=1"
    text = await (await client.get("/console/login?expired=1")).text()
    assert "登录已过期" in text


async def test_the_cookie_is_httponly_lax_and_secure_behind_https(
    services: Services, shops: Shops
) -> None:
    assert services.settings.public_url and services.settings.public_url.startswith("https")
    async with TestClient(TestServer(build_app(services, drain=False))) as c:
        resp = await c.get("/console/login")
        cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert "Path=/console" in cookie


# ------------------------------------------------------------------------ pages


async def test_orders_filter_by_status_and_date_and_page(
    client: TestClient, services: Services, shops: Shops
) -> None:
    from tests.support.merchant_helpers import buy

    extra = [await buy(services, "3001") for _ in range(20)]
    await login(client, services, VERIFIER_A)
    text = await (await client.get("/console/orders?status=verified")).text()
    assert shops.used_a.no in text and shops.open_a.no not in text
    text = await (await client.get("/console/orders?status=issued")).text()
    assert "第1/2页,共21条" in text and "page=2" in text
    text = await (await client.get("/console/orders?status=issued&page=2")).text()
    assert "第2/2页" in text
    text = await (await client.get("/console/orders?from=2026-11-21&to=2026-11-30")).text()
    assert "暂无记录" in text
    text = await (await client.get("/console/orders?from=2026-11-20&to=2026-11-20")).text()
    assert extra[0].no in text
    resp = await client.get("/console/orders?from=yesterday&page=x&status=bogus")
    assert resp.status == 200 and "YYYY-MM-DD" in await resp.text()


async def test_verify_a_voucher_on_the_page(
    client: TestClient, services: Services, shops: Shops
) -> None:
    await login(client, services, VERIFIER_A)
    page = "/console/verify"
    status, text = await post(client, page, {"order_no": "1", "password": "x"}, page=page)
    assert status == 400 and "12位订单号" in text
    no, pwd = shops.open_a.no, shops.open_a.password
    wrong = "00000000" if pwd != "00000000" else "11111111"
    status, text = await post(client, page, {"order_no": no, "password": wrong}, page=page)
    assert status == 400 and "还可尝试4次" in text
    status, text = await post(client, page, {"order_no": no, "password": pwd}, page=page)
    assert status == 200 and "核销成功" in text and no in text
    assert (await voucher_of(services, no))[0] == "verified"
    status, text = await post(client, page, {"order_no": no, "password": pwd}, page=page)
    assert status == 400 and "使用过" in text
    # another shop's voucher: as if it did not exist, and nothing is counted against it
    other = shops.open_b
    status, text = await post(
        client, page, {"order_no": other.no, "password": other.password}, page=page
    )
    assert status == 400 and f"没有找到本店的订单{other.no}" in text
    assert await voucher_of(services, other.no) == ("issued", 0)
    told = await texts_to(services, "+8613800138000")
    assert any(no in t and ("使用" in t or "used" in t) for t in told)  # the customer is told


async def test_five_wrong_passwords_lock_the_voucher(
    client: TestClient, services: Services, shops: Shops
) -> None:
    from tests.support.merchant_helpers import buy

    fresh = await buy(services, "3001")
    await login(client, services, VERIFIER_A)
    page = "/console/verify"
    wrong = "00000000" if fresh.password != "00000000" else "11111111"
    for _ in range(5):
        status, text = await post(
            client, page, {"order_no": fresh.no, "password": wrong}, page=page
        )
    assert "已锁定" in text
    status, text = await post(
        client, page, {"order_no": fresh.no, "password": fresh.password}, page=page
    )
    assert status == 400 and "已锁定" in text
    assert (await voucher_of(services, fresh.no))[0] == "locked"


async def test_statements_chart_dispute_and_confirm(
    client: TestClient, services: Services, shops: Shops
) -> None:
    await login(client, services, OWNER_A)
    text = await (await client.get("/console/statements")).text()
    assert "<svg" in text and "2026-11" in text and "待确认" in text
    assert "800" in text  # points consumed in November
    page = f"/console/statements/{shops.statement_a}"
    text = await (await client.get(page)).text()
    assert "<svg" in text and "确认结算单" in text and "2.00" in text  # 800 points at 2.50/1000
    status, text = await post(client, f"{page}/dispute", {"reason": "  "}, page=page)
    assert status == 400 and "必须填写原因" in text
    assert await statement_status(services, shops.statement_a) == "draft"
    status, text = await post(client, f"{page}/dispute", {"reason": "少了一杯"}, page=page)
    assert status == 200 and "已提交异议" in text and "少了一杯" in text
    status, text = await post(client, f"{page}/dispute", {"reason": "again"}, page=page)
    assert status == 409 and "不能执行此操作" in text
    status, text = await post(client, f"{page}/confirm", {}, page=page)
    assert status == 200 and "结算单已确认" in text
    assert await statement_status(services, shops.statement_a) == "confirmed"
    rows = await services.db.read(lambda c: audit.entries(c, f"statement:{shops.statement_a}"))
    assert [r.action for r in rows][-2:] == ["statement_dispute", "statement_confirm"]
    assert rows[-1].actor == f"console:{OWNER_A}" and rows[-1].actor_kind == "staff"


async def test_the_chart_says_what_each_bar_counts(
    client: TestClient, services: Services, shops: Shops
) -> None:
    """Issue 16 §5: the field report saw 880 consumed points beside a statement of 180 with
    no word why. A voucher used after the early settlement counts in the month's consumed
    points as not yet settled; the statement's bar names the points it settled."""
    from core.merchants import merchants
    from core.platform.clock import epoch
    from core.vouchers import verification
    from tests.support.merchant_helpers import STAFF_A

    now = epoch(services.clock.now())
    actor = await services.db.read(lambda conn: merchants.staff_actor(conn, STAFF_A))
    used = await services.db.write(
        lambda conn: verification.verify_by_password(
            conn, actor, shops.open_a.no, shops.open_a.password, now, keyring=services.keyring
        )
    )
    assert isinstance(used, verification.Verified)
    await login(client, services, OWNER_A)
    text = await (await client.get("/console/statements")).text()
    assert "核销积分·已入结算单" in text and "核销积分·待结算" in text
    assert "当月结算单金额(元)" in text
    assert "2026-11核销1,600分:800分已入结算单,800分待结算" in text
    assert "2026-11结算单:800分,2.00元" in text
    assert "提前结算之后才核销的积分计入下一张结算单" in text
    await client.get("/console/lang/en?next=/console/statements")
    text = await (await client.get("/console/statements")).text()
    assert "2026-11: 1,600 points consumed, 800 on a statement, 800 not yet settled" in text
    assert "Statement 2026-11: 800 points, 2.00 yuan" in text
    assert "only the points it settled" in text


async def test_bills_download_as_xlsx_and_csv(
    client: TestClient, services: Services, shops: Shops
) -> None:
    await login(client, services, OWNER_A)
    base = f"/console/statements/{shops.statement_a}"
    resp = await client.get(f"{base}/bill.csv")
    assert resp.status == 200 and resp.content_type == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(await resp.text())))
    assert rows[0][0] == "line" and len(rows) == 2
    assert rows[1][2] == "voucher" and rows[1][3] == f"voucher:{shops.used_a.no}"
    assert int(rows[1][4]) == 800 and int(rows[1][7]) == 200
    resp = await client.get(f"{base}/bill.xlsx")
    assert resp.status == 200
    book = openpyxl.load_workbook(io.BytesIO(await resp.read()), read_only=True)
    summary = {r[0]: r[1] for r in book["statement"].iter_rows(values_only=True) if r and r[0]}
    assert summary["points"] == 800 and summary["amount_cents"] == 200
    lines = list(book["lines"].iter_rows(values_only=True))
    assert len(lines) == 2 and lines[1][3] == f"voucher:{shops.used_a.no}"


async def test_owner_manages_verifier_phones(
    client: TestClient, services: Services, shops: Shops
) -> None:
    await login(client, services, OWNER_A)
    page = "/console/staff"
    text = await (await client.get(page)).text()
    assert OWNER_A in text and VERIFIER_A in text
    status, text = await post(client, "/console/staff/add", {"phone": "13711112222"}, page=page)
    assert status == 200 and "已添加核销员+8613711112222" in text
    assert any("核销员" in t for t in await texts_to(services, "+8613711112222"))
    status, text = await post(client, "/console/staff/add", {"phone": OWNER_A}, page=page)
    assert status == 400 and "是店主" in text
    status, text = await post(client, "/console/staff/remove", {"phone": OWNER_A}, page=page)
    assert status == 400 and "是店主" in text
    status, text = await post(client, "/console/staff/remove", {"phone": OWNER_B}, page=page)
    assert status == 400 and "不是本店的核销员" in text
    status, text = await post(client, "/console/staff/add", {"phone": "abc"}, page=page)
    assert status == 400 and "请输入正确的手机号" in text
    status, text = await post(client, "/console/staff/remove", {"phone": VERIFIER_A}, page=page)
    assert status == 200 and f"已删除核销员{VERIFIER_A}" in text


async def test_a_removed_verifier_is_logged_out_and_verifiers_see_no_owner_pages(
    services: Services, shops: Shops
) -> None:
    services.settings.public_url = None
    app = build_app(services, drain=False)
    async with TestClient(TestServer(app)) as owner, TestClient(TestServer(app)) as cashier:
        await login(cashier, services, VERIFIER_A)
        for path in ("/console/statements", "/console/staff", "/console/goods"):
            resp = await cashier.get(path)
            assert resp.status == 403 and "没有权限" in await resp.text()
        text = await (await cashier.get("/console/orders")).text()
        assert "结算单" not in text  # no owner links in the menu
        await login(owner, services, OWNER_A)
        await post(owner, "/console/staff/remove", {"phone": VERIFIER_A}, page="/console/staff")
        resp = await cashier.get("/console/orders", allow_redirects=False)
        assert resp.status == 302 and resp.headers["Location"].startswith("/console/login")


async def test_goods_submitted_for_review(
    client: TestClient, services: Services, shops: Shops
) -> None:
    await login(client, services, OWNER_A)
    page = "/console/goods"
    form = {
        "code": "3101",
        "name_zh": "拿铁券",
        "name_en": "Latte voucher",
        "points": "600",
        "category": "SJ",
        "stock": "20",
        "days": "30",
    }
    status, text = await post(client, page, {**form, "points": "0", "stock": "-1"}, page=page)
    assert status == 400 and "积分" in text and "库存" in text
    assert 'value="拿铁券"' in text  # what was typed is kept
    status, text = await post(client, page, form, page=page)
    assert status == 200 and "商品3101已提交审核" in text and "待审核" in text
    for taken in ("3002", "1001"):  # another merchant's voucher; the operator's phone credit
        status, text = await post(client, page, {**form, "code": taken}, page=page)
        assert status == 400 and f"商品编码{taken}已被占用" in text
    status, text = await post(client, page, {**form, "code": "3102", "category": "NOPE"}, page=page)
    assert status == 400 and "分类不存在" in text

    def q(conn: Connection) -> list[tuple[str, str | None, bool]]:
        return [
            (r[0], r[1], bool(r[2]))
            for r in conn.execute(
                select(item.c.code, item.c.review, item.c.active)
                .where(item.c.code.in_(("3101", "3002", "1001", "3102")))
                .order_by(item.c.code)
            )
        ]

    assert await services.db.read(q) == [
        ("1001", None, True),
        ("3002", None, True),
        ("3101", "pending", False),
    ]


async def test_english_pages_by_header_and_by_toggle(
    client: TestClient, services: Services, shops: Shops
) -> None:
    text = await (
        await client.get("/console/login", headers={"Accept-Language": "en-US,en;q=0.8"})
    ).text()
    assert "Merchant staff login" in text
    resp = await client.get("/console/lang/en?next=/console/login", allow_redirects=False)
    assert resp.headers["Location"] == "/console/login"
    resp = await client.get("/console/lang/en?next=https://evil.example/", allow_redirects=False)
    assert resp.headers["Location"] == "/console/"
    await login(client, services, OWNER_A)
    text = await (await client.get("/console/statements")).text()
    assert "Points consumed" in text and "to confirm" in text


async def test_unknown_pages_and_bad_ids_are_answered_politely(
    client: TestClient, services: Services, shops: Shops
) -> None:
    await login(client, services, OWNER_A)
    for path in (
        "/console/nowhere",
        "/console/statements/999999",
        "/console/statements/abc",
        "/console/statements/99999999999999999999999",
        "/console/statements/99999999999999999999999/bill.csv",
    ):
        resp = await client.get(path)
        assert resp.status == 404 and "没有找到" in await resp.text()


async def test_a_phone_serving_two_merchants_switches_between_them(
    client: TestClient, services: Services, shops: Shops
) -> None:
    from core.merchants import merchants
    from core.platform.clock import epoch

    now = epoch(services.clock.now())
    await services.db.write(
        lambda c: merchants.add_staff(c, "M2", VERIFIER_A, "verifier", "test", now)
    )
    await login(client, services, VERIFIER_A)
    text = await (await client.get("/console/orders")).text()
    assert 'name="merchant_id"' in text and shops.open_a.no in text
    for wanted, shown, hidden in (
        ("2", shops.open_b.no, shops.open_a.no),
        ("999", shops.open_b.no, shops.open_a.no),  # not staff there: nothing changes
        ("1", shops.open_a.no, shops.open_b.no),
    ):
        status, _ = await post(
            client, "/console/merchant", {"merchant_id": wanted}, page="/console/orders"
        )
        assert status == 302
        text = await (await client.get("/console/orders")).text()
        assert shown in text and hidden not in text


async def test_the_demo_gives_the_console_an_owner_and_a_statement(
    services: Services, tmp_path: Path
) -> None:
    from pointshall import demo
    from pointshall.demo_console import DEMO_OWNER

    await demo.seed(services)
    await demo.seed(services)  # the second time changes nothing

    def q(conn: Connection) -> list[str]:
        return list(conn.execute(select(statement.c.status)).scalars())

    assert await services.db.read(q) == ["draft"]
    services.settings.public_url = None
    async with TestClient(TestServer(build_app(services, drain=False))) as c:
        await login(c, services, DEMO_OWNER)
        text = await (await c.get("/console/statements")).text()
    assert "待确认" in text and "星语咖啡" in text
