"""Back-office catalogue pages (issue 16 §1; §2.2.2, §2.2.7, §3.5.6): categories, brands,
items with picture, stock, payment methods and listing on/off, and activities, through the
same core functions as the admin API, audited, by role, with CSRF."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import Connection, select, update

from core.catalogue import management, photos
from core.platform.schema import activity
from pointshall.bootstrap import Services
from tests.support.helpers import seed_catalog
from tests.support.office import (
    OPS,
    PNG,
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

ITEM = {
    "code": "2002",
    "name_zh": "保温饭盒",
    "name_en": "Lunch box",
    "category": "LP",
    "kind": "physical",
    "points": "4500",
    "brand": "TH",
    "stock": "7",
    "voucher_days": "30",
    "cash": "12.50",
    "pay_methods": ["points_cash"],
    "description_zh": "不锈钢饭盒。",
    "description_en": "Steel lunch box.",
    "active": "1",
}


@pytest.fixture
async def tokens(services: Services) -> dict[str, str]:
    await seed_catalog(services)
    return await staff_tokens(services)


@pytest.fixture
async def client(services: Services, tokens: dict[str, str]) -> AsyncIterator[TestClient]:
    async with office_client(services) as c:
        yield c


async def test_categories_and_brands_are_added_and_changed(
    client: TestClient, services: Services, tokens: dict[str, str]
) -> None:
    await ops_login(client, tokens["business_admin"])
    status, text = await page(client, f"{OPS}/categories")
    assert status == 200 and "话费" in text and "LP" in text and 'name="create"' in text
    status, text = await submit(
        client,
        f"{OPS}/categories",
        {"create": "1", "code": "ds", "name_zh": "数码", "name_en": "Digital", "sort": "4"},
    )
    assert status == 200 and flash(text) == "分类DS已保存。" and "数码" in text
    status, text = await submit(
        client,
        f"{OPS}/categories",
        {"create": "1", "code": "DS", "name_zh": "又一个", "name_en": "Again"},
    )
    assert status == 409 and alert(text) == "DS已存在。"
    status, text = await page(client, f"{OPS}/categories?code=DS")
    assert 'value="数码"' in text and "修改 DS" in text
    status, text = await submit(
        client,
        f"{OPS}/categories",
        {"code": "DS", "name_zh": "数码产品", "name_en": "Digital goods", "sort": "5"},
    )
    assert status == 200 and "数码产品" in text
    found = await services.db.read(lambda conn: management.get_category(conn, "DS"))
    assert (found.name_zh, found.name_en, found.sort) == ("数码产品", "Digital goods", 5)
    status, text = await submit(
        client,
        f"{OPS}/brands",
        {"create": "1", "code": "XM", "name_zh": "小米", "name_en": "Xiaomi"},
    )
    assert status == 200 and flash(text) == "品牌XM已保存。"
    status, text = await submit(
        client, f"{OPS}/brands", {"create": "1", "code": "no way!", "name_zh": "", "name_en": "x"}
    )
    assert status == 400 and alert(text) == "请检查以下内容:编码, 中文名称。"
    assert await actions(services, "category:DS") == [
        ("business_admin", "category_save", "category:DS"),
        ("business_admin", "category_save", "category:DS"),
    ]
    assert await actions(services, "brand:XM") == [("business_admin", "brand_save", "brand:XM")]


async def test_an_item_is_created_edited_listed_and_pictured(
    client: TestClient, services: Services, tokens: dict[str, str]
) -> None:
    await ops_login(client, tokens["admin"])
    status, text = await page(client, f"{OPS}/items/new")
    assert status == 200 and 'name="pay_methods"' in text
    status, text = await submit(client, f"{OPS}/items", ITEM, form_page=f"{OPS}/items/new")
    assert status == 200 and flash(text) == "商品2002已保存。"
    spec = await services.db.read(lambda conn: management.item_spec(conn, "2002"))
    assert (spec.points, spec.stock, spec.cash_cents, spec.pay_methods) == (
        4500,
        7,
        1250,
        "points_cash",
    )
    assert spec.description_en == "Steel lunch box." and spec.brand == "TH" and spec.active

    edited = {k: v for k, v in ITEM.items() if k != "code"} | {"stock": "", "points": "4000"}
    status, text = await submit(client, f"{OPS}/items/2002", edited)
    assert status == 200 and 'id="stock">不限' in text
    spec = await services.db.read(lambda conn: management.item_spec(conn, "2002"))
    assert (spec.points, spec.stock) == (4000, None)

    status, text = await submit(client, f"{OPS}/items/2002/listing", {"active": "0"})
    assert status == 200 and flash(text) == "商品2002已下架。" and 'id="listing">已下架' in text
    assert not (await services.db.read(lambda conn: management.get_item(conn, "2002"))).active
    status, text = await submit(client, f"{OPS}/items/2002/listing", {"active": "1"})
    assert flash(text) == "商品2002已上架。"

    status, text = await submit(client, f"{OPS}/items/2002/picture", {"picture": b"GIF89a..."})
    assert status == 422 and alert(text) == "只能上传PNG或JPEG图片。"
    status, text = await submit(client, f"{OPS}/items/2002/picture", {"picture": PNG})
    assert status == 200 and flash(text) == "图片已保存。"
    subject = await services.db.read(lambda conn: management.item_photo_subject(conn, "2002"))
    assert subject is not None and f'src="{OPS}/photos/{subject}"' in text
    resp = await client.get(f"{OPS}/photos/{subject}")
    assert resp.status == 200 and resp.content_type == "image/png" and await resp.read() == PNG
    stored = await services.db.read(lambda conn: photos.get(conn, subject))
    assert stored is not None and stored.data == PNG
    assert [a for _, a, _ in await actions(services, "item 2002")] == [
        "item_save",
        "item_save",
        "item_deactivate",
        "item_activate",
    ]
    assert ("admin", "photo_put", subject) in await actions(services, subject)


async def test_item_form_refusals_are_shown_on_the_form(
    client: TestClient, services: Services, tokens: dict[str, str]
) -> None:
    await ops_login(client, tokens["business_admin"])
    new = f"{OPS}/items/new"
    bad = ITEM | {"points": "0", "cash": "1.234", "kind": "gold"}
    status, text = await submit(client, f"{OPS}/items", bad, form_page=new)
    assert status == 400
    assert alert(text) == "请检查以下内容:类型, 积分, 积分+现金的现金部分(元)。"
    assert 'value="保温饭盒"' in text  # the form keeps what was typed
    voucher = ITEM | {"code": "3009", "kind": "voucher", "category": "SJ"}  # no merchant
    status, text = await submit(client, f"{OPS}/items", voucher, form_page=new)
    assert status == 422 and "a voucher needs a merchant" in alert(text)
    status, text = await submit(client, f"{OPS}/items", ITEM | {"code": "2001"}, form_page=new)
    assert status == 409 and alert(text) == "2001已存在。"
    status, _ = await page(client, f"{OPS}/items/NOPE")
    assert status == 404


async def test_activities_are_saved_in_operator_time(
    client: TestClient, services: Services, tokens: dict[str, str]
) -> None:
    await ops_login(client, tokens["business_admin"])
    status, text = await page(client, f"{OPS}/activities")
    assert status == 200 and "双十一特惠" in text and "进行中" in text and "已结束" in text
    form = {
        "create": "1",
        "code": "A9",
        "title_zh": "春节",
        "title_en": "Spring Festival",
        "starts_at": "2027-02-01T00:00",
        "ends_at": "2027-02-10T23:59",
        "per_account_limit": "2",
    }
    status, text = await submit(client, f"{OPS}/activities", form)
    assert status == 200 and flash(text) == "活动A9已保存。" and "即将开始" in text
    found = await services.db.read(lambda conn: management.get_activity(conn, "A9"))
    assert found.starts_at == datetime(2027, 2, 1, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
    assert found.per_account_limit == 2

    def body(conn: Connection) -> tuple[str, str]:
        row = conn.execute(
            select(activity.c.body_zh, activity.c.body_en).where(activity.c.code == "A1")
        ).one()
        return row[0], row[1]

    await services.db.write(
        lambda conn: conn.execute(
            update(activity)
            .where(activity.c.code == "A1")
            .values(body_zh="全场八折", body_en="20% off")
        )
    )
    status, text = await page(client, f"{OPS}/activities?code=A1")
    assert "修改 A1" in text and 'value="双十一特惠"' in text
    changed = {
        "code": "A1",
        "title_zh": "双十一大促",
        "title_en": "Singles Day sale",
        "starts_at": "2026-11-01T00:00",
        "ends_at": "2026-11-30T00:00",
        "per_account_limit": "1",
    }
    status, text = await submit(client, f"{OPS}/activities", changed)
    assert status == 200 and "双十一大促" in text
    assert await services.db.read(body) == ("全场八折", "20% off")  # the chat's text is kept
    backwards = form | {"code": "A8", "ends_at": "2027-01-01T00:00"}
    status, text = await submit(client, f"{OPS}/activities", backwards)
    assert status == 422 and "ends_at" in alert(text)


async def test_finance_and_support_read_the_catalogue_but_change_nothing(
    client: TestClient, services: Services, tokens: dict[str, str]
) -> None:
    for role in ("finance", "support"):
        await ops_login(client, tokens[role])
        status, text = await page(client, f"{OPS}/items/2001")
        assert status == 200 and "保温杯" in text and 'id="item-form"' not in text
        assert 'id="unlist"' not in text
        status, text = await page(client, f"{OPS}/categories")
        assert status == 200 and 'id="form"' not in text
        assert (await page(client, f"{OPS}/items/new"))[0] == 403
        for path, data in (
            (f"{OPS}/items/2001/listing", {"active": "0"}),
            (f"{OPS}/categories", {"create": "1", "code": "X", "name_zh": "x", "name_en": "x"}),
            (f"{OPS}/items/2001/picture", {"picture": PNG}),
        ):
            status, text = await submit(client, path, data, form_page=f"{OPS}/items")
            assert status == 403 and "您没有权限访问此页面" in text, (role, path)
    assert (await services.db.read(lambda conn: management.get_item(conn, "2001"))).active
    assert [a for a in await actions(services) if a[0] != "test" and a[1] != "ops_login"] == []


async def test_forms_without_the_csrf_token_change_nothing(
    client: TestClient, services: Services, tokens: dict[str, str]
) -> None:
    await ops_login(client, tokens["admin"])
    for csrf in (None, "forged"):
        data = {"active": "0"} | ({"csrf": csrf} if csrf else {})
        resp = await client.post(f"{OPS}/items/2001/listing", data=data, allow_redirects=False)
        assert resp.status == 403 and "表单已过期" in await resp.text()
    assert (await services.db.read(lambda conn: management.get_item(conn, "2001"))).active


async def test_items_are_filtered_and_paged_in_english(
    client: TestClient, services: Services, tokens: dict[str, str]
) -> None:
    await ops_login(client, tokens["support"])
    await client.get(f"/console/lang/en?next={OPS}/items")
    status, text = await page(client, f"{OPS}/items?category=HF")
    assert status == 200 and "50 yuan credit" in text and "Vacuum flask" not in text
    assert "phone credit" in text and "Page 1 of 1, 2 in all" in text
    status, text = await page(client, f"{OPS}/items?q=flask")
    assert "Vacuum flask" in text and "Coffee voucher" not in text
    status, text = await page(client, f"{OPS}/items?page=99")
    assert status == 200 and "Nothing here yet." in text
