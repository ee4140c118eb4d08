"""The code texted back confirms the order it was sent for (§2.2.12).

A subscriber may have several orders waiting for a code at once: two ``DH`` in a row,
or a ``DH`` by SMS while a chat checkout waits. Each code opens its own order (or its
whole checkout), whichever is newest; only a code that opens none counts a wrong try.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Connection, select

from core.orders import cart, checkout
from core.platform.clock import epoch
from core.platform.schema import orders, outbox
from core.subscribers.subscribers import get_or_create
from pointshall.bootstrap import Services
from tests.support.helpers import fund, received, seed_catalog, send, texts_of

ALICE = "+8613800138000"


def pending_of(reply: str) -> tuple[str, str]:
    match = re.fullmatch(r"订单(\d+):.*5分钟内回复(\d{6})确认兑换。", reply)
    assert match, reply
    return match.group(1), match.group(2)


async def statuses(services: Services) -> dict[str, str]:
    def q(conn: Connection) -> dict[str, str]:
        return {no: status for no, status in conn.execute(select(orders.c.no, orders.c.status))}

    return await services.db.read(q)


async def test_each_of_two_waiting_orders_takes_its_own_code(
    services: Services, tmp_path: Path
) -> None:
    await seed_catalog(services)
    await fund(services, tmp_path, {ALICE: 50_000})
    first, first_code = pending_of((await send(services, ALICE, "DH 1001")).reply)
    second, second_code = pending_of((await send(services, ALICE, "DH 1001")).reply)
    assert first_code != second_code

    older = (await send(services, ALICE, first_code)).reply
    assert older.startswith(f"兑换成功!订单{first}:"), older
    assert (await statuses(services))[second] == "awaiting_otp"
    newer = (await send(services, ALICE, second_code)).reply
    assert newer.startswith(f"兑换成功!订单{second}:"), newer


async def test_a_wrong_code_counts_against_the_newest_order(
    services: Services, tmp_path: Path
) -> None:
    await seed_catalog(services)
    await fund(services, tmp_path, {ALICE: 50_000})
    first, first_code = pending_of((await send(services, ALICE, "DH 1001")).reply)
    second, _ = pending_of((await send(services, ALICE, "DH 1001")).reply)
    wrong = "000000" if first_code != "000000" else "111111"
    assert (await send(services, ALICE, wrong)).reply == "确认码不正确,还可再试4次。"
    assert (await send(services, ALICE, first_code)).reply.startswith(f"兑换成功!订单{first}:")
    assert (await statuses(services))[second] == "awaiting_otp"


async def test_sms_code_and_chat_checkout_code_each_pay_their_own(
    services: Services, tmp_path: Path
) -> None:
    await seed_catalog(services)
    await fund(services, tmp_path, {ALICE: 50_000})

    def submit_cart(conn: Connection) -> str:
        now = epoch(services.clock.now())
        subscriber = get_or_create(conn, ALICE, now)
        cart.add(conn, subscriber.id, "1001", now, 5)
        submitted = checkout.submit(
            conn,
            subscriber=subscriber,
            address_id=None,
            note="",
            channel="telegram",
            key="chat:checkout-1",
            now=now,
            policy=services.hall.policy.orders,
            keyring=services.keyring,
        )
        return submitted.checkout_no

    checkout_no = await services.db.write(submit_cart)

    def checkout_code(conn: Connection) -> str:
        sms = texts_of(outbox.c.idempotency_key == f"checkout:{checkout_no}:otp")
        [text] = received(services, sms)(conn)  # as the phone reads it (issue 13 §1)
        found = re.search(r"\d{6}", text)
        assert found, text
        return found.group(0)

    chat_code = await services.db.read(checkout_code)
    sms_order, sms_code = pending_of((await send(services, ALICE, "DH 1001")).reply)

    paid = (await send(services, ALICE, chat_code)).reply  # the older checkout's code
    assert paid == f"支付成功!共5,000分,订单:{checkout_no}。回复DD查看订单。"
    assert (await statuses(services))[sms_order] == "awaiting_otp"
    done = (await send(services, ALICE, sms_code)).reply
    assert done.startswith(f"兑换成功!订单{sms_order}:"), done
