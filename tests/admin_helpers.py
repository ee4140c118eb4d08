"""Helpers for the admin API tests: staff of every role with their tokens, a client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import Connection

from core.backoffice import operator_staff
from core.platform.clock import epoch
from pointshall.bootstrap import Services

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
