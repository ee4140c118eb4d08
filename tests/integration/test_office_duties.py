"""The back office under separation of duties (issue 13 §3, issue 16 §1): the pages call
``core.backoffice.decisions`` and ``core.backoffice.staffing``, so the issue's bypass (an
admin proposes, creates a finance member, approves with it) is refused here as by the API
and the CLI; staff changes beyond the daily limit wait for a second admin on the page."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from core.backoffice import operator_staff
from pointshall.bootstrap import Services
from tests.integration.test_office_subscribers import balance
from tests.support.helpers import fund, seed_catalog
from tests.support.merchant_helpers import ALICE
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
TOKEN = re.compile(r'<p class="token">(psa_[^<]+)</p>')


@pytest.fixture
async def tokens(services: Services, tmp_path: Path) -> dict[str, str]:
    await seed_catalog(services)
    await fund(services, tmp_path, {ALICE: 20_000}, period="2026-09")
    return await staff_tokens(services, (("admin2", "admin"),))


@pytest.fixture
async def client(services: Services, tokens: dict[str, str]) -> AsyncIterator[TestClient]:
    services.settings.staff_changes_per_day = 1
    async with office_client(services) as c:
        yield c


async def new_member(client: TestClient, name: str, role: str) -> tuple[str, str]:
    status, text = await submit(client, f"{OPS}/staff", {"name": name, "role": role})
    found = TOKEN.search(text)
    assert status == 201 and found is not None, text
    return found.group(1), text


async def test_the_issues_bypass_is_refused_on_the_pages(
    client: TestClient, services: Services, tokens: dict[str, str]
) -> None:
    await ops_login(client, tokens["admin"])
    proposal = {"msisdn": ALICE, "points": "+500001", "reason": "bonus"}
    status, text = await submit(client, f"{OPS}/adjustments", proposal)
    assert status == 200 and "#1" in flash(text)
    mallory, _ = await new_member(client, "mallory", "finance")
    async with office_client(services) as accomplice:
        await ops_login(accomplice, mallory)
        status, text = await submit(accomplice, f"{OPS}/adjustments/1/approve", {})
        assert status == 403
        assert alert(text) == "两人规则:mallory由提出人admin任命,不能审批。"
    assert await balance(services) == 20_000
    assert ("mallory", "duty_refused", "adjustment:1") in await actions(services)

    await ops_login(client, tokens["finance"])  # in place before, appointed by nobody here
    status, text = await submit(client, f"{OPS}/adjustments/1/approve", {})
    assert status == 200 and flash(text).startswith("调整#1已批准并入账")
    assert await balance(services) == 520_001


def change_of(text: str, name: str) -> int:
    """The id of the waiting staff change of member ``name`` on the staff page."""
    found = re.search(rf'id="change-(\d+)"><td>\d+</td><td>{re.escape(name)}</td>', text)
    assert found is not None, text
    return int(found.group(1))


async def test_staff_changes_beyond_the_daily_limit_wait_for_a_second_admin(
    client: TestClient, services: Services, tokens: dict[str, str]
) -> None:
    await ops_login(client, tokens["admin"])
    await new_member(client, "li.wei", "support")  # the one change made alone today
    token, text = await new_member(client, "zhao", "finance")
    assert "须经另一位管理员审批后才能登录" in text
    status, text = await page(client, f"{OPS}/staff")
    waiting = text[text.index('id="staff-changes"') :]
    zhao = change_of(text, "zhao")
    assert "/approve" not in waiting  # not by whoever asked
    status, text = await submit(client, f"{OPS}/staff-changes/{zhao}/approve", {})
    assert status == 403 and alert(text) == "两人规则:admin不能审批自己提出的事项。"
    async with office_client(services) as early:  # the member does not exist yet
        status, text = await submit(early, f"{OPS}/login", {"token": token}, follow=False)
        assert status == 401 and alert(text) == "令牌无效或已停用。"
    status, text = await submit(client, f"{OPS}/staff/li.wei/role", {"role": "finance"})
    role = change_of(text, "li.wei")
    assert (
        status == 200
        and flash(text) == f"人员变更#{role}(li.wei)已提交,须由另一位管理员审批后生效。"
    )

    await ops_login(client, tokens["admin2"])
    status, text = await submit(client, f"{OPS}/staff-changes/{zhao}/approve", {})
    assert status == 200 and flash(text) == f"人员变更#{zhao}(zhao)已批准并生效。"
    async with office_client(services) as late:
        await ops_login(late, token)
        assert (await page(late, f"{OPS}/reports"))[0] == 200
    status, text = await submit(client, f"{OPS}/staff-changes/{role}/reject", {})
    assert status == 200 and flash(text) == f"人员变更#{role}(li.wei)已驳回。"
    member = await services.db.read(lambda conn: operator_staff.find(conn, "li.wei"))
    assert member.role == "support"

    status, text = await submit(client, f"{OPS}/staff/li.wei/disable", {})
    assert status == 200 and flash(text) == "员工li.wei已停用,其令牌和登录立即失效。"
    status, text = await submit(client, f"{OPS}/staff/li.wei/enable", {})
    assert status == 200 and flash(text) == "员工li.wei已重新启用。"  # admin2's one today
    status, text = await submit(client, f"{OPS}/staff/zhao/role", {"role": "support"})
    assert status == 200 and "须由另一位管理员审批" in flash(text)  # admin2's second today
    trail = await actions(services)
    for done in (
        ("admin", "staff_add", "staff:zhao"),
        ("admin2", "staff_change_approve", "staff:zhao"),
        ("admin2", "staff_change_reject", "staff:li.wei"),
        ("admin2", "staff_enable", "staff:li.wei"),
        ("admin2", "staff_role", "staff:zhao"),
    ):
        assert done in trail, done
