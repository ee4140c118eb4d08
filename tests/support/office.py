"""Helpers for the back-office page tests (issue 16 §1): one operator staff member per role,
logging in through the page, posting forms with the page's CSRF token, reading the page."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import FormData, web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Connection

from core.backoffice import operator_staff
from core.platform import audit
from core.platform.clock import epoch
from pointshall.app import build_app
from pointshall.bootstrap import Services
from tests.support.console_helpers import csrf_of

OPS = "/console/ops"
ROLES = ("business_admin", "admin", "finance", "support")
FLASH = re.compile(r'<div class="msg ok" role="status">(.*?)</div>', re.S)
ALERT = re.compile(r'<div class="msg err" role="alert">(.*?)</div>', re.S)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99"
    b"=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


async def staff_tokens(
    services: Services, extra: tuple[tuple[str, str], ...] = ()
) -> dict[str, str]:
    """One active member per role, named after it (and ``extra`` (name, role) pairs); tokens."""
    now = epoch(services.clock.now())

    def unit(conn: Connection) -> dict[str, str]:
        return {
            name: operator_staff.add(conn, services.keyring, name, role, by="test", now=now)[1]
            for name, role in (*((r, r) for r in ROLES), *extra)
        }

    return await services.db.write(unit)


@asynccontextmanager
async def office_client(services: Services) -> AsyncIterator[TestClient]:
    services.settings.public_url = None  # plain http in tests: the cookie is not Secure
    async with TestClient(TestServer(build_app(services, drain=False))) as client:
        yield client


async def ops_login(client: TestClient, token: str) -> None:
    csrf = await csrf_of(client, f"{OPS}/login")
    resp = await client.post(
        f"{OPS}/login", data={"token": token, "csrf": csrf}, allow_redirects=False
    )
    assert resp.status == 302, await resp.text()


async def page(client: TestClient, path: str) -> tuple[int, str]:
    resp = await client.get(path, allow_redirects=False)
    return resp.status, await resp.text()


async def submit(
    client: TestClient,
    path: str,
    data: dict[str, Any],
    *,
    form_page: str | None = None,
    follow: bool = True,
) -> tuple[int, str]:
    """Post ``data`` with the session's CSRF token, as read from ``form_page`` (the login
    page unless told: the token is the session's, the same on every page); a 303 is followed
    like a browser does. Lists post several values; bytes post a file."""
    csrf = await csrf_of(client, form_page or f"{OPS}/login")
    form = FormData()
    form.add_field("csrf", csrf)
    for name, value in data.items():
        if isinstance(value, bytes):
            form.add_field(name, value, filename="picture.png", content_type="image/png")
        elif isinstance(value, list | tuple):
            for one in value:
                form.add_field(name, str(one))
        else:
            form.add_field(name, str(value))
    resp = await client.post(path, data=form, allow_redirects=False)
    if follow and resp.status == 303:
        resp = await client.get(resp.headers["Location"], allow_redirects=False)
    return resp.status, await resp.text()


def flash(text: str) -> str:
    """The success message shown on the page ('' when none)."""
    found = FLASH.search(text)
    return html.unescape(found.group(1)).strip() if found else ""


def alert(text: str) -> str:
    """The refusal shown on the page ('' when none)."""
    found = ALERT.search(text)
    return html.unescape(found.group(1)).strip() if found else ""


async def actions(services: Services, subject: str | None = None) -> list[tuple[str, str, str]]:
    """(actor, action, subject) of the audit log, oldest first."""
    rows = await services.db.read(lambda conn: audit.entries(conn, subject, limit=10_000))
    return [(r.actor, r.action, r.subject) for r in rows]


FIELDS = (
    "code", "name_zh", "name_en", "sort", "category", "kind", "points", "stock", "brand",
    "merchant", "activity", "cash", "price", "face_value", "per_account_limit", "voucher_days",
    "pay_methods", "description_zh", "active", "create", "title_zh", "title_en", "starts_at",
    "ends_at", "id", "body_zh", "body_en", "pinned", "target_kind", "target", "msisdn",
    "reason", "text", "carrier", "tracking_no", "yuan", "terminal_id", "role", "name",
    "decision", "phone", "no", "status", "from", "to", "period", "format", "subject", "actor",
    "action", "page", "q", "unanswered", "token",
)  # fmt: skip
"""Every field name a back-office form or query reads."""
PARAMS = {
    "code": "2001",
    "no": "000000000000",
    "id": "1",
    "name": "support",
    "subject": "item:1",
    "action": "hide",
    "fmt": "csv",
}
"""A value for each path parameter of a back-office route."""


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
