"""Separation of duties that one person cannot defeat (issue 13 §3), through the admin API on
both databases: the issue's bypass (an admin proposes +500,001 points, creates a finance
member with ``POST /staff`` and approves with that member's token) is refused with its
reason, and so are its variants (the accomplice made first, re-enabled, promoted, made by
someone else after the proposal); staff changes are audited and beyond the daily limit
wait for a second, independent admin; a final review needs someone other than the first
reviewer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from core.backoffice.staffing import DEFAULT_ALONE_PER_DAY
from core.points import doctor
from pointshall.app import build_app
from pointshall.bootstrap import Services
from tests.integration.test_admin_api import balance
from tests.support.admin_helpers import Admin, audit_actions, make_staff
from tests.support.merchant_helpers import ALICE, merchant_mall

BEFORE = 50_000
LIMIT = DEFAULT_ALONE_PER_DAY


@pytest.fixture
async def admin(services: Services, tmp_path: Path) -> AsyncIterator[Admin]:
    await merchant_mall(services, tmp_path)
    tokens = await make_staff(services)
    async with TestClient(TestServer(build_app(services, drain=False))) as client:
        yield Admin(client, tokens)


async def propose(admin: Admin, who: str, points: int) -> int:
    status, made = await admin.call(
        "POST", "/adjustments", who, {"msisdn": ALICE, "points": points, "reason": "ticket 9"}
    )
    assert status == 201, made
    return int(made["id"])


async def new_member(admin: Admin, by: str, name: str, role: str) -> dict[str, Any]:
    status, made = await admin.call("POST", "/staff", by, {"name": name, "role": role})
    assert status == 201, made
    admin.tokens[name] = made["token"]
    return dict(made)


def refused(answer: tuple[int, Any], why: str) -> None:
    status, problem = answer
    assert status == 403, answer
    assert problem["type"].endswith("two_person_rule") and why in problem["detail"], problem


async def test_the_two_person_bypass_of_the_issue_is_refused(
    admin: Admin, services: Services
) -> None:
    adjustment = await propose(admin, "admin", 500_001)
    await new_member(admin, "admin", "mallory", "finance")
    approve = f"/adjustments/{adjustment}/approve"
    refused(await admin.call("POST", approve, "mallory"), "appointed by proposer")
    assert await balance(services) == BEFORE
    status, still = await admin.call("GET", f"/adjustments/{adjustment}", "support")
    assert status == 200 and still["status"] == "proposed" and still["entry_id"] is None

    status, trail = await admin.call(
        "GET", "/audit", "admin", params={"subject": f"adjustment:{adjustment}"}
    )
    assert [(r["actor"], r["action"], r["result"]) for r in trail] == [  # newest first
        ("mallory", "duty_refused", "appointed_by_proposer"),
        ("admin", "adjustment_propose", "proposed"),
    ]

    status, done = await admin.call("POST", approve, "finance")  # in place before, independent
    assert status == 200 and done["decided_by"] == "finance"
    assert await balance(services) == BEFORE + 500_001
    assert (await services.db.read(doctor.examine)).ok


async def test_the_accomplice_made_before_the_proposal_is_refused_too(admin: Admin) -> None:
    await new_member(admin, "admin", "early", "finance")
    adjustment = await propose(admin, "admin", 9_000)
    refused(await admin.call("POST", f"/adjustments/{adjustment}/approve", "early"), "appointed")


async def test_standing_given_after_the_proposal_does_not_count(
    admin: Admin, services: Services
) -> None:
    adjustment = await propose(admin, "support", 1_000)
    approve = f"/adjustments/{adjustment}/approve"
    await new_member(admin, "admin2", "newfin", "finance")  # by another admin, but too late
    refused(await admin.call("POST", approve, "newfin"), "joined after")

    status, _ = await admin.call("POST", "/staff/finance/disable", "admin2")
    assert status == 200
    status, back = await admin.call("POST", "/staff/finance/enable", "admin2")
    assert status == 200 and back["staff"]["disabled_at"] is None and not back["pending"]
    refused(await admin.call("POST", approve, "finance"), "joined after")

    status, promoted = await admin.call(
        "POST", "/staff/business_admin/role", "admin2", {"role": "finance"}
    )
    assert status == 200 and promoted["staff"]["role"] == "finance"
    refused(await admin.call("POST", approve, "business_admin"), "joined after")
    assert await balance(services) == BEFORE
    status, _done = await admin.call("POST", approve, "admin")
    assert status == 200 and await balance(services) == BEFORE + 1_000


async def test_staff_changes_are_audited_and_limited(admin: Admin, services: Services) -> None:
    for n in range(LIMIT):
        made = await new_member(admin, "admin", f"s{n}", "support")
        assert not made["pending"] and made["staff"]["name"] == f"s{n}"
    held = await new_member(admin, "admin", "s9", "support")
    assert held["pending"] and held["staff"] is None and held["change"]["status"] == "pending"
    assert (await admin.call("GET", "/me", "s9"))[0] == 401  # not until approved
    status, waiting = await admin.call("GET", "/staff-changes", "admin2")
    assert status == 200 and [c["name"] for c in waiting] == ["s9"]
    change = f"/staff-changes/{held['change']['id']}"
    status, problem = await admin.call("POST", f"{change}/approve", "admin")
    assert status == 403 and "same person" in problem["detail"]
    assert (await admin.call("POST", f"{change}/approve", "s0"))[0] == 403  # support
    status, approved = await admin.call("POST", f"{change}/approve", "admin2")
    assert status == 200 and approved["change"]["status"] == "approved"
    assert approved["change"]["decided_by"] == "admin2"
    assert (await admin.call("GET", "/me", "s9"))[1]["name"] == "s9"
    assert (await admin.call("POST", f"{change}/approve", "admin2"))[0] == 409

    status, role_held = await admin.call("POST", "/staff/s0/role", "admin", {"role": "finance"})
    assert status == 200 and role_held["pending"] and role_held["staff"]["role"] == "support"
    rejected = await admin.call(
        "POST", f"/staff-changes/{role_held['change']['id']}/reject", "admin2"
    )
    assert rejected[0] == 200 and rejected[1]["change"]["status"] == "rejected"
    assert (await admin.call("GET", "/me", "s0"))[1]["role"] == "support"
    status, _ = await admin.call("POST", "/staff/admin/disable", "admin")
    assert status == 422  # nobody changes their own record
    status, history = await admin.call("GET", "/staff-changes", "admin", params={"status": "all"})
    assert [(c["name"], c["kind"], c["status"]) for c in history[:2]] == [
        ("s0", "role", "rejected"),
        ("s9", "create", "approved"),
    ]
    assert await audit_actions(services, "staff:s9") == [
        ("admin", "staff_add"),
        ("admin2", "staff_change_approve"),
    ]


async def test_a_final_review_needs_someone_independent_of_the_first(
    admin: Admin, services: Services
) -> None:
    from core.merchants import admission

    now = admin_now(services)
    for code in ("M7", "M8"):
        await services.db.write(
            lambda conn, code=code: admission.apply(
                conn, code=code, name_zh="店", name_en="Shop", applicant="+8613511112222", now=now
            )
        )
    first = "/merchant-applications/{}/first-review"
    final = "/merchant-applications/{}/final-review"
    for n in (1, 2):
        status, _ = await admin.call(
            "POST", first.format(n), "admin", {"decision": "pass", "reason": "ok"}
        )
        assert status == 200
    refused(
        await admin.call("POST", final.format(1), "admin", {"decision": "approve"}), "same person"
    )
    await new_member(admin, "admin", "crony", "admin")
    refused(
        await admin.call("POST", final.format(1), "crony", {"decision": "approve"}), "appointed"
    )
    status, done = await admin.call("POST", final.format(1), "admin2", {"decision": "approve"})
    assert status == 200 and done["status"] == "approved" and done["first_reviewer"] == "admin"
    status, rejected = await admin.call(
        "POST", final.format(2), "admin", {"decision": "reject", "reason": "no"}
    )
    assert status == 200 and rejected["status"] == "rejected"  # refusing needs no second person


def admin_now(services: Services) -> int:
    from core.platform.clock import epoch

    return epoch(services.clock.now())
