"""Back-office merchant pages (issue 16 §1; §3.4.1, §3.4.4, §6.3): merchants, their staff
phones, contract rates with history and POS terminals (the key shown once), by role."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import Connection

from core.merchants import merchants
from core.settlement import settlement
from pointshall.bootstrap import Services
from tests.support.console_helpers import console_shops
from tests.support.office import (
    OPS,
    actions,
    alert,
    flash,
    office_client,
    ops_login,
    page,
    staff_tokens,
    submit,
)

pytestmark = pytest.mark.filterwarnings("ignore::aiohttp.web_exceptions.NotAppKeyWarning")
KEY = re.compile(r'<p class="token">([0-9a-f]+)</p>')


@pytest.fixture
async def tokens(services: Services, tmp_path: Path) -> dict[str, str]:
    await console_shops(services, tmp_path)
    return await staff_tokens(services)


@pytest.fixture
async def client(services: Services, tokens: dict[str, str]) -> AsyncIterator[TestClient]:
    async with office_client(services) as c:
        yield c


async def test_merchants_with_their_rates_staff_and_terminals(
    client: TestClient, tokens: dict[str, str]
) -> None:
    await ops_login(client, tokens["finance"])
    status, text = await page(client, f"{OPS}/merchants")
    assert status == 200 and "咖啡时光" in text and "每1,000积分2.50元" in text
    status, text = await page(client, f"{OPS}/merchants/m1")
    assert status == 200 and "+8613500135001" in text and "T-A" in text and "店主" in text
    assert 'id="rate"' in text and 'id="add-terminal"' not in text and 'id="add-staff"' not in text
    assert (await page(client, f"{OPS}/merchants/M9"))[0] == 404
    await ops_login(client, tokens["support"])
    assert (await page(client, f"{OPS}/merchants"))[0] == 403


async def test_finance_or_an_admin_sets_a_rate_and_history_is_kept(
    client: TestClient, services: Services, tokens: dict[str, str]
) -> None:
    await ops_login(client, tokens["business_admin"])
    status, _ = await submit(client, f"{OPS}/merchants/M1/rate", {"yuan": "3"})
    assert status == 403
    await ops_login(client, tokens["finance"])
    status, text = await submit(client, f"{OPS}/merchants/M1/rate", {"yuan": "3.5"})
    assert status == 200 and flash(text) == "商户M1的费率已更新。"
    rates = text[text.index('id="rates"') :]
    assert rates.index("每1,000积分3.50元") < rates.index("每1,000积分2.50元")
    shop = await services.db.read(lambda conn: merchants.find_merchant(conn, "M1"))
    rate = await services.db.read(lambda conn: settlement.current_rate(conn, shop.id))
    assert (rate.cents, rate.points) == (350, 1000)
    status, text = await submit(client, f"{OPS}/merchants/M1/rate", {"yuan": "-1"})
    assert status == 400 and alert(text) == "请检查以下内容:每千积分结算金额(元)。"
    assert ("finance", "merchant_rate", "merchant:M1") in await actions(services)


async def test_terminal_keys_are_shown_once_and_rotate(
    client: TestClient, services: Services, tokens: dict[str, str]
) -> None:
    await ops_login(client, tokens["business_admin"])
    status, text = await page(client, f"{OPS}/merchants/M1")
    assert 'id="add-staff"' in text and 'id="add-terminal"' not in text
    status, text = await submit(client, f"{OPS}/merchants/M1/terminals", {"terminal_id": "T-A2"})
    assert status == 403  # terminal keys sign payments: admins only
    await ops_login(client, tokens["admin"])
    status, text = await submit(client, f"{OPS}/merchants/M1/terminals", {"terminal_id": "T-A2"})
    assert status == 201 and "终端T-A2的签名密钥" in text
    first = KEY.search(text)
    assert first is not None
    assert first.group(1) == merchants.terminal_secret(
        services.keyring, "T-A2", 1, services.keyring.current_id
    )
    status, text = await page(client, f"{OPS}/merchants/M1")
    assert "T-A2" in text and first.group(1) not in text  # never shown again
    status, text = await submit(client, f"{OPS}/merchants/M1/terminals", {"terminal_id": "T-A2"})
    second = KEY.search(text)
    assert second is not None and second.group(1) != first.group(1)
    assert second.group(1) == merchants.terminal_secret(
        services.keyring, "T-A2", 2, services.keyring.current_id
    )
    status, text = await submit(client, f"{OPS}/merchants/M1/terminals", {"terminal_id": "T-B"})
    assert status == 409 and alert(text) == "终端号T-B属于其他商户。"
    status, text = await submit(client, f"{OPS}/merchants/M1/terminals", {"terminal_id": "T A"})
    assert status == 400


async def test_staff_phones_are_added_and_removed(
    client: TestClient, services: Services, tokens: dict[str, str]
) -> None:
    await ops_login(client, tokens["admin"])
    where = f"{OPS}/merchants/M2"
    status, text = await submit(
        client, f"{where}/staff", {"msisdn": "137 0013 7009", "role": "verifier"}
    )
    assert status == 200 and flash(text) == "+8613700137009已成为M2的员工。"

    def people(conn: Connection) -> list[tuple[str, str]]:
        return merchants.staff_of(conn, merchants.find_merchant(conn, "M2").id)

    assert ("+8613700137009", "verifier") in await services.db.read(people)
    status, text = await submit(client, f"{where}/staff", {"msisdn": "x", "role": "boss"})
    assert status == 400 and alert(text) == "请检查以下内容:手机号, 角色。"
    status, text = await submit(client, f"{where}/staff/remove", {"msisdn": "+8613700137009"})
    assert status == 200 and flash(text) == "+8613700137009已从M2移除。"
    status, text = await submit(client, f"{where}/staff/remove", {"msisdn": "+8613700137009"})
    assert flash(text) == "+8613700137009不是M2的员工。"
    assert ("+8613700137009", "verifier") not in await services.db.read(people)
