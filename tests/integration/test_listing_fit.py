"""An English list whose names hold Chinese still fits its SMS budget (issue 14).

Pages are sized for GSM-7 in English (160 characters a segment); one Chinese character
makes the whole answer UCS-2 (70). The lines are then clipped shorter, never the answer
cut at the end (which lost the last items and the MORE hint).
"""

from __future__ import annotations

import re

from sqlalchemy import Connection

from core.catalogue import editing
from core.catalogue.editing import ItemSpec
from core.messaging import segments
from core.platform.clock import epoch
from pointshall.bootstrap import Services
from tests.support.helpers import send

BOB = "+8613900139000"
BUDGET = 2  # the hall's default segment budget


async def test_english_goods_list_with_chinese_names_fits_and_pages_through_all(
    services: Services,
) -> None:
    now = epoch(services.clock.now())

    def mall(conn: Connection) -> None:
        editing.upsert_category(conn, "CH", "茶", "Tea", 1)
        for n in range(7):
            spec = ItemSpec(
                f"70{n}", f"西湖龙井礼盒{n}", f"West Lake 龙井 tea gift box {n}", "CH", "credit",
                1000 + n, face_value_cents=100,
            )  # fmt: skip
            editing.upsert_item(conn, spec, now)

    await services.db.write(mall)
    await send(services, BOB, "EN")
    seen: set[str] = set()
    reply = (await send(services, BOB, "SP CH")).reply
    for _ in range(7):
        assert segments.fits(reply, BUDGET), (segments.count(reply), reply)
        seen.update(re.findall(r"^(70\d) ", reply, flags=re.M))
        if "MORE" not in reply:
            break
        reply = (await send(services, BOB, "MORE")).reply
    assert seen == {f"70{n}" for n in range(7)}
