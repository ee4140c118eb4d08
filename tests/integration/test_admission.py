"""Merchant admission (issue 4, §3.5.5): two reviews, SMS at each step, only approved publish."""

from __future__ import annotations

from functools import partial

import pytest
from sqlalchemy import Connection

from core.catalogue.editing import ItemSpec, upsert_category, upsert_item
from core.merchants import admission, merchants
from core.merchants.errors import ApplicationNotPending, MerchantNotApproved
from core.platform import audit
from core.platform.clock import epoch
from pointshall.bootstrap import Services
from tests.support.merchant_helpers import texts_to

APPLICANT = "+8613511112222"
PREFIXES = (
    "您的商家入驻申请(M9)已提交",
    "您的商家入驻申请1正在初审",
    "您的商家入驻申请1已通过初审",
    "恭喜!您的商家入驻申请1已通过,商家编号M9",
)


async def test_apply_review_approve_then_publish(services: Services) -> None:
    now = epoch(services.clock.now())

    def file(conn: Connection) -> int:
        upsert_category(conn, "SJ", "商家券", "Merchant vouchers")
        return admission.apply(
            conn, code="M9", name_zh="面包坊", name_en="Bakery", applicant=APPLICANT, now=now
        ).id

    app_id = await services.db.write(file)
    spec = ItemSpec("9001", "面包券", "Bread voucher", "SJ", "voucher", 300, merchant="M9")
    await services.db.write(lambda c: admission.start_first_review(c, app_id, "biz-li", now))
    await services.db.write(lambda c: admission.pass_first_review(c, app_id, "biz-li", "ok", now))
    with pytest.raises(ApplicationNotPending):
        await services.db.write(lambda c: admission.pass_first_review(c, app_id, "x", "", now))
    await services.db.write(lambda c: admission.approve(c, app_id, "admin-wang", "fine", now))
    await services.db.write(lambda c: upsert_item(c, spec, now))

    texts = await texts_to(services, APPLICANT)
    assert [t[: len(p)] for t, p in zip(texts, PREFIXES, strict=True)] == list(PREFIXES)
    actor = await services.db.read(lambda c: merchants.staff_actor(c, APPLICANT))
    assert len(actor.merchant_ids) == 1
    rows = await services.db.read(partial(audit.entries, subject=f"application:{app_id}"))
    assert [(r.actor, r.result) for r in rows] == [
        (APPLICANT, "submitted"),
        ("biz-li", "first_review"),
        ("biz-li", "final_review"),
        ("admin-wang", "approved"),
    ]


async def test_rejection_tells_the_applicant_why(services: Services) -> None:
    now = epoch(services.clock.now())
    app_id = await services.db.write(
        lambda c: (
            admission.apply(
                c, code="M8", name_zh="花店", name_en="Florist", applicant=APPLICANT, now=now
            ).id
        )
    )
    await services.db.write(lambda c: admission.reject(c, app_id, "biz-li", "执照不清晰", now))
    assert (await texts_to(services, APPLICANT))[-1].endswith("未通过:执照不清晰")
    with pytest.raises(ApplicationNotPending):
        await services.db.write(lambda c: admission.approve(c, app_id, "admin", "", now))


async def test_items_of_a_merchant_not_approved_cannot_be_published(services: Services) -> None:
    now = epoch(services.clock.now())

    def unit(conn: Connection) -> None:
        upsert_category(conn, "SJ", "商家券", "Merchant vouchers")
        merchants.upsert(conn, "M7", "暂停商家", "Suspended", now, status="suspended")
        upsert_item(
            conn,
            ItemSpec("7001", "券", "Voucher", "SJ", "voucher", 100, merchant="M7"),
            now,
        )

    with pytest.raises(MerchantNotApproved):
        await services.db.write(unit)
