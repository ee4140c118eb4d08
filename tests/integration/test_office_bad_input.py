"""No back-office page answers bad input with a 5xx (issue 16 §1; issue 13 §6): every route
under /console/ops, as an admin with a valid session and CSRF token, is sent empty,
oversized, negative, huge, non-numeric, control-character and non-UTF-8 values, in the form
and in the query; every answer is a page below 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from pointshall.bootstrap import Services
from tests.support.admin_helpers import buy_flask
from tests.support.console_helpers import console_shops, csrf_of
from tests.support.office import FIELDS, OPS, office_client, office_routes, ops_login, staff_tokens

pytestmark = pytest.mark.filterwarnings("ignore::aiohttp.web_exceptions.NotAppKeyWarning")

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


@pytest.fixture
async def client(services: Services, tmp_path: Path) -> AsyncIterator[TestClient]:
    await console_shops(services, tmp_path)
    await buy_flask(services)
    tokens = await staff_tokens(services)
    async with office_client(services) as c:
        await ops_login(c, tokens["admin"])
        yield c


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
