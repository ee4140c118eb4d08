"""Console authorization matrix (issue 8): every route × (anonymous, verifier, owner, another
merchant's staff using the first merchant's ids). Nobody but merchant A's own staff sees or
changes A's orders, vouchers, statements, staff or goods: they get the login page, 403 or 404,
and A's data is exactly as before."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Connection, select

from core.platform.schema import item, merchant_staff, statement, voucher
from core.platform.schema import orders as orders_table
from pointshall.app import build_app
from pointshall.bootstrap import Services
from tests.support.console_helpers import (
    CSRF,
    OWNER_A,
    OWNER_B,
    VERIFIER_A,
    VERIFIER_B,
    Shops,
    console_shops,
    login,
)

pytestmark = pytest.mark.filterwarnings("ignore::aiohttp.web_exceptions.NotAppKeyWarning")

OWNER_ONLY = 403
LOGIN = 302
GONE = 404
REFUSED = 400
OK = 200


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    form: dict[str, str]
    echoes: str = ""
    """What the page repeats of the input (not a leak: the caller typed it)."""


def routes(s: Shops) -> list[Route]:
    sid = s.statement_a
    a = s.open_a
    return [
        Route("POST", "/console/merchant", {"merchant_id": "1"}),  # A's id: no switch
        Route("GET", "/console/orders", {}),
        Route("GET", "/console/orders?status=issued&from=2026-01-01&to=2027-01-01", {}),
        Route("GET", "/console/verify", {}),
        Route("POST", "/console/verify", {"order_no": a.no, "password": "00000000"}, a.no),
        Route("GET", "/console/statements", {}),
        Route("GET", f"/console/statements/{sid}", {}),
        Route("GET", f"/console/statements/{sid}/bill.xlsx", {}),
        Route("GET", f"/console/statements/{sid}/bill.csv", {}),
        Route("POST", f"/console/statements/{sid}/confirm", {}),
        Route("POST", f"/console/statements/{sid}/dispute", {"reason": "no"}),
        Route("GET", "/console/staff", {}),
        # B's owner may add a verifier to B: a row for B; A's staff stay as they are.
        Route("POST", "/console/staff/add", {"phone": "+8613711110000"}),
        Route("POST", "/console/staff/remove", {"phone": OWNER_A}, OWNER_A),
        Route("GET", "/console/goods", {}),
        Route(
            "POST",
            "/console/goods",
            {"code": "3001", "name_zh": "抢", "name_en": "Taken", "points": "1", "category": "SJ"},
        ),
    ]


# What each kind of caller must get on each route (by path prefix and method).
def expected(who: str, route: Route) -> set[int]:
    if who == "anonymous" or route.path == "/console/merchant":
        return {LOGIN}  # a redirect: to the login, or back to the orders without switching
    owner_page = not route.path.startswith(("/console/orders", "/console/verify"))
    if who == "verifier_a":
        return {OWNER_ONLY} if owner_page else ({REFUSED} if route.method == "POST" else {OK})
    if who in ("owner_b", "verifier_b"):
        if owner_page and who == "verifier_b":
            return {OWNER_ONLY}
        if route.path.startswith("/console/statements/"):
            return {GONE}  # another merchant's statement does not exist for B
        if route.path == "/console/staff/add":
            return {OK}
        if route.method == "POST":
            return {REFUSED}  # not our voucher / not our verifier / not our item code
        return {OK}
    raise AssertionError(who)


def leaks(body: str, route: Route, s: Shops) -> list[str]:
    markers = [
        "咖啡时光",
        "Coffee Time",
        "咖啡券",
        "Coffee voucher",
        OWNER_A,
        VERIFIER_A,
        s.used_a.no,
        s.open_a.password,
        s.used_a.password,
    ]
    markers.append(s.open_a.no)
    return [m for m in markers if m in body and m != route.echoes]


async def snapshot(services: Services, s: Shops) -> dict[str, Any]:
    """Merchant A's data that no outsider may change."""

    def q(conn: Connection) -> dict[str, Any]:
        return {
            "vouchers": {
                r[0]: (r[1], int(r[2]))
                for r in conn.execute(
                    select(orders_table.c.no, voucher.c.status, voucher.c.failed_attempts)
                    .join(orders_table, orders_table.c.id == voucher.c.order_id)
                    .where(orders_table.c.no.in_((s.open_a.no, s.used_a.no)))
                )
            },
            "statement": conn.execute(
                select(statement.c.status, statement.c.reason).where(
                    statement.c.id == s.statement_a
                )
            ).one(),
            "staff": conn.execute(
                select(merchant_staff.c.msisdn, merchant_staff.c.role, merchant_staff.c.active)
                .where(merchant_staff.c.merchant_id == 1)
                .order_by(merchant_staff.c.msisdn)
            ).all(),
            "item": conn.execute(
                select(item.c.name_zh, item.c.merchant_id, item.c.review, item.c.active).where(
                    item.c.code == "3001"
                )
            ).one(),
        }

    return await services.db.read(q)


async def call(client: TestClient, route: Route) -> tuple[int, str]:
    page = await client.get("/console/login")
    match = CSRF.search(await page.text())
    token = match.group(1) if match else ""
    if route.method == "GET":
        resp = await client.get(route.path, allow_redirects=False)
    else:
        resp = await client.post(
            route.path, data={**route.form, "csrf": token}, allow_redirects=False
        )
    if resp.status == LOGIN:
        assert resp.headers["Location"].startswith(("/console/login", "/console/orders"))
    body = await resp.read()
    return resp.status, body.decode("utf-8", errors="replace")


@pytest.mark.parametrize("who", ["anonymous", "verifier_a", "owner_b", "verifier_b"])
async def test_no_route_leaks_or_changes_another_merchants_data(
    services: Services, tmp_path: Path, who: str
) -> None:
    shops = await console_shops(services, tmp_path)
    services.settings.public_url = None
    phones = {"verifier_a": VERIFIER_A, "owner_b": OWNER_B, "verifier_b": VERIFIER_B}
    before = await snapshot(services, shops)
    failures: list[str] = []
    async with TestClient(TestServer(build_app(services, drain=False))) as client:
        if who in phones:
            await login(client, services, phones[who])
        for route in routes(shops):
            status, body = await call(client, route)
            if status not in expected(who, route):
                failures.append(f"{route.method} {route.path}: {status}")
            if who != "verifier_a" and leaks(body, route, shops):
                failures.append(f"{route.method} {route.path} leaks {leaks(body, route, shops)}")
            if who == "verifier_a" and route.path.startswith("/console/statements"):
                assert str(shops.statement_a) not in body or status == OWNER_ONLY
    assert failures == [], failures
    after = await snapshot(services, shops)
    if who == "verifier_a":  # A's own verifier tried a wrong password: counted, nothing else
        no = shops.open_a.no
        assert after["vouchers"][no] == ("issued", before["vouchers"][no][1] + 1)
        before["vouchers"][no] = after["vouchers"][no]
    assert after == before


async def test_the_owner_reaches_every_route(services: Services, tmp_path: Path) -> None:
    """The other side of the matrix: merchant A's owner gets each page (so the 403/404s above
    come from authorization, not from broken routes)."""
    shops = await console_shops(services, tmp_path)
    services.settings.public_url = None
    async with TestClient(TestServer(build_app(services, drain=False))) as client:
        await login(client, services, OWNER_A)
        got = {}
        for route in routes(shops):
            status, body = await call(client, route)
            got[f"{route.method} {route.path}"] = status
            if route.method == "GET" and "bill" not in route.path:
                assert "咖啡时光" in body
    sid = shops.statement_a
    assert got[f"GET /console/statements/{sid}"] == OK
    assert got[f"GET /console/statements/{sid}/bill.xlsx"] == OK
    assert got[f"POST /console/statements/{sid}/confirm"] == OK
    assert got[f"POST /console/statements/{sid}/dispute"] == 409  # already confirmed
    assert got["POST /console/staff/remove"] == REFUSED  # an owner is not removed here
    assert got["POST /console/goods"] == OK  # A's own item 3001, resubmitted for review
    assert got.pop("POST /console/merchant") == LOGIN  # back to the orders, as A
    assert all(s in (OK, REFUSED, 409) for s in got.values()), got
