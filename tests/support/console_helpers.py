"""Helpers for the merchant console tests: two shops with owners, vouchers and statements,
and logging in through the real pages with the code read from the outbox."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient
from sqlalchemy import Connection

from core.merchants import merchants
from core.platform.clock import epoch
from core.platform.schema import outbox
from core.settlement import settlement
from core.vouchers import verification
from pointshall.bootstrap import Services
from tests.support.helpers import received, texts_of
from tests.support.merchant_helpers import STAFF_A, STAFF_B, Bought, buy, merchant_mall

OWNER_A = "+8613500135001"  # owner of M1 (Coffee Time)
OWNER_B = "+8613500135002"  # owner of M2 (Starlight Cinema)
VERIFIER_A = STAFF_A
VERIFIER_B = STAFF_B
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
CODE = re.compile(r"(\d{6})")


@dataclass(frozen=True)
class Shops:
    """What the console tests work on: for each merchant, an unused voucher and a statement."""

    open_a: Bought
    open_b: Bought
    used_a: Bought
    used_b: Bought
    statement_a: int
    statement_b: int


async def console_shops(services: Services, tmp_path: Path) -> Shops:
    """Owners for M1 and M2, a used and an unused voucher of each, and each one's statement."""
    await merchant_mall(services, tmp_path)
    now = epoch(services.clock.now())

    def owners(conn: Connection) -> None:
        merchants.add_staff(conn, "M1", OWNER_A, "owner", "test", now)
        merchants.add_staff(conn, "M2", OWNER_B, "owner", "test", now)
        settlement.set_rate(conn, "M1", 250, "test", now)
        settlement.set_rate(conn, "M2", 300, "test", now)

    await services.db.write(owners)
    used_a, used_b = await buy(services, "3001"), await buy(services, "3002")
    for bought, phone in ((used_a, STAFF_A), (used_b, STAFF_B)):
        actor = await services.db.read(lambda conn, p=phone: merchants.staff_actor(conn, p))
        outcome = await services.db.write(
            lambda conn, b=bought, a=actor: verification.verify_by_password(
                conn, a, b.no, b.password, now, keyring=services.keyring
            )
        )
        assert isinstance(outcome, verification.Verified)
    made = await settlement.settle(
        services.db,
        period=None,
        now=now,
        tz=ZoneInfo(services.settings.timezone),
        by="test",
        early=True,
    )
    ids = {s.merchant_code: s.id for s in made}
    open_a, open_b = await buy(services, "3001"), await buy(services, "3002")
    return Shops(open_a, open_b, used_a, used_b, ids["M1"], ids["M2"])


async def last_code(services: Services, phone: str) -> str | None:
    query = texts_of(outbox.c.recipient == phone, outbox.c.idempotency_key.like("console-login:%"))
    texts = await services.db.read(received(services, query))
    if not texts:
        return None
    text = texts[-1]
    match = CODE.search(text)
    assert match, text
    return match.group(1)


async def csrf_of(client: TestClient, path: str) -> str:
    resp = await client.get(path)
    match = CSRF.search(await resp.text())
    assert match, f"no CSRF token on {path} ({resp.status})"
    return match.group(1)


async def login(client: TestClient, services: Services, phone: str) -> None:
    """Log ``phone`` in through the pages, reading the code from the outbox."""
    token = await csrf_of(client, "/console/login")
    resp = await client.post(
        "/console/login", data={"phone": phone, "csrf": token}, allow_redirects=False
    )
    assert resp.status == 302, await resp.text()
    code = await last_code(services, phone)
    assert code is not None
    token = await csrf_of(client, "/console/login/code")
    resp = await client.post(
        "/console/login/code", data={"code": code, "csrf": token}, allow_redirects=False
    )
    assert resp.status == 302 and resp.headers["Location"] == "/console/orders", await resp.text()
