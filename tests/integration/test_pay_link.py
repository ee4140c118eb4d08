"""A pay link is never cut: under a long public URL it travels whole in its own SMS (§3.5.6).

A cut link cannot be followed, so when the order's answer and the whole link do not fit
the segment budget together, the answer says the link follows and the link is queued
alone, once per order (outbox key ``pay-link:{order}``), whatever the retries.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import pytest
from aiohttp.test_utils import unused_port
from sqlalchemy import Connection, select

from core.catalogue.editing import ItemSpec, upsert_item
from core.platform.clock import ManualClock, epoch
from core.platform.schema import outbox
from pointshall.bootstrap import Services, bootstrap
from tests.support.helpers import fund, seed_catalog, send
from tests.support.settings import make_settings

ALICE = "+8613800138000"
LONG_URL = "https://loyalty.operator-points-business-hall.example.com/mall/payments/v2/sms"


@pytest.fixture
async def hall(database_url: str, clock: ManualClock) -> AsyncIterator[Services]:
    settings = make_settings(
        database_url,
        public_url=LONG_URL,
        gateway_url=f"http://127.0.0.1:{unused_port()}",
        gateway_secret="gateway-test-secret",
    )
    services = await bootstrap(settings, clock=clock, upgrade=False)
    try:
        await seed_catalog(services)
        spec = ItemSpec(
            "5001", "充值卡", "Top-up card", "HF", "credit", 1000,
            face_value_cents=2000, cash_cents=500, price_cents=1500,
            pay_methods="points_cash,cash",
        )  # fmt: skip
        now = epoch(clock.now())
        await services.db.write(partial(upsert_item, spec=spec, now=now))
        yield services
    finally:
        await services.close()


def link_messages(conn: Connection) -> list[tuple[str, str, str]]:
    rows = conn.execute(
        select(outbox.c.idempotency_key, outbox.c.recipient, outbox.c.text).where(
            outbox.c.idempotency_key.like("pay-link:%")
        )
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_a_long_pay_link_goes_whole_in_its_own_sms(hall: Services, tmp_path: Path) -> None:
    await fund(hall, tmp_path, {ALICE: 5_000})
    first = await send(hall, ALICE, "DH 5001 1 XJ", sid="dh-1")
    match = re.fullmatch(r"订单(\d+):.*1,000分\+¥5,15分钟内付款,付款链接另发短信。", first.reply)
    assert match, first.reply
    no = match.group(1)
    assert LONG_URL not in first.reply
    again = await send(hall, ALICE, "DH 5001 1 XJ", sid="dh-1")  # the provider retries
    assert again.duplicate
    [(key, recipient, text)] = await hall.db.read(link_messages)
    assert (key, recipient) == (f"pay-link:{no}", ALICE)
    assert re.fullmatch(re.escape(f"{LONG_URL}/pay/{no}?k=") + r"\S+", text), text

    await send(hall, ALICE, "EN")  # GSM-7 has room for the whole link in the answer
    second = await send(hall, ALICE, "DH 5001 1 QK")
    match = re.fullmatch(r"Order (\d+): .* ¥15 \(cash\)\. Pay within 15 min: (\S+)", second.reply)
    assert match, second.reply
    assert match.group(2).startswith(f"{LONG_URL}/pay/{match.group(1)}?k=")
    assert len(await hall.db.read(link_messages)) == 1


async def test_dd_shows_what_a_money_order_costs_and_that_it_awaits_payment(
    hall: Services, tmp_path: Path
) -> None:
    """Issue 14: DD showed a points + cash order as "1,000分, 待确认" (the cash hidden, and
    no code to wait for) and a cash order as "0 points, pending"."""
    await fund(hall, tmp_path, {ALICE: 5_000})
    first = (await send(hall, ALICE, "DH 5001 1 XJ")).reply
    mixed = re.match(r"订单(\d+)", first)
    assert mixed, first
    detail = (await send(hall, ALICE, f"DD {mixed.group(1)}")).reply
    assert detail == f"订单{mixed.group(1)}:充值卡×1,1,000分+¥5,待付款。"
    await send(hall, ALICE, "EN")
    cash = re.match(r"Order (\d+)", (await send(hall, ALICE, "DH 5001 1 QK")).reply)
    assert cash
    shown = (await send(hall, ALICE, f"DD {cash.group(1)}")).reply
    assert shown == f"Order {cash.group(1)}: Top-up card x1, ¥15 (cash), awaiting payment."
