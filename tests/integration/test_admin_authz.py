"""Admin API authorization matrix (issue 8): every route × every role, plus no token, a bad
token and a disabled member's token. The expected matrix is written out here, independently
of the route table, from the role definitions in the README."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from api.admin.app import all_routes
from pointshall.app import build_app
from pointshall.bootstrap import Services
from tests.support.admin_helpers import ROLES, Admin, buy_flask, make_staff
from tests.support.merchant_helpers import merchant_mall

B, A, F, S = "business_admin", "admin", "finance", "support"
ALL = {B, A, F, S}
CATALOGUE = {
    f"{m} {p}": ({B, A} if m != "GET" else ALL)
    for p in (
        "/categories",
        "/categories/{code}",
        "/brands",
        "/brands/{code}",
        "/items",
        "/items/{code}",
        "/activities",
        "/activities/{code}",
        "/announcements",
        "/announcements/{id}",
        "/banners",
        "/banners/{id}",
        "/ads",
        "/ads/{id}",
    )
    for m in ("GET", "POST", "PUT", "DELETE")
}
EXPECTED: dict[str, set[str]] = {
    **CATALOGUE,
    "GET /me": ALL,
    "POST /items/{code}/deactivate": {B, A},
    "PUT /banners/{id}/picture": {B, A},
    "PUT /ads/{id}/picture": {B, A},
    "PUT /items/{code}/picture": {B, A},
    "GET /photos/{subject}": ALL,
    "GET /merchant-applications": {B, A},
    "GET /merchant-applications/{id}": {B, A},
    "POST /merchant-applications/{id}/first-review": {B, A},
    "POST /merchant-applications/{id}/final-review": {A},
    "GET /goods-reviews": {B, A},
    "POST /goods-reviews/{code}": {B, A},
    "GET /orders/{no}": {B, A, S},
    "POST /orders/{no}/ship": {B, A},
    "POST /orders/{no}/deliver": {B, A},
    "GET /topups": {B, A, S},
    "GET /topups/{no}": {B, A, S},
    "POST /topups/{no}/retry": {B, A},
    "GET /subscribers/{msisdn}": {S, F, A},
    "GET /subscribers/{msisdn}/entries": {S, F, A},
    "GET /adjustments": {S, F, A},
    "GET /adjustments/{id}": {S, F, A},
    "POST /adjustments": {S, A},
    "POST /adjustments/{id}/approve": {F, A},
    "POST /adjustments/{id}/reject": {F, A},
    "GET /statements": {F, A},
    "GET /statements/{id}": {F, A},
    "POST /statements/{id}/approve": {F},
    "POST /statements/{id}/pay": {F},
    "GET /statements/{id}/report": {F, A},
    "GET /reports/points-cost": {F, A},
    "GET /reports/reconcile": {F, A},
    "GET /audit": {A, F},
    "GET /staff": {A},
    "POST /staff": {A},
    "POST /staff/{name}/disable": {A},
    "POST /staff/{name}/enable": {A},
    "POST /staff/{name}/role": {A},
    "GET /staff-changes": {A},
    "POST /staff-changes/{id}/approve": {A},
    "POST /staff-changes/{id}/reject": {A},
    "GET /messages": {B, A, S},
    "GET /messages/{id}": {B, A, S},
    "POST /messages/{id}/reply": {B, A, S},
    "GET /questions": {B, A, S},
    "POST /questions/{id}/answer": {B, A, S},
    "GET /reviews": {B, A, S},
    "POST /reviews/{id}/hide": {B, A},
    "POST /reviews/{id}/show": {B, A},
}
DUMMY = {
    "code": "NOPE1",
    "id": "987654",
    "no": "000000000000",
    "msisdn": "+8613800138999",
    "name": "nobody",
    "subject": "item:987654",
}


def concrete(path: str, values: dict[str, str] = DUMMY) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


@pytest.fixture
async def admin(services: Services, tmp_path: Path) -> AsyncIterator[Admin]:
    await merchant_mall(services, tmp_path)
    tokens = await make_staff(services)
    tokens["forged"] = "psa_" + "x" * 43
    async with TestClient(TestServer(build_app(services, drain=False))) as client:
        yield Admin(client, tokens)


def test_every_registered_route_has_an_expected_row() -> None:
    registered = {f"{r.method} {r.path}": set(r.roles) for r in all_routes()}
    expected = {k: v for k, v in EXPECTED.items() if k in registered or k not in CATALOGUE}
    assert registered == expected


async def test_every_route_by_every_role(admin: Admin) -> None:
    leaks: list[str] = []
    for route in all_routes():
        key = f"{route.method} {route.path}"
        path = concrete(route.path)
        body = {} if route.body is not None else None
        for role in ROLES:
            status, answer = await admin.call(route.method, path, role, body)
            allowed = role in EXPECTED[key]
            if (allowed and status in (401, 403)) or status >= 500:
                leaks.append(f"{key} as {role}: {status} {answer}")
            if not allowed and status != 403:
                leaks.append(f"{key} as {role}: {status}, expected 403")
            if allowed and route.path_params and status not in (400, 404, 422):
                leaks.append(f"{key} as {role} on unknown ids: {status}, expected 404")
        for who, headers in (
            (None, {}),
            (None, {"Authorization": "Bearer"}),
            (None, {"Authorization": "Basic YWRtaW46YWRtaW4="}),
            ("forged", {}),
            ("gone", {}),
        ):
            status, answer = await admin.call(route.method, path, who, body, headers=headers)
            if status != 401 or not answer["type"].endswith("unauthorized"):
                leaks.append(f"{key} as {who or headers}: {status}, expected 401")
    assert leaks == []


async def test_forbidden_answers_do_not_reveal_whether_an_id_exists(
    admin: Admin, services: Services
) -> None:
    real_no = await buy_flask(services)
    for method, path in (("GET", "/orders/{no}"), ("POST", "/orders/{no}/ship")):
        body = None if method == "GET" else {"carrier": "SF", "tracking_no": "1"}
        real = await admin.call(method, concrete(path, {"no": real_no}), "finance", body)
        fake = await admin.call(method, concrete(path), "finance", body)
        assert real[0] == fake[0] == 403
        assert real[1] == fake[1]
    real_app = await admin.call("GET", "/items/2001", "admin")
    assert real_app[0] == 200
    assert await admin.call("PUT", "/items/2001", "finance", {}) == await admin.call(
        "PUT", "/items/NOPE1", "finance", {}
    )


async def test_finance_cannot_edit_the_catalogue_matrix(admin: Admin) -> None:
    """Acceptance (issue 8): every catalogue or content change is refused to finance."""
    for route in all_routes():
        if route.tag in ("catalogue", "content") and route.method != "GET":
            status, _ = await admin.call(route.method, concrete(route.path), "finance", {})
            assert status == 403, route.path
