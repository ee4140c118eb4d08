"""Merchants publish bookable goods, listed only after a business admin's review (§3.4.4)."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, select

from core.catalogue import submissions
from core.catalogue.editing import ItemSpec
from core.catalogue.errors import ItemCodeTaken, UnknownItem
from core.merchants import merchants
from core.merchants.errors import MerchantNotApproved, NotStaffOf
from core.platform import audit
from core.platform.clock import epoch
from core.platform.schema import item, outbox
from pointshall.bootstrap import Services
from tests.support.helpers import seed_catalog, send

OWNER = "+8613600136000"
SPEC = ItemSpec("3101", "拿铁券", "Latte voucher", "SJ", "voucher", 600, stock=20)


@pytest.fixture
async def shop(services: Services) -> Services:
    await seed_catalog(services)
    now = epoch(services.clock.now())
    await services.db.write(
        lambda conn: merchants.add_staff(conn, "M1", OWNER, "owner", "ops", now)
    )
    return services


async def submit(services: Services, merchant: str = "M1") -> None:
    now = epoch(services.clock.now())
    await services.db.write(lambda conn: submissions.submit(conn, merchant, SPEC, OWNER, now))


async def review(services: Services, approve: bool, reason: str = "") -> None:
    now = epoch(services.clock.now())
    await services.db.write(
        lambda conn: submissions.review(
            conn, "3101", approve=approve, reviewer="biz-admin", reason=reason, now=now
        )
    )


async def staff_sms(services: Services) -> list[str]:
    def q(conn: Connection) -> list[str]:
        return list(
            conn.execute(
                select(outbox.c.text).where(outbox.c.recipient == OWNER).order_by(outbox.c.id)
            ).scalars()
        )

    return await services.db.read(q)


async def test_submitted_goods_are_listed_only_after_approval(shop: Services) -> None:
    await submit(shop)
    assert "3101" not in (await send(shop, "+8613800138000", "SP SJ")).reply
    assert (await send(shop, "+8613800138000", "XQ 3101")).reply.startswith("没有编号为3101的商品")
    assert await shop.db.read(submissions.pending) == [("3101", "拿铁券", "1", 600)]

    await review(shop, approve=True)
    assert "3101 拿铁券 600分" in (await send(shop, "+8613800138000", "SP SJ")).reply
    assert await shop.db.read(submissions.pending) == []
    assert await staff_sms(shop) == [
        "商品3101「拿铁券」已提交审核,审核通过后上架。",
        "商品3101「拿铁券」已通过审核并上架。",
    ]
    trail = await shop.db.read(lambda conn: audit.entries(conn, "item 3101"))
    assert {(a.action, a.result, a.actor) for a in trail} == {
        ("goods_submit", "pending", OWNER),
        ("goods_review", "approved", "biz-admin"),
    }


async def test_rejected_goods_stay_unlisted_with_the_reason(shop: Services) -> None:
    await submit(shop)
    await review(shop, approve=False, reason="图片不清晰")

    def state(conn: Connection) -> tuple[bool, str, str]:
        row = conn.execute(
            select(item.c.active, item.c.review, item.c.review_note).where(item.c.code == "3101")
        ).one()
        return bool(row.active), row.review, row.review_note

    assert await shop.db.read(state) == (False, "rejected", "图片不清晰")
    assert (await staff_sms(shop))[-1] == "商品3101「拿铁券」未通过审核:图片不清晰"
    with pytest.raises(UnknownItem):
        await review(shop, approve=True)


async def test_a_merchant_not_yet_approved_cannot_submit(shop: Services) -> None:
    now = epoch(shop.clock.now())
    await shop.db.write(
        lambda conn: merchants.upsert(conn, "M9", "新店", "New shop", now, "pending")
    )
    with pytest.raises(MerchantNotApproved):
        await submit(shop, "M9")
    assert await shop.db.read(submissions.pending) == []


async def test_staff_phones_may_text_more_than_subscribers(shop: Services) -> None:
    """A till verifying vouchers all day must not hit the subscribers' 20-a-minute limit."""
    staff = [(await send(shop, OWNER, "BZ")).reply for _ in range(25)]
    assert all(r.startswith("积分营业厅") for r in staff)
    other = [(await send(shop, "+8613800138000", "BZ")).reply for _ in range(22)]
    assert other[20] == "您发送过于频繁,请一分钟后再试。" and other[21] == ""


@pytest.mark.parametrize("taken", ["3002", "1001"])
async def test_a_code_of_other_goods_is_refused_and_they_stay_listed(
    shop: Services, taken: str
) -> None:
    """§3.4.4: M1 may not take over M2's voucher (3002) or the operator's own item (1001)."""
    now = epoch(shop.clock.now())

    def state(conn: Connection) -> tuple[object, ...]:
        row = conn.execute(
            select(item.c.merchant_id, item.c.active, item.c.review, item.c.name_zh).where(
                item.c.code == taken
            )
        ).one()
        return tuple(row)

    before = await shop.db.read(state)
    spec = ItemSpec(taken, "抢注", "Grab", "SJ", "voucher", 1, stock=1)
    with pytest.raises(ItemCodeTaken):
        await shop.db.write(lambda conn: submissions.submit(conn, "M1", spec, OWNER, now))
    assert await shop.db.read(state) == before
    assert before[1] is True


async def test_only_the_merchants_own_staff_may_submit(shop: Services) -> None:
    """Issue 16 §5: a phone that is not this merchant's staff (a stranger, or another
    merchant's staff) is refused and nothing is submitted."""
    now = epoch(shop.clock.now())
    await shop.db.write(
        lambda conn: merchants.add_staff(conn, "M2", "+8613600136002", "verifier", "ops", now)
    )
    for phone in ("+8613600136001", "+8613600136002"):
        with pytest.raises(NotStaffOf) as refused:
            await shop.db.write(lambda conn: submissions.submit(conn, "M1", SPEC, phone, now))  # noqa: B023
        assert (refused.value.actor, refused.value.code) == (phone, "M1")
    assert await shop.db.read(submissions.pending) == []
    await submit(shop)
    assert [p[0] for p in await shop.db.read(submissions.pending)] == ["3101"]
