"""Helpers for the admin API tests: staff of every role with their tokens, a client, a paid
order to work on, the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import Connection

from core.backoffice import operator_staff
from core.platform.clock import epoch
from core.subscribers import addresses
from core.subscribers.subscribers import get_or_create
from pointshall.bootstrap import Services
from tests.support.helpers import redeem_paid
from tests.support.merchant_helpers import ALICE

ROLES = ("business_admin", "admin", "finance", "support")
BASE = "/admin/v1"


async def make_staff(services: Services) -> dict[str, str]:
    """One member per role (named after it), a second admin ``admin2``, and a disabled
    admin ``gone``; returns every token by name."""
    now = epoch(services.clock.now())

    def unit(conn: Connection) -> dict[str, str]:
        tokens: dict[str, str] = {}
        for name, role in (*((r, r) for r in ROLES), ("admin2", "admin"), ("gone", "admin")):
            tokens[name] = operator_staff.add(
                conn, services.keyring, name, role, by="test", now=now
            )[1]
        operator_staff.disable(conn, "gone", by="test", now=now)
        return tokens

    return await services.db.write(unit)


@dataclass
class Admin:
    client: TestClient
    tokens: dict[str, str]

    async def call(
        self,
        method: str,
        path: str,
        who: str | None = "admin",
        json: Any = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        sent = dict(headers or {})
        if who is not None:
            sent["Authorization"] = f"Bearer {self.tokens[who]}"
        resp = await self.client.request(
            method, BASE + path, json=json, headers=sent, params=params
        )
        kind = resp.headers.get("Content-Type", "")
        if "json" in kind:
            return resp.status, await resp.json(content_type=None)
        return resp.status, await resp.read()


async def audit_actions(services: Services, subject: str) -> list[tuple[str, str]]:
    from core.platform import audit

    rows = await services.db.read(lambda conn: audit.entries(conn, subject))
    return [(r.actor, r.action) for r in rows]


async def buy_flask(services: Services) -> str:
    now = epoch(services.clock.now())

    def unit(conn: Connection) -> str:
        sub = get_or_create(conn, ALICE, now)
        addresses.add_default(conn, sub.id, "1 Nanjing Road, Shanghai", now)
        return redeem_paid(conn, services, ALICE, "2001").order.no

    return await services.db.write(unit)
