"""Claiming an SMS in one round trip (issue 15 §2) without changing what the hall does.

On PostgreSQL the hall claims a message, counts the sender's recent messages, reads the
subscriber and learns whether they have a conversation in one statement (a data-modifying
CTE); on SQLite in a SELECT just before the insert. Both must read the database as it
stood before the message was recorded, and the hall must answer, throttle and page
exactly as it did with one statement each.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import BindParameter, Connection, bindparam, select

from core.messaging import inbound
from core.platform.clock import ManualClock, epoch
from core.platform.schema import inbound as inbound_table
from core.subscribers import conversation, subscribers
from pointshall.bootstrap import Services, bootstrap
from tests.support.helpers import fund, send
from tests.support.settings import make_settings

ALICE = "+8613800138000"
SENDER: BindParameter[str] = bindparam(inbound.PEEK_SENDER)
CLAIMER = inbound.Claimer(
    [
        inbound.recent_column(bindparam("since")),
        *subscribers.peek_columns(SENDER),
        conversation.exists_column(SENDER),
    ]
)


def _claim(conn: Connection, sid: str, now: int) -> inbound.Claim:
    return CLAIMER.claim(
        conn,
        channel="test",
        external_id=sid,
        sender=ALICE,
        recipient="",
        text="JF",
        now=now,
        **{inbound.PEEK_SENDER: ALICE, "since": now - 60},
    )


async def test_the_peek_sees_the_database_as_it_was_before_the_message(
    services: Services,
) -> None:
    now = epoch(services.clock.now())

    def first(conn: Connection) -> inbound.Claim:
        return _claim(conn, "m1", now)

    claim = await services.db.write(first)
    assert claim.inbound_id is not None
    assert claim.peeked == (0, None, None, None, None, None, False)

    def second(conn: Connection) -> tuple[inbound.Claim, int]:
        sub = subscribers.get_or_create(conn, ALICE, now)
        conversation.remember(conn, sub.id, conversation.State("more", "MX 2"), now + 600)
        return _claim(conn, "m2", now + 1), sub.id

    claim, sid = await services.db.write(second)
    recent, *known, conversing = claim.peeked
    assert recent == 1  # m1, not m2 itself
    assert subscribers.from_peek(known) == subscribers.Subscriber(sid, ALICE, "zh", False, None)
    assert bool(conversing)

    def again(conn: Connection) -> inbound.Claim:
        return _claim(conn, "m1", now + 2)

    duplicate = await services.db.write(again)
    assert duplicate.inbound_id is None and duplicate.reply == ""

    def ids(conn: Connection) -> list[str]:
        return list(conn.execute(select(inbound_table.c.external_id)).scalars())

    assert sorted(await services.db.read(ids)) == ["m1", "m2"]


@pytest.fixture
async def strict(database_url: str, clock: ManualClock) -> AsyncIterator[Services]:
    built = await bootstrap(
        make_settings(database_url, rate_limit_per_minute=3), clock=clock, upgrade=False
    )
    try:
        yield built
    finally:
        await built.close()


async def test_the_rate_limit_counts_each_message_once(
    strict: Services, clock: ManualClock, tmp_path: Path
) -> None:
    """Seed §6's per-number limit: the fourth message in a minute is told to wait, the
    fifth gets no answer, and a minute later the number is served again."""
    await fund(strict, tmp_path, {ALICE: 1_000})
    outcomes: list[Any] = [await send(strict, ALICE, "JF") for _ in range(5)]
    assert [o.status for o in outcomes] == ["answered"] * 3 + ["throttled"] * 2
    assert "1,000" in outcomes[2].reply
    assert outcomes[3].reply == "您发送过于频繁,请一分钟后再试。"
    assert outcomes[4].reply == ""
    clock.advance(timedelta(seconds=61))
    later = await send(strict, ALICE, "JF")
    assert later.status == "answered" and "1,000" in later.reply


async def test_a_reply_without_more_ends_the_page_it_followed(
    services: Services, tmp_path: Path
) -> None:
    """MORE after JF says there is nothing more, though JF learnt at its claim whether a
    page was open (it deletes the page only then)."""
    await fund(services, tmp_path, {ALICE: 1_000})
    help_page = await send(services, ALICE, "BZ")
    assert "MORE" in help_page.reply
    assert "1,000" in (await send(services, ALICE, "JF")).reply
    assert (await send(services, ALICE, "MORE")).reply == "没有更多内容了。"
    assert (await send(services, ALICE, "MORE")).reply == "没有更多内容了。"
    again = await send(services, ALICE, "BZ")
    assert (await send(services, ALICE, "MORE")).reply != again.reply
    assert (await send(services, ALICE, "MORE")).reply.startswith("积分营业厅指令(3/")


@pytest.mark.parametrize("sender", ["\udcff13800", "abc\x00def"])
async def test_a_sender_that_is_no_number_is_answered_not_crashed(
    services: Services, sender: str
) -> None:
    """An outsider's finding: the raw sender went into the peek columns, and a lone
    surrogate (an undecodable byte of ``pointshall sms --from``) or a NUL failed the unit."""
    outcome = await send(services, sender, "JF")
    assert outcome.status == "refused"
    assert outcome.reply == "无法识别您的号码,暂不能提供服务。"

    def q(conn: Connection) -> list[str]:
        return [r[0] for r in conn.execute(select(inbound_table.c.status))]

    assert await services.db.read(q) == ["refused"]
