"""The merchant console gives away nothing and ends sessions for real (issue 13 §4, §3.4.3),
on both databases: every answer of the login is the same for a staff number and for anyone
else, within the limits and over them; codes are capped per number (a minute, an hour, a
day); a code is tried only from the browser session that asked for it, so nobody spends
another person's code; logout, removal from staff and disabling an operator end the session
on the server, so a cookie copied before opens nothing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Connection, func, select

from core.backoffice import operator_staff
from core.merchants import console_login, merchants
from core.platform.clock import ManualClock, epoch
from core.platform.schema import staff_login
from pointshall.app import build_app
from pointshall.bootstrap import Services
from tests.integration.test_console import login_codes, post
from tests.support.console_helpers import (
    OWNER_A,
    VERIFIER_A,
    Shops,
    console_shops,
    csrf_of,
    last_code,
    login,
)
from tests.support.merchant_helpers import STRANGER

pytestmark = pytest.mark.filterwarnings("ignore::aiohttp.web_exceptions.NotAppKeyWarning")
CSRF_VALUE = re.compile(r'name="csrf" value="[^"]+"')


@pytest.fixture
async def shops(services: Services, tmp_path: Path) -> Shops:
    return await console_shops(services, tmp_path)


@pytest.fixture
async def client(services: Services, shops: Shops) -> AsyncIterator[TestClient]:
    services.settings.public_url = None  # plain http in tests: the cookie is not Secure
    async with TestClient(TestServer(build_app(services, drain=False))) as c:
        yield c


def manual(services: Services) -> ManualClock:
    assert isinstance(services.clock, ManualClock)
    return services.clock


def same_page(text: str, phone: str) -> str:
    """The page with what legitimately differs (the number typed, the CSRF token) taken out."""
    return CSRF_VALUE.sub("", text).replace(phone, "PHONE")


async def ask_code(client: TestClient, phone: str) -> tuple[int, str]:
    token = await csrf_of(client, "/console/login")
    resp = await client.post(
        "/console/login", data={"phone": phone, "csrf": token}, allow_redirects=False
    )
    return resp.status, resp.headers.get("Location", "")


async def walk(client: TestClient, services: Services, phone: str) -> list[object]:
    """Everything an outsider can see of a login attempt for ``phone``."""
    seen: list[object] = []
    for _ in range(2):  # the second within the minute: over the limit
        seen.append(await ask_code(client, phone))
    resp = await client.get("/console/login/code")
    seen.append((resp.status, same_page(await resp.text(), phone)))
    for _ in range(6):
        status, text = await post(
            client, "/console/login/code", {"code": "000000"}, page="/console/login/code"
        )
        seen.append((status, same_page(text, phone)))
    manual(services).advance(timedelta(minutes=2))
    seen.append(await ask_code(client, phone))
    return seen


async def test_staff_and_strangers_get_identical_answers(
    client: TestClient, services: Services, shops: Shops
) -> None:
    staff = await walk(client, services, OWNER_A)
    client.session.cookie_jar.clear()
    stranger = await walk(client, services, STRANGER)
    assert staff == stranger
    assert staff[0] == (302, "/console/login/code") == staff[1]
    assert await login_codes(services, OWNER_A) == 2 and await login_codes(services, STRANGER) == 0


async def challenges(services: Services, phone: str) -> int:
    def q(conn: Connection) -> int:
        return int(
            conn.execute(select(func.count()).where(staff_login.c.msisdn == phone)).scalar_one()
        )

    return await services.db.read(q)


@pytest.mark.parametrize("phone", [OWNER_A, STRANGER])
async def test_codes_are_capped_per_number_for_everyone(
    client: TestClient, services: Services, shops: Shops, phone: str
) -> None:
    minute, hourly, daily = (c.count for c in console_login.CODES_PER_PHONE.caps)
    clock = manual(services)
    assert (minute, hourly, daily) == (1, 5, 10)
    await ask_code(client, phone)
    await ask_code(client, phone)
    assert await challenges(services, phone) == minute
    for _ in range(hourly):
        clock.advance(timedelta(seconds=61))
        await ask_code(client, phone)
    assert await challenges(services, phone) == hourly
    for _ in range(daily):
        clock.advance(timedelta(minutes=20))
        await ask_code(client, phone)
    assert await challenges(services, phone) == daily
    clock.advance(timedelta(days=1))
    await ask_code(client, phone)
    assert await challenges(services, phone) == 1  # a new one; those of yesterday are gone
    if phone == OWNER_A:
        assert await login_codes(services, phone) == daily + 1


async def test_another_browsers_tries_do_not_spend_my_code(
    client: TestClient, services: Services, shops: Shops
) -> None:
    await ask_code(client, OWNER_A)
    mine = await last_code(services, OWNER_A)
    manual(services).advance(timedelta(seconds=61))
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as attacker:
        page = await attacker.get(client.make_url("/console/login"))
        token = CSRF_VALUE.search(await page.text())
        assert token is not None
        csrf = token.group(0).split('value="')[1].rstrip('"')
        await attacker.post(
            client.make_url("/console/login"), data={"phone": OWNER_A, "csrf": csrf}
        )
        for _ in range(5):
            await attacker.post(
                client.make_url("/console/login/code"), data={"code": mine or "", "csrf": csrf}
            )
    token = await csrf_of(client, "/console/login/code")
    resp = await client.post(
        "/console/login/code", data={"code": mine, "csrf": token}, allow_redirects=False
    )
    assert resp.status == 302 and resp.headers["Location"] == "/console/orders"


def cookies(client: TestClient) -> dict[str, str]:
    return {c.key: c.value for c in client.session.cookie_jar}


async def opens(client: TestClient, path: str, saved: dict[str, str]) -> bool:
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies(saved, client.make_url("/"))
    resp = await client.get(path, allow_redirects=False)
    return resp.status == 200


async def test_a_cookie_copied_before_logout_opens_nothing(
    client: TestClient, services: Services, shops: Shops
) -> None:
    await login(client, services, OWNER_A)
    copied = cookies(client)
    assert await opens(client, "/console/orders", copied)
    status, _ = await post(client, "/console/logout", {}, page="/console/orders")
    assert status == 200
    assert not await opens(client, "/console/orders", copied)


async def test_removal_from_staff_ends_the_session_for_good(
    client: TestClient, services: Services, shops: Shops
) -> None:
    await login(client, services, VERIFIER_A)
    copied = cookies(client)
    now = epoch(services.clock.now())
    assert await services.db.write(
        lambda conn: merchants.remove_staff(conn, "M1", VERIFIER_A, "test", now)
    )
    assert not await opens(client, "/console/orders", copied)
    await services.db.write(
        lambda conn: merchants.add_staff(conn, "M1", VERIFIER_A, "verifier", "test", now)
    )
    assert not await opens(client, "/console/orders", copied)  # staff again: a new login


async def test_operator_logout_and_disabling_end_the_session(
    client: TestClient, services: Services, shops: Shops
) -> None:
    now = epoch(services.clock.now())
    made = await services.db.write(
        lambda conn: operator_staff.add(conn, services.keyring, "rev", "admin", by="test", now=now)
    )
    token = made[1]

    async def log_in() -> dict[str, str]:
        client.session.cookie_jar.clear()
        csrf = await csrf_of(client, "/console/ops/login")
        resp = await client.post(
            "/console/ops/login", data={"token": token, "csrf": csrf}, allow_redirects=False
        )
        assert resp.status == 302
        return cookies(client)

    copied = await log_in()
    assert await opens(client, "/console/ops/reviews", copied)
    csrf = await csrf_of(client, "/console/ops/reviews")
    assert (await client.post("/console/ops/logout", data={"csrf": csrf})).status == 200
    assert not await opens(client, "/console/ops/reviews", copied)

    copied = await log_in()
    await services.db.write(lambda conn: operator_staff.disable(conn, "rev", by="test", now=now))
    await services.db.write(lambda conn: operator_staff.set_enabled(conn, "rev"))
    assert not await opens(client, "/console/ops/reviews", copied)
