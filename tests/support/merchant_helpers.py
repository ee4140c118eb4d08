"""Helpers for the merchant tests: staff, terminals, a voucher bought through the core."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection

from core.merchants import merchants
from core.orders.payment import Paid
from core.platform.clock import epoch
from core.platform.schema import outbox
from pointshall.bootstrap import Services
from tests.support.helpers import fund, received, redeem_paid, seed_catalog, texts_of

ALICE = "+8613800138000"
STAFF_A = "+8613700137001"  # verifier of M1 (Coffee Time)
STAFF_B = "+8613700137002"  # verifier of M2 (Starlight Cinema)
STRANGER = "+8613600136000"
PASSWORD = re.compile(r"(?:密码|password )(\d{8})")


@dataclass(frozen=True)
class Bought:
    no: str
    password: str
    token: str


async def merchant_mall(services: Services, tmp_path: Path) -> dict[str, str]:
    """The test catalogue, Alice with points, one verifier and one terminal per merchant.

    Returns the terminals' HMAC keys by terminal id."""
    await seed_catalog(services)
    await fund(services, tmp_path, {ALICE: 50_000})
    now = epoch(services.clock.now())

    def unit(conn: Connection) -> dict[str, str]:
        merchants.add_staff(conn, "M1", STAFF_A, "verifier", "test", now)
        merchants.add_staff(conn, "M2", STAFF_B, "verifier", "test", now)
        return {
            "T-A": merchants.add_terminal(conn, "M1", "T-A", "test", now, services.keyring),
            "T-B": merchants.add_terminal(conn, "M2", "T-B", "test", now, services.keyring),
        }

    return await services.db.write(unit)


async def buy(services: Services, code: str = "3001", who: str = ALICE) -> Bought:
    """Redeem and confirm a voucher through the core; read the password from its SMS."""

    def unit(conn: Connection) -> tuple[Paid, str]:
        paid = redeem_paid(conn, services, who, code)
        query = texts_of(outbox.c.idempotency_key.like(f"voucher:{paid.order.no}:%"))
        return paid, received(services, query)(conn)[-1]

    paid, text = await services.db.write(unit)
    match = PASSWORD.search(text)
    assert match, text
    assert paid.voucher_token is not None
    return Bought(paid.order.no, match.group(1), paid.voucher_token)


async def texts_to(services: Services, to: str) -> list[str]:
    return await services.db.read(received(services, texts_of(outbox.c.recipient == to)))
