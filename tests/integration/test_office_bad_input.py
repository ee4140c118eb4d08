"""No back-office page answers bad input with a 5xx (issue 16 §1; issue 13 §6): every route
under /console/ops, as an admin with a valid session and CSRF token, is sent empty,
oversized, negative, huge, non-numeric, control-character and non-UTF-8 values, in the form
and in the query; every answer is a page below 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import FormData, web
from aiohttp.test_utils import TestClient

from pointshall.bootstrap import Services
from tests.support.admin_helpers import buy_flask
from tests.support.console_helpers import console_shops, csrf_of
from tests.support.office import OPS, office_client, ops_login, staff_tokens

pytestmark = pytest.mark.filterwarnings("ignore::aiohttp.web_exceptions.NotAppKeyWarning")

FIELDS = (
    "code", "name_zh", "name_en", "sort", "category", "kind", "points", "stock", "brand",
    "merchant", "activity", "cash", "price", "face_value", "per_account_limit", "voucher_days",
    "pay_methods", "description_zh", "active", "create", "title_zh", "title_en", "starts_at",
    "ends_at", "id", "body_zh", "body_en", "pinned", "target_kind", "target", "msisdn",
    "reason", "text", "carrier", "tracking_no", "yuan", "terminal_id", "role", "name",
    "decision", "phone", "no", "status", "from", "to", "period", "format", "subject", "actor",
    "action", "page", "q", "unanswered", "token",
)  # fmt: skip
NASTY = (
    "",
    "-1",
    str(2**70),
    "NaN",
    "x" * 5000,
    "a\x00b",
    "中文😀",
    "2026-02-30T25:61",
)
PARAMS = {
    "code": "2001",
    "no": "000000000000",
    "id": "1",
    "name": "support",
    "subject": "item:1",
    "action": "hide",
    "fmt": "csv",
}


@pytest.fixture
async def client(services: Services, tmp_path: Path) -> AsyncIterator[TestClient]:
    await console_shops(services, tmp_path)
    await buy_flask(services)
    tokens = await staff_tokens(services)
    async with office_client(services) as c:
        await ops_login(c, tokens["admin"])
        yield c


def office_routes(client: TestClient) -> list[tuple[str, str]]:
    """(method, path) of every back-office route, path parameters filled."""
    app = client.server.app
    assert isinstance(app, web.Application)
    found: list[tuple[str, str]] = []
    for mounted in app.router.resources():
        sub = mounted.get_info().get("app")
        if not isinstance(sub, web.Application):
            continue
        for route in sub.router.routes():
            info = route.resource.get_info() if route.resource else {}
            path = str(info.get("formatter") or info.get("path") or "")
            if not path.startswith(OPS) or route.method == "HEAD":
                continue
            for key, value in PARAMS.items():
                path = path.replace("{" + key + "}", value)
            found.append((route.method, path))
    return found


@pytest.mark.slow
async def test_no_page_answers_bad_input_with_a_server_error(client: TestClient) -> None:
    routes = office_routes(client)
    assert len(routes) > 50
    csrf = await csrf_of(client, f"{OPS}/login")
    failures: list[tuple[str, str, str, int]] = []
    for method, path in routes:
        if path.endswith(("/login", "/logout")):
            continue
        for value in NASTY:
            if method == "GET":
                resp = await client.get(
                    path, params={f: value for f in FIELDS}, allow_redirects=False
                )
            else:
                form = FormData()
                form.add_field("csrf", csrf)
                for field in FIELDS:
                    form.add_field(field, value)
                form.add_field("picture", b"\xff\xfe\x00bytes", filename="x.png")
                resp = await client.post(path, data=form, allow_redirects=False)
            if resp.status >= 500:
                failures.append((method, path, value[:20], resp.status))
        resp = await client.post(
            path,
            data=b"\xff\xfe\xfd",
            allow_redirects=False,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        if resp.status >= 500:
            failures.append((method, path, "non-utf-8 body", resp.status))
    assert failures == []
    # the session survived it all
    assert (await client.get(f"{OPS}/orders", allow_redirects=False)).status == 200
