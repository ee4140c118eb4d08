"""Merchant console (issue 8, §3.4.3, §3.4.4, §3.6): login by SMS code, CSRF, sessions, pages."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import openpyxl
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Connection, func, select

from core import audit
from core.schema import item, outbox, statement, voucher
from core.schema import orders as orders_table
from pointshall.app import build_app
from pointshall.bootstrap import Services
from tests.console_helpers import (
    OWNER_A,
    OWNER_B,
    VERIFIER_A,
    Shops,
    console_shops,
    csrf_of,
    last_code,
    login,
)
from tests.merchant_helpers import STRANGER, texts_to


@pytest.fixture
async def shops(services: Services, tmp_path: Path) -> Shops:
    return await console_shops(services, tmp_path)


@pytest.fixture
async def client(services: Services, shops: Shops) -> AsyncIterator[TestClient]:
    services.settings.public_url = None  # plain http in tests: the cookie is not Secure
    async with TestClient(TestServer(build_app(services, drain=False))) as c:
        yield c


async def test_smoke(client: TestClient, services: Services, shops: Shops) -> None:
    await login(client, services, OWNER_A)
    resp = await client.get("/console/orders")
    assert resp.status == 200
    text = await resp.text()
    assert shops.open_a.no in text and shops.open_b.no not in text
