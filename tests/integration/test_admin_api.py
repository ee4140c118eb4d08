"""Admin API (issue 8, DESIGN §7): behaviour per resource, through HTTP, on both databases."""

from __future__ import annotations

import asyncio
import base64
import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import openpyxl
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Connection, select

from api.admin.app import BASE, all_routes, build_admin_app
from api.admin.deps import AdminDeps
from api.admin.registry import openapi
from core.backoffice import operator_staff
from core.catalogue import photos, submissions
from core.catalogue.editing import ItemSpec
from core.merchants import admission
from core.platform.clock import epoch
from core.platform.schema import entry
from core.points import doctor
from pointshall.app import build_app
from pointshall.bootstrap import Services
from tests.integration.test_settlement import (
    DECEMBER,
    PERIOD,
    month_of_consumption,
    settle_all,
)
from tests.support.admin_helpers import Admin, audit_actions, buy_flask, make_staff
from tests.support.merchant_helpers import ALICE, merchant_mall

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
async def admin(services: Services, tmp_path: Path) -> AsyncIterator[Admin]:
    await merchant_mall(services, tmp_path)
    tokens = await make_staff(services)
    async with TestClient(TestServer(build_app(services, drain=False))) as client:
        yield Admin(client, tokens)


# ----------------------------------------------------------------------- OpenAPI


async def test_openapi_lists_exactly_the_registered_routes(admin: Admin) -> None:
    status, doc = await admin.call("GET", "/openapi.json", who=None)
    assert status == 200
    assert doc["openapi"].startswith("3.1")
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    registered = {(r.method, r.path) for r in all_routes()}
    assert documented == registered
    for ops in doc["paths"].values():
        for op in ops.values():
            assert op["x-roles"], op["operationId"]
            assert "401" in op["responses"] and "403" in op["responses"]


async def test_router_serves_exactly_the_documented_routes(services: Services) -> None:
    deps = AdminDeps(
        services.db, services.clock, services.keyring, services.rules, services.rules.timezone
    )
    sub = build_admin_app(deps)
    served = {
        (r.method, r.resource.canonical)
        for r in sub.router.routes()
        if r.resource is not None and r.method != "HEAD"
    }
    document = openapi(all_routes(), BASE)
    documented = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    assert served == documented | {("GET", "/openapi.json")}


# -------------------------------------------------------------------- catalogue


async def test_catalogue_crud_is_audited(admin: Admin, services: Services) -> None:
    status, cat = await admin.call(
        "POST",
        "/categories",
        "business_admin",
        {"code": "dz", "name_zh": "电子", "name_en": "Gadgets", "sort": 5},
    )
    assert status == 201 and cat == {
        "code": "DZ",
        "name_zh": "电子",
        "name_en": "Gadgets",
        "sort": 5,
    }
    status, again = await admin.call(
        "POST", "/categories", "admin", {"code": "DZ", "name_zh": "x", "name_en": "x"}
    )
    assert status == 409 and again["status"] == 409
    status, _brand = await admin.call(
        "POST", "/brands", "admin", {"code": "AP", "name_zh": "苹果", "name_en": "Apple"}
    )
    assert status == 201
    item = {
        "code": "5001",
        "name_zh": "耳机",
        "name_en": "Earphones",
        "category": "DZ",
        "brand": "AP",
        "kind": "physical",
        "points": 9000,
        "stock": 3,
    }
    status, made = await admin.call("POST", "/items", "business_admin", item)
    assert status == 201, made
    assert made["code"] == "5001" and made["stock"] == 3 and made["active"] is True
    status, changed = await admin.call(
        "PUT",
        "/items/5001",
        "business_admin",
        {**{k: v for k, v in item.items() if k != "code"}, "points": 8000},
    )
    assert status == 200 and changed["points"] == 8000
    status, off = await admin.call("POST", "/items/5001/deactivate", "admin")
    assert status == 200 and off["active"] is False
    status, listed = await admin.call("GET", "/items", "support", params={"category": "DZ"})
    assert status == 200 and [i["code"] for i in listed] == ["5001"]
    status, missing = await admin.call("GET", "/items/NOPE", "finance")
    assert status == 404 and missing["type"].endswith("not_found")
    status, bad = await admin.call(
        "POST", "/items", "admin", {**item, "code": "5002", "category": "ZZ"}
    )
    assert status == 422, bad
    status, bad = await admin.call("POST", "/items", "admin", {**item, "points": "many"})
    assert status == 400 and "points" in bad["detail"]
    assert await audit_actions(services, "item 5001") == [
        ("business_admin", "item_save"),
        ("business_admin", "item_save"),
        ("admin", "item_deactivate"),
    ]


async def test_finance_cannot_edit_the_catalogue(admin: Admin) -> None:
    """Acceptance (issue 8): a finance user cannot edit the catalogue."""
    status, before = await admin.call("GET", "/items/2001", "finance")
    assert status == 200
    edits = [
        ("POST", "/categories", {"code": "X1", "name_zh": "x", "name_en": "x"}),
        ("PUT", "/categories/LP", {"name_zh": "x", "name_en": "x"}),
        (
            "PUT",
            "/items/2001",
            {"name_zh": "x", "name_en": "x", "category": "LP", "kind": "physical", "points": 1},
        ),
        ("POST", "/items/2001/deactivate", None),
        (
            "POST",
            "/activities",
            {"code": "A9", "title_zh": "x", "title_en": "x", "starts_at": 1, "ends_at": 2},
        ),
    ]
    for method, path, body in edits:
        status, problem = await admin.call(method, path, "finance", body)
        assert status == 403, (method, path)
        assert problem["type"].endswith("forbidden")
    assert await admin.call("GET", "/items/2001", "finance") == (200, before)


async def test_activities_refuse_an_end_before_the_start(admin: Admin) -> None:
    body = {
        "code": "A5",
        "title_zh": "春节",
        "title_en": "Spring",
        "starts_at": 2000,
        "ends_at": 1000,
    }
    status, _problem = await admin.call("POST", "/activities", "admin", body)
    assert status == 422
    status, made = await admin.call("POST", "/activities", "admin", {**body, "ends_at": 3000})
    assert status == 201 and made["code"] == "A5"
    status, got = await admin.call("GET", "/activities/a5", "support")
    assert status == 200 and got["ends_at"] == 3000


# ---------------------------------------------------------------------- content


async def test_announcements_banners_ads_with_pictures(admin: Admin, services: Services) -> None:
    ann = {"title_zh": "公告", "title_en": "Notice", "body_zh": "内容", "body_en": "Body"}
    status, made = await admin.call("POST", "/announcements", "business_admin", ann)
    assert status == 201 and made["pinned"] is False
    status, changed = await admin.call(
        "PUT", f"/announcements/{made['id']}", "admin", {**ann, "pinned": True}
    )
    assert status == 200 and changed["pinned"] is True
    assert (await admin.call("DELETE", f"/announcements/{made['id']}", "admin"))[0] == 204
    assert (await admin.call("GET", f"/announcements/{made['id']}", "admin"))[0] == 404

    status, banner = await admin.call(
        "POST", "/banners", "business_admin", {"activity": "A1", "sort": 2}
    )
    assert status == 201 and banner["image"] is None and banner["activity"] == "A1"
    picture = {"data_base64": base64.b64encode(PNG).decode()}
    status, shown = await admin.call(
        "PUT", f"/banners/{banner['id']}/picture", "business_admin", picture
    )
    assert status == 200 and shown["image"] == f"banner:{banner['id']}"
    status, data = await admin.call("GET", f"/photos/{shown['image']}", "support")
    assert status == 200 and data == PNG
    not_image = {"data_base64": base64.b64encode(b"hello").decode()}
    assert (await admin.call("PUT", f"/banners/{banner['id']}/picture", "admin", not_image))[
        0
    ] == 422
    assert (
        await admin.call("PUT", f"/banners/{banner['id']}/picture", "admin", {"data_base64": "%%"})
    )[0] == 400
    status, off = await admin.call("DELETE", f"/banners/{banner['id']}", "admin")
    assert status == 200 and off["active"] is False

    ad = {"title_zh": "广告", "title_en": "Ad", "target_kind": "item", "target": "2001"}
    status, made_ad = await admin.call("POST", "/ads", "admin", ad)
    assert status == 201 and made_ad["active"] is True and made_ad["image"] is None
    status, with_picture = await admin.call(
        "PUT", f"/ads/{made_ad['id']}/picture", "admin", picture
    )
    assert status == 200 and with_picture["image"] == f"ad:{made_ad['id']}"
    status, data = await admin.call("GET", f"/photos/ad:{made_ad['id']}", "finance")
    assert status == 200 and data == PNG
    assert (await admin.call("GET", "/photos/ad:987654", "admin"))[0] == 404
    assert (await admin.call("GET", "/photos/order:1", "admin"))[0] == 400
    status, off_ad = await admin.call("DELETE", f"/ads/{made_ad['id']}", "admin")
    assert status == 200 and off_ad["active"] is False
    assert ("business_admin", "photo_put") in await audit_actions(
        services, f"banner:{banner['id']}"
    )


# -------------------------------------------------------------------- merchants


async def test_merchant_application_first_then_final_review(
    admin: Admin, services: Services
) -> None:
    now = epoch(services.clock.now())
    app = await services.db.write(
        lambda conn: admission.apply(
            conn, code="M7", name_zh="面包房", name_en="Bakery", applicant="+8613900139007", now=now
        )
    )
    path = f"/merchant-applications/{app.id}"
    status, listed = await admin.call(
        "GET", "/merchant-applications", "business_admin", params={"status": "submitted"}
    )
    assert status == 200 and [a["id"] for a in listed] == [app.id]
    status, problem = await admin.call(
        "POST", f"{path}/final-review", "admin", {"decision": "approve"}
    )
    assert status == 409, problem
    assert (
        await admin.call("POST", f"{path}/final-review", "business_admin", {"decision": "approve"})
    )[0] == 403
    status, started = await admin.call(
        "POST", f"{path}/first-review", "business_admin", {"decision": "start"}
    )
    assert status == 200 and started["status"] == "first_review"
    status, passed = await admin.call(
        "POST", f"{path}/first-review", "business_admin", {"decision": "pass", "reason": "ok"}
    )
    assert status == 200 and passed["status"] == "final_review"
    status, problem = await admin.call(
        "POST", f"{path}/first-review", "business_admin", {"decision": "reject"}
    )
    assert status == 409
    status, approved = await admin.call(
        "POST", f"{path}/final-review", "admin", {"decision": "approve", "reason": "fine"}
    )
    assert status == 200 and approved["status"] == "approved" and approved["merchant_id"]
    assert [a for _, a in await audit_actions(services, f"application:{app.id}")] == [
        "application_submit",
        "application_review",
        "application_review",
        "application_review",
    ]


async def test_goods_review_queue(admin: Admin, services: Services) -> None:
    now = epoch(services.clock.now())
    spec = ItemSpec("3009", "蛋糕券", "Cake voucher", "SJ", "voucher", 800)
    await services.db.write(
        lambda conn: submissions.submit(conn, "M1", spec, "+8613700137001", now)
    )
    status, queue = await admin.call("GET", "/goods-reviews", "business_admin")
    assert status == 200 and [g["code"] for g in queue] == ["3009"] and queue[0]["merchant"] == "M1"
    assert (await admin.call("POST", "/goods-reviews/3009", "finance", {"decision": "approve"}))[
        0
    ] == 403
    status, left = await admin.call(
        "POST", "/goods-reviews/3009", "business_admin", {"decision": "approve"}
    )
    assert status == 200 and left == []
    status, listed = await admin.call("GET", "/items/3009", "admin")
    assert listed["active"] is True
    assert (await admin.call("POST", "/goods-reviews/3009", "admin", {"decision": "reject"}))[
        0
    ] == 404


# ----------------------------------------------------------------------- orders


async def test_order_logistics_paid_shipped_delivered(admin: Admin, services: Services) -> None:
    no = await buy_flask(services)
    status, order = await admin.call("GET", f"/orders/{no}", "support")
    assert status == 200 and order["status"] == "paid" and order["carrier"] is None
    assert (await admin.call("POST", f"/orders/{no}/deliver", "business_admin"))[0] == 409
    assert (
        await admin.call(
            "POST", f"/orders/{no}/ship", "support", {"carrier": "SF", "tracking_no": "1"}
        )
    )[0] == 403
    ship = {"carrier": "SF Express", "tracking_no": "SF123456789"}
    status, shipped = await admin.call("POST", f"/orders/{no}/ship", "business_admin", ship)
    assert status == 200 and shipped["status"] == "shipped"
    assert (shipped["carrier"], shipped["tracking_no"]) == ("SF Express", "SF123456789")
    assert (await admin.call("POST", f"/orders/{no}/ship", "business_admin", ship))[0] == 409
    status, delivered = await admin.call("POST", f"/orders/{no}/deliver", "admin")
    assert status == 200 and delivered["status"] == "delivered"
    assert (await admin.call("GET", "/orders/999999999999", "admin"))[0] == 404
    assert [a for _, a in await audit_actions(services, f"order:{no}")] == [
        "order_ship",
        "order_deliver",
    ]


# ---------------------------------------------------- subscribers, adjustments


async def test_subscriber_lookup_is_read_only_and_paged(admin: Admin) -> None:
    status, card = await admin.call("GET", "/subscribers/13800138000", "support")
    assert status == 200 and card["msisdn"] == ALICE and card["account"]["balance"] == 50_000
    status, page = await admin.call(
        "GET", f"/subscribers/{ALICE}/entries", "finance", params={"limit": "5"}
    )
    assert status == 200 and page["total"] == 1 and page["entries"][0]["amount"] == 50_000
    assert (await admin.call("GET", "/subscribers/13800138999", "support"))[0] == 404
    assert (await admin.call("GET", "/subscribers/13800138000", "business_admin"))[0] == 403


async def balance(services: Services) -> int:
    from core.points import ledger
    from core.subscribers import subscribers

    def q(conn: Connection) -> int:
        sub = subscribers.find(conn, ALICE)
        assert sub is not None
        account_id = ledger.account_id_of(conn, sub.id)
        assert account_id is not None
        return ledger.summary(conn, account_id, 0).balance

    return await services.db.read(q)


async def test_adjustments_need_two_people_and_never_go_negative(
    admin: Admin, services: Services
) -> None:
    status, plus = await admin.call(
        "POST", "/adjustments", "support", {"msisdn": ALICE, "points": 700, "reason": "goodwill"}
    )
    assert status == 201 and plus["status"] == "proposed" and plus["proposed_by"] == "support"
    assert (await admin.call("POST", f"/adjustments/{plus['id']}/approve", "support"))[0] == 403
    assert await balance(services) == 50_000
    status, done = await admin.call("POST", f"/adjustments/{plus['id']}/approve", "finance")
    assert status == 200 and done["status"] == "approved" and done["decided_by"] == "finance"
    assert await balance(services) == 50_700
    assert (await admin.call("POST", f"/adjustments/{plus['id']}/approve", "admin"))[0] == 409
    keys = await services.db.read(
        lambda conn: list(
            conn.execute(
                select(entry.c.idempotency_key, entry.c.amount).where(entry.c.kind == "adjust")
            )
        )
    )
    assert [tuple(k) for k in keys] == [(f"adjust:{plus['id']}", 700)]

    status, own = await admin.call(
        "POST", "/adjustments", "admin", {"msisdn": ALICE, "points": -5, "reason": "typo"}
    )
    status, refused = await admin.call("POST", f"/adjustments/{own['id']}/approve", "admin")
    assert status == 403 and refused["type"].endswith("two_person_rule")
    status, _other = await admin.call("POST", f"/adjustments/{own['id']}/approve", "admin2")
    assert status == 200 and await balance(services) == 50_695

    status, huge = await admin.call(
        "POST", "/adjustments", "admin", {"msisdn": ALICE, "points": -60_000, "reason": "x"}
    )
    status, problem = await admin.call("POST", f"/adjustments/{huge['id']}/approve", "finance")
    assert status == 409 and problem["type"].endswith("insufficient_points")
    assert await balance(services) == 50_695
    status, still = await admin.call("GET", f"/adjustments/{huge['id']}", "support")
    assert still["status"] == "proposed" and still["entry_id"] is None
    status, rejected = await admin.call(
        "POST", f"/adjustments/{huge['id']}/reject", "finance", {"reason": "too much"}
    )
    assert status == 200 and rejected["status"] == "rejected"
    assert (
        await admin.call(
            "POST", "/adjustments", "support", {"msisdn": ALICE, "points": 0, "reason": "x"}
        )
    )[0] == 422
    assert (
        await admin.call(
            "POST",
            "/adjustments",
            "support",
            {"msisdn": "+8613800138999", "points": 5, "reason": "x"},
        )
    )[0] == 404
    report = await services.db.read(doctor.examine)
    assert report.ok, report.discrepancies
    actions = [a for _, a in await audit_actions(services, f"adjustment:{plus['id']}")]
    assert actions == ["adjustment_propose", "adjustment_approve"]


# ------------------------------------------------------------ staff and audit


async def test_staff_created_by_api_can_call_and_disabled_cannot(admin: Admin) -> None:
    status, made = await admin.call("POST", "/staff", "admin", {"name": "carol", "role": "finance"})
    assert status == 201 and made["staff"]["role"] == "finance"
    admin.tokens["carol"] = made["token"]
    assert (await admin.call("GET", "/me", "carol"))[1]["name"] == "carol"
    assert (await admin.call("POST", "/staff", "finance", {"name": "dave", "role": "admin"}))[
        0
    ] == 403
    assert (await admin.call("POST", "/staff/admin/disable", "admin"))[0] == 422
    status, off = await admin.call("POST", "/staff/carol/disable", "admin")
    assert status == 200 and off["disabled_at"] is not None
    status, problem = await admin.call("GET", "/me", "carol")
    assert status == 401 and problem["type"].endswith("unauthorized")
    status, audit_rows = await admin.call(
        "GET", "/audit", "admin", params={"subject": "staff:carol"}
    )
    assert [r["action"] for r in audit_rows] == ["staff_disable", "staff_add"]


async def test_tokens_are_stored_only_as_keyed_hashes(admin: Admin, services: Services) -> None:
    from core.platform.schema import staff as staff_table

    hashes = await services.db.read(
        lambda conn: list(conn.execute(select(staff_table.c.token_hash)).scalars())
    )
    for token in admin.tokens.values():
        assert token not in hashes
    assert (
        await services.db.read(
            lambda conn: operator_staff.authenticate(conn, services.keyring, "psa_guess")
        )
        is None
    )


# ---------------------------------------------------------- statements, reports


async def test_statements_approve_pay_and_reports(services: Services, tmp_path: Path) -> None:
    await month_of_consumption(services, tmp_path)
    services.clock.set(DECEMBER)
    made = {s.merchant_code: s for s in await settle_all(services, period=PERIOD)}
    tokens = await make_staff(services)
    async with TestClient(TestServer(build_app(services, drain=False))) as client:
        admin = Admin(client, tokens)
        status, listed = await admin.call(
            "GET", "/statements", "finance", params={"period": PERIOD, "merchant": "m1"}
        )
        assert status == 200 and [s["id"] for s in listed] == [made["M1"].id]
        sid = made["M1"].id
        status, _problem = await admin.call("POST", f"/statements/{sid}/approve", "finance")
        assert status == 409  # still a draft: the merchant has not confirmed it
        now = epoch(services.clock.now())
        from core.settlement import statements

        await services.db.write(
            lambda conn: statements.move(conn, sid, "confirm", by="M1", now=now)
        )
        assert (await admin.call("POST", f"/statements/{sid}/approve", "admin"))[0] == 403
        status, approved = await admin.call("POST", f"/statements/{sid}/approve", "finance")
        assert status == 200 and approved["status"] == "approved"
        status, paid = await admin.call("POST", f"/statements/{sid}/pay", "finance")
        assert status == 200 and paid["status"] == "paid" and paid["updated_by"] == "finance"

        status, data = await admin.call(
            "GET", f"/statements/{sid}/report", "finance", params={"format": "csv"}
        )
        assert status == 200
        rows = list(csv.reader(io.StringIO(data.decode())))
        assert rows[0][0] == "line" and len(rows) == 1 + made["M1"].lines
        status, data = await admin.call(
            "GET", "/reports/points-cost", "admin", params={"period": PERIOD}
        )
        assert status == 200
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        assert book.sheetnames
        status, data = await admin.call(
            "GET", "/reports/points-cost", "finance", params={"period": PERIOD, "format": "csv"}
        )
        assert status == 200 and data.decode().splitlines()[0].startswith("category")
        assert (
            await admin.call(
                "GET", "/reports/points-cost", "business_admin", params={"period": PERIOD}
            )
        )[0] == 403
        assert (
            await admin.call("GET", "/reports/points-cost", "finance", params={"period": "2026-13"})
        )[0] == 400


async def test_simultaneous_approvals_post_one_entry(admin: Admin, services: Services) -> None:
    proposal = {"msisdn": ALICE, "points": 300, "reason": "outage credit"}
    status, made = await admin.call("POST", "/adjustments", "support", proposal)
    assert status == 201
    path = f"/adjustments/{made['id']}/approve"
    answers = await asyncio.gather(
        admin.call("POST", path, "finance"), admin.call("POST", path, "admin2")
    )
    assert sorted(status for status, _ in answers) == [200, 409]
    assert await balance(services) == 50_300
    report = await services.db.read(doctor.examine)
    assert report.ok, report.discrepancies


async def test_picture_size_limits(admin: Admin) -> None:
    status, banner = await admin.call("POST", "/banners", "admin", {"activity": "A1"})
    path = f"/banners/{banner['id']}/picture"

    def encoded(size: int) -> dict[str, str]:
        return {"data_base64": base64.b64encode(PNG + b"\x00" * (size - len(PNG))).decode()}

    assert (await admin.call("PUT", path, "admin", encoded(300_000)))[0] == 200
    assert (await admin.call("PUT", path, "admin", encoded(photos.UPLOAD_BYTES + 1)))[0] == 422
    assert (await admin.call("PUT", path, "admin", encoded(600_000)))[0] == 400  # > maxLength
    status, problem = await admin.call("PUT", path, "admin", encoded(900_000))
    assert status == 413 and problem["type"].endswith("too_large")
