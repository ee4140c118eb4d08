"""Operator pages in the console (issue 8, §3.4.4 goods review, §3.5.5 merchant admission):
login by staff bearer token, CSRF, role matrix, and decisions that change the data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Connection, select

from core.backoffice import operator_staff
from core.catalogue import submissions
from core.catalogue.editing import ItemSpec
from core.merchants import admission
from core.platform import audit
from core.platform.clock import ManualClock, epoch
from core.platform.schema import item, merchant
from pointshall.app import build_app
from pointshall.bootstrap import Services
from tests.support.console_helpers import csrf_of, login
from tests.support.merchant_helpers import STAFF_A, merchant_mall

pytestmark = pytest.mark.filterwarnings("ignore::aiohttp.web_exceptions.NotAppKeyWarning")

OPS = "/console/ops"
ROLES = ("business_admin", "admin", "finance", "support")
APPLICANT = "+8613900139009"


@dataclass(frozen=True)
class World:
    tokens: dict[str, str]
    """Each role's bearer token (staff member named after the role)."""
    application: int


@pytest.fixture
async def world(services: Services, tmp_path: Path) -> World:
    """The merchant mall, two goods submitted by M1, one application, one staff per role."""
    await merchant_mall(services, tmp_path)
    now = epoch(services.clock.now())

    def unit(conn: Connection) -> World:
        for code, en in (("3101", "Latte voucher"), ("3102", "Mocha voucher")):
            spec = ItemSpec(
                code=code,
                name_zh=f"券{code}",
                name_en=en,
                category="SJ",
                kind="voucher",
                points=600,
            )
            submissions.submit(conn, "M1", spec, STAFF_A, now)
        tokens = {
            role: operator_staff.add(conn, services.keyring, role, role, by="test", now=now)[1]
            for role in ROLES
        }
        app = admission.apply(
            conn, code="M9", name_zh="新店", name_en="New shop", applicant=APPLICANT, now=now
        )
        return World(tokens, app.id)

    return await services.db.write(unit)


@pytest.fixture
async def client(services: Services, world: World) -> AsyncIterator[TestClient]:
    services.settings.public_url = None  # plain http in tests: the cookie is not Secure
    async with TestClient(TestServer(build_app(services, drain=False))) as c:
        yield c


async def ops_login(client: TestClient, token: str) -> tuple[int, str, str]:
    csrf = await csrf_of(client, f"{OPS}/login")
    resp = await client.post(
        f"{OPS}/login", data={"token": token, "csrf": csrf}, allow_redirects=False
    )
    return resp.status, resp.headers.get("Location", ""), await resp.text()


async def post(
    client: TestClient, path: str, data: dict[str, str], page: str | None = None
) -> tuple[int, str]:
    """Post a form with the CSRF token of the page it is on (``path`` unless told)."""
    csrf = await csrf_of(client, page or path)
    resp = await client.post(path, data={**data, "csrf": csrf}, allow_redirects=False)
    return resp.status, await resp.text()


async def goods(services: Services) -> dict[str, tuple[str | None, bool]]:
    def q(conn: Connection) -> dict[str, tuple[str | None, bool]]:
        rows = conn.execute(
            select(item.c.code, item.c.review, item.c.active).where(
                item.c.code.in_(("3101", "3102"))
            )
        )
        return {r[0]: (r[1], bool(r[2])) for r in rows}

    return await services.db.read(q)


async def audits(services: Services, action: str) -> list[tuple[str, str, str]]:
    rows = await services.db.read(lambda conn: audit.entries(conn, limit=1000))
    return [(r.actor, r.subject, r.result) for r in rows if r.action == action]


async def test_login_by_token_shows_the_queue(
    client: TestClient, services: Services, world: World
) -> None:
    status, where, _ = await ops_login(client, world.tokens["business_admin"])
    assert (status, where) == (302, f"{OPS}/")
    resp = await client.get(f"{OPS}/reviews", allow_redirects=False)
    text = await resp.text()
    assert resp.status == 200
    assert "3101" in text and "券3101" in text and "M1" in text and "600" in text
    assert "business_admin" in text and "业务管理员" in text
    assert await audits(services, "ops_login") == [("business_admin", "console", "ok")]
    assert world.tokens["business_admin"] not in str(
        await services.db.read(lambda conn: audit.entries(conn, limit=1000))
    )


async def test_bad_token_is_refused_and_audited(
    client: TestClient, services: Services, world: World
) -> None:
    for wrong in ("psa_nottherightone", "", world.tokens["admin"] + "x"):
        status, _, text = await ops_login(client, wrong)
        assert status == 401 and "令牌无效或已停用" in text
    assert await audits(services, "ops_login") == [("unknown", "console", "bad_token")] * 3
    resp = await client.get(f"{OPS}/reviews", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == f"{OPS}/login"


async def test_disabled_staff_is_out_at_once(
    client: TestClient, services: Services, world: World
) -> None:
    assert (await ops_login(client, world.tokens["admin"]))[0] == 302
    assert (await client.get(f"{OPS}/applications", allow_redirects=False)).status == 200
    now = epoch(services.clock.now())
    await services.db.write(lambda conn: operator_staff.disable(conn, "admin", by="test", now=now))
    resp = await client.get(f"{OPS}/applications", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == f"{OPS}/login?expired=1"
    status, _, text = await ops_login(client, world.tokens["admin"])
    assert status == 401 and "令牌无效或已停用" in text


async def test_logout_ends_the_session(client: TestClient, world: World) -> None:
    await ops_login(client, world.tokens["admin"])
    status, text = await post(client, f"{OPS}/logout", {}, page=f"{OPS}/reviews")
    assert status == 200 and "您已退出登录" in text
    resp = await client.get(f"{OPS}/reviews", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"].startswith(f"{OPS}/login")


async def test_posts_without_the_csrf_token_are_refused(
    client: TestClient, services: Services, world: World
) -> None:
    resp = await client.post(
        f"{OPS}/login", data={"token": world.tokens["admin"]}, allow_redirects=False
    )
    assert resp.status == 403 and "表单已过期" in await resp.text()
    await ops_login(client, world.tokens["admin"])
    for csrf in (None, "forged"):
        data = {"code": "3101", "decision": "approve"}
        if csrf:
            data["csrf"] = csrf
        resp = await client.post(f"{OPS}/reviews", data=data, allow_redirects=False)
        assert resp.status == 403
    resp = await client.post(
        f"{OPS}/applications",
        data={"id": str(world.application), "decision": "start"},
        allow_redirects=False,
    )
    assert resp.status == 403
    assert (await goods(services))["3101"] == ("pending", False)
    assert await audits(services, "goods_review") == []


async def test_approve_and_reject_through_the_page(
    client: TestClient, services: Services, world: World
) -> None:
    await ops_login(client, world.tokens["business_admin"])
    page = f"{OPS}/reviews"
    status, text = await post(client, page, {"code": "3101", "decision": "approve"})
    assert status == 200 and "商品3101已通过审核并上架" in text
    status, text = await post(client, page, {"code": "3102", "decision": "reject", "reason": " "})
    assert status == 400 and "驳回时必须填写原因" in text
    assert (await goods(services))["3102"] == ("pending", False)
    status, text = await post(
        client, page, {"code": "3102", "decision": "reject", "reason": "blurry picture"}
    )
    assert status == 200 and "商品3102已驳回" in text and "暂无待处理事项" in text
    assert await goods(services) == {"3101": ("approved", True), "3102": ("rejected", False)}
    assert await audits(services, "goods_review") == [
        ("business_admin", "item 3101", "approved"),
        ("business_admin", "item 3102", "rejected"),
    ]
    status, text = await post(client, page, {"code": "3101", "decision": "approve"})
    assert status == 409 and "该事项已被处理" in text


async def test_role_matrix(client: TestClient, services: Services, world: World) -> None:
    routes = (f"{OPS}/reviews", f"{OPS}/applications")
    for path in routes:  # anonymous
        resp = await client.get(path, allow_redirects=False)
        assert resp.status == 302 and resp.headers["Location"] == f"{OPS}/login"
    await login(client, services, STAFF_A)  # a merchant session is no operator session
    for path in routes:
        resp = await client.get(path, allow_redirects=False)
        assert resp.status == 302 and resp.headers["Location"] == f"{OPS}/login", path
    assert (await client.get("/console/orders", allow_redirects=False)).status == 200
    allowed = {"business_admin": 200, "admin": 200, "finance": 403, "support": 403}
    landing = {
        "business_admin": f"{OPS}/orders",
        "admin": f"{OPS}/orders",
        "finance": f"{OPS}/subscribers",
        "support": f"{OPS}/orders",
    }
    for role in ROLES:
        status, where, _ = await ops_login(client, world.tokens[role])
        assert (status, where) == (302, f"{OPS}/"), role
        home = await client.get(f"{OPS}/", allow_redirects=False)  # the first page of its menu
        assert home.status == 302 and home.headers["Location"] == landing[role], role
        assert (await client.get(landing[role], allow_redirects=False)).status == 200, role
        for path in routes:
            resp = await client.get(path, allow_redirects=False)
            assert resp.status == allowed[role], (role, path)
            if resp.status == 403:
                assert "您没有权限访问此页面" in await resp.text()
        # an operator session is no merchant session
        resp = await client.get("/console/orders", allow_redirects=False)
        assert resp.status == 302 and resp.headers["Location"] == "/console/login", role


async def test_finance_and_support_cannot_decide(
    client: TestClient, services: Services, world: World
) -> None:
    for role in ("finance", "support"):
        await ops_login(client, world.tokens[role])
        csrf = await csrf_of(client, f"{OPS}/login")
        resp = await client.post(
            f"{OPS}/reviews",
            data={"code": "3101", "decision": "approve", "csrf": csrf},
            allow_redirects=False,
        )
        assert resp.status == 403 and "您没有权限访问此页面" in await resp.text()
        resp = await client.post(
            f"{OPS}/applications",
            data={"id": str(world.application), "decision": "start", "csrf": csrf},
            allow_redirects=False,
        )
        assert resp.status == 403
    assert (await goods(services))["3101"] == ("pending", False)
    assert await audits(services, "goods_review") == []
    assert await audits(services, "application_review") == []


async def test_applications_first_review_then_final_by_admin_only(
    client: TestClient, services: Services, world: World
) -> None:
    page = f"{OPS}/applications"
    app_id = str(world.application)
    await ops_login(client, world.tokens["business_admin"])
    text = await (await client.get(page)).text()
    assert "M9" in text and "新店" in text and "已提交" in text and "开始初审" in text
    status, text = await post(client, page, {"id": app_id, "decision": "start"})
    assert status == 200 and "初审中" in text
    status, text = await post(client, page, {"id": app_id, "decision": "reject", "reason": ""})
    assert status == 400 and "驳回时必须填写原因" in text
    status, text = await post(client, page, {"id": app_id, "decision": "pass"})
    assert status == 200 and "终审中" in text and "终审通过" not in text
    status, text = await post(client, page, {"id": app_id, "decision": "approve"})
    assert status == 403
    status, text = await post(client, page, {"id": app_id, "decision": "reject", "reason": "no"})
    assert status == 403
    await ops_login(client, world.tokens["admin"])
    status, text = await post(client, page, {"id": app_id, "decision": "approve"})
    assert status == 200 and "已通过" in text
    status, text = await post(client, page, {"id": app_id, "decision": "approve"})
    assert status == 409
    created = await services.db.read(
        lambda conn: conn.execute(select(merchant.c.status).where(merchant.c.code == "M9")).one()
    )
    assert created[0] == "approved"
    assert await audits(services, "application_review") == [
        ("business_admin", f"application:{app_id}", "first_review"),
        ("business_admin", f"application:{app_id}", "final_review"),
        ("admin", f"application:{app_id}", "approved"),
    ]


async def test_pages_in_english(client: TestClient, world: World) -> None:
    await ops_login(client, world.tokens["admin"])
    resp = await client.get(f"/console/lang/en?next={OPS}/reviews")
    text = await resp.text()
    assert resp.status == 200 and "Goods waiting for review" in text and "Latte voucher" in text
    assert "Operations" in text and "Approve" in text


async def test_idle_operator_session_expires(
    client: TestClient, world: World, clock: ManualClock
) -> None:
    await ops_login(client, world.tokens["admin"])
    clock.advance(timedelta(minutes=29))
    assert (await client.get(f"{OPS}/reviews", allow_redirects=False)).status == 200
    clock.advance(timedelta(minutes=31))
    resp = await client.get(f"{OPS}/reviews", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == f"{OPS}/login?expired=1"
    text = await (await client.get(resp.headers["Location"])).text()
    assert "登录已过期" in text


async def test_applications_are_paged(client: TestClient, services: Services, world: World) -> None:
    now = epoch(services.clock.now())

    def more(conn: Connection) -> None:
        for n in range(25):
            admission.apply(
                conn,
                code=f"N{n}",
                name_zh=f"店{n}",
                name_en=f"Shop {n}",
                applicant=APPLICANT,
                now=now,
            )

    await services.db.write(more)
    await ops_login(client, world.tokens["admin"])
    text = await (await client.get(f"{OPS}/applications")).text()
    assert "N24" in text and "N5<" in text and "N4<" not in text and 'rel="next"' in text
    text = await (await client.get(f"{OPS}/applications?page=2")).text()
    assert "N4<" in text and "M9" in text and 'rel="next"' not in text
