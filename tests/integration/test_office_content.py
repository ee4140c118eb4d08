"""Back-office content pages (issue 16 §1; §2.2.1, §2.2.3–5): announcements, banners and ads
with pictures and targets, through core.catalogue.management, audited, by role."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient

from core.catalogue import management, photos
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
NEWS = {
    "title_zh": "停机维护",
    "title_en": "Maintenance",
    "body_zh": "周日凌晨维护。",
    "body_en": "Sunday night.",
}


@pytest.fixture
async def tokens(services: Services) -> dict[str, str]:
    await seed_catalog(services)
    return await staff_tokens(services)


@pytest.fixture
async def client(services: Services, tokens: dict[str, str]) -> AsyncIterator[TestClient]:
    async with office_client(services) as c:
        yield c


async def test_an_announcement_is_published_changed_and_removed(
    client: TestClient, services: Services, tokens: dict[str, str]
) -> None:
    await ops_login(client, tokens["business_admin"])
    status, text = await submit(client, f"{OPS}/announcements", NEWS | {"pinned": "1"})
    assert status == 200 and flash(text) == "公告#1已保存。" and "停机维护" in text
    found = await services.db.read(management.announcements)
    assert [(a.title_en, a.pinned) for a in found] == [("Maintenance", True)]
    status, text = await page(client, f"{OPS}/announcements?id=1")
    assert "修改 #1" in text and "周日凌晨维护。" in text
    status, text = await submit(
        client, f"{OPS}/announcements", NEWS | {"id": "1", "body_en": "Moved."}
    )
    assert status == 200
    assert (await services.db.read(lambda c: management.get_announcement(c, 1))).body_en == "Moved."
    assert not (await services.db.read(lambda c: management.get_announcement(c, 1))).pinned
    status, text = await submit(client, f"{OPS}/announcements", NEWS | {"title_zh": ""})
    assert status == 400 and alert(text) == "请检查以下内容:中文标题。"
    status, text = await submit(client, f"{OPS}/announcements/1/delete", {})
    assert status == 200 and flash(text) == "公告#1已删除。"
    assert await services.db.read(management.announcements) == []
    status, text = await submit(client, f"{OPS}/announcements/1/delete", {})
    assert status == 404 and alert(text) == "没有找到该记录。"
    assert [a for _, a, _ in await actions(services, "announcement:1")] == [
        "announcement_create",
        "announcement_update",
        "announcement_delete",
    ]


async def test_a_banner_with_its_picture_and_an_ad_with_a_target(
    client: TestClient, services: Services, tokens: dict[str, str]
) -> None:
    await ops_login(client, tokens["admin"])
    status, text = await submit(
        client, f"{OPS}/banners", {"activity": "A1", "sort": "2", "active": "1"}
    )
    assert status == 200 and flash(text) == "轮播图#1已保存。"
    status, text = await submit(client, f"{OPS}/banners", {"activity": "NOPE", "active": "1"})
    assert status == 422 and "no activity 'NOPE'" in alert(text)
    status, text = await submit(client, f"{OPS}/banners/1/picture", {"picture": PNG})
    assert status == 200 and flash(text) == "图片已保存。"
    assert f'src="{OPS}/photos/banner:1"' in text
    stored = await services.db.read(lambda conn: photos.get(conn, "banner:1"))
    assert stored is not None and stored.data == PNG
    status, text = await submit(
        client, f"{OPS}/banners", {"id": "1", "activity": "A1", "sort": "2"}
    )
    assert [b.active for b in await services.db.read(management.banners)] == [False]
    status, text = await submit(client, f"{OPS}/banners/9/picture", {"picture": PNG})
    assert status == 404

    ad = {
        "title_zh": "保温杯特价",
        "title_en": "Flask deal",
        "target_kind": "item",
        "target": "2001",
        "active": "1",
    }
    status, text = await submit(client, f"{OPS}/ads", ad)
    assert status == 200 and flash(text) == "广告#1已保存。" and "商品: 2001" in text
    status, text = await submit(
        client, f"{OPS}/ads", ad | {"target_kind": "url", "target": "javascript:alert(1)"}
    )
    assert status == 400 and alert(text) == "请检查以下内容:跳转目标。"
    status, text = await submit(
        client,
        f"{OPS}/ads",
        ad | {"id": "1", "target_kind": "url", "target": "https://example.com/x"},
    )
    assert status == 200
    [saved] = await services.db.read(management.ads)
    assert (saved.target_kind, saved.target, saved.active) == ("url", "https://example.com/x", True)
    status, text = await submit(client, f"{OPS}/ads/1/picture", {"picture": b"not a picture"})
    assert status == 422 and alert(text) == "只能上传PNG或JPEG图片。"
    assert [a for _, a, _ in await actions(services, "banner:1")] == [
        "banner_save",
        "photo_put",
        "banner_save",
    ]


async def test_support_and_finance_read_content_only(
    client: TestClient, services: Services, tokens: dict[str, str]
) -> None:
    for role in ("support", "finance"):
        await ops_login(client, tokens[role])
        for where in ("announcements", "banners", "ads"):
            status, text = await page(client, f"{OPS}/{where}")
            assert status == 200 and 'id="form"' not in text, (role, where)
        status, text = await submit(client, f"{OPS}/announcements", NEWS)
        assert status == 403
        status, text = await submit(client, f"{OPS}/banners", {"activity": "A1"})
        assert status == 403
    assert await services.db.read(management.announcements) == []
    assert await services.db.read(management.banners) == []
