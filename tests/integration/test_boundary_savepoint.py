"""A failing command never takes the record of its message with it, with or without the
savepoint (issue 15 §2, ADR 0008 and 0011).

On PostgreSQL the boundary runs a command's first attempt without a savepoint (two round
trips fewer); if it fails, the whole unit is rolled back and run again with the savepoint.
These tests hold both databases to the same outcome: a refused command's writes are
undone and the message is recorded ``refused``; a command that breaks the transaction
(invalid SQL aborts a PostgreSQL transaction) is recorded ``error``; a success is
recorded once.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, select, text
from sqlalchemy.exc import DBAPIError

from core.platform import db as dbmod
from core.platform.db import optimistic
from core.platform.schema import conversation, inbound
from core.points.errors import NoAccount
from core.subscribers import subscribers
from handlers import boundary
from handlers.boundary import TEXT_REPLIES, Arrival
from handlers.reply import Reply
from pointshall.bootstrap import Services
from tests.support.helpers import count

ALICE = "+8613800138000"


def _arrival(sid: str) -> Arrival:
    return Arrival("test", sid, ALICE, "XX")


async def _receive(services: Services, sid: str, command: Any) -> tuple[str, str, list[bool]]:
    """Run ``command(conn)`` behind the boundary; ``(status, answer, optimistic per run)``."""
    runs: list[bool] = []

    def unit(conn: Connection) -> tuple[str, str]:
        sub = subscribers.get_or_create(conn, ALICE, 0)

        def run() -> Reply:
            runs.append(optimistic(conn))
            return command(conn, sub.id)

        received = boundary.receive(
            conn,
            _arrival(sid),
            now=0,
            lang=lambda: "zh",
            replies=TEXT_REPLIES,
            command=run,
        )
        return received.status, received.answer.text

    status, answer = await services.db.write(unit)
    return status, answer, runs


def _remember(conn: Connection, sid: int) -> None:
    conn.execute(
        conversation.insert().values(subscriber_id=sid, kind="more", payload="X", expires_at=9)
    )


async def _recorded(services: Services, sid: str) -> tuple[str, str]:
    def q(conn: Connection) -> tuple[str, str]:
        row = conn.execute(
            select(inbound.c.status, inbound.c.reply).where(inbound.c.external_id == sid)
        ).one()
        return str(row.status), str(row.reply)

    return await services.db.read(q)


async def test_a_refused_command_is_undone_and_recorded(services: Services) -> None:
    def command(conn: Connection, sid: int) -> Reply:
        _remember(conn, sid)
        raise NoAccount(ALICE)

    status, answer, runs = await _receive(services, "m1", command)
    assert (status, answer) == (
        "refused",
        "您的号码暂无积分账户,积分每月按账单生成。回复BZ查看帮助。",
    )
    assert await _recorded(services, "m1") == ("refused", answer)
    assert await count(services, conversation) == 0
    assert await count(services, inbound) == 1
    pg = services.db.dialect == "postgresql"
    assert runs == ([True, False] if pg else [False])


async def test_a_command_that_breaks_the_transaction_is_recorded_as_an_error(
    services: Services,
) -> None:
    def command(conn: Connection, sid: int) -> Reply:
        _remember(conn, sid)
        conn.execute(text("SELECT no_such_column FROM inbound"))
        return Reply("never")

    status, answer, _runs = await _receive(services, "m2", command)
    assert (status, answer) == ("error", "系统繁忙,请稍后再试。")
    assert await _recorded(services, "m2") == ("error", answer)
    assert await count(services, conversation) == 0
    assert await count(services, inbound) == 1


async def test_a_command_that_succeeds_runs_once_and_keeps_its_writes(
    services: Services,
) -> None:
    def command(conn: Connection, sid: int) -> Reply:
        _remember(conn, sid)
        return Reply("ok")

    status, answer, runs = await _receive(services, "m3", command)
    assert (status, answer) == ("answered", "ok")
    assert await _recorded(services, "m3") == ("answered", "ok")
    assert await count(services, conversation) == 1
    assert runs == [services.db.dialect == "postgresql"]


POSTGRESQL = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


class _Deadlock(Exception):
    sqlstate = "40P01"
    pgcode = "40P01"


def _deadlock() -> DBAPIError:
    return DBAPIError("UPDATE …", None, _Deadlock("deadlock detected"))


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    async def instant(_s: float) -> None:
        return None

    monkeypatch.setattr(dbmod.asyncio, "sleep", instant)


@POSTGRESQL
async def test_a_command_that_deadlocks_every_time_gets_its_careful_run(
    services: Services, no_backoff: None
) -> None:
    """An outsider's finding: optimistic attempts used up the retries and the unit ended in
    AssertionError("unreachable"). Now the retries run out optimistically and the careful
    run records the failure: no 5xx, no lost record."""
    runs: list[bool] = []

    def unit(conn: Connection) -> str:
        def command() -> Reply:
            runs.append(optimistic(conn))
            raise _deadlock()

        return boundary.receive(
            conn,
            _arrival("dl-1"),
            now=0,
            lang=lambda: "zh",
            replies=TEXT_REPLIES,
            command=command,
        ).status

    assert await services.db.write(unit) == "error"
    assert runs == [True] * dbmod.PG_MAX_RETRIES + [False]
    assert await _recorded(services, "dl-1") == ("error", "系统繁忙,请稍后再试。")


@POSTGRESQL
async def test_a_refusal_after_the_last_retry_is_still_recorded(
    services: Services, no_backoff: None
) -> None:
    """The outsider's second case: deadlocks outside the command use the retries, then the
    command is refused: its careful run is not counted against them."""
    attempts = 0

    def unit(conn: Connection) -> str:
        nonlocal attempts
        attempts += 1
        if attempts < dbmod.PG_MAX_RETRIES:
            raise _deadlock()

        def command() -> Reply:
            raise NoAccount(ALICE)

        return boundary.receive(
            conn,
            _arrival("dl-2"),
            now=0,
            lang=lambda: "zh",
            replies=TEXT_REPLIES,
            command=command,
        ).status

    assert await services.db.write(unit) == "refused"
    assert attempts == dbmod.PG_MAX_RETRIES + 1


@POSTGRESQL
async def test_a_deadlock_outside_any_command_is_retried_then_raised(
    services: Services, no_backoff: None
) -> None:
    attempts = 0

    def unit(conn: Connection) -> None:
        nonlocal attempts
        attempts += 1
        raise _deadlock()

    with pytest.raises(DBAPIError):
        await services.db.write(unit)
    assert attempts == dbmod.PG_MAX_RETRIES
