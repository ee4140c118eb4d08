"""Units of work on both databases (issue 15 §2, ADR 0011): steps left for the end of
the unit, and PostgreSQL connections pinged only after sitting idle."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import Connection, select, update

from core.platform import db as storage
from core.platform.db import Database, at_end, savepoint
from core.platform.schema import subscriber
from pointshall.bootstrap import Services
from tests.support.helpers import fund

NUMBER = "+8613800138000"


def _name(conn: Connection) -> str | None:
    return conn.execute(select(subscriber.c.name).where(subscriber.c.msisdn == NUMBER)).scalar()


def _rename(name: str) -> object:
    def step(conn: Connection) -> None:
        conn.execute(update(subscriber).where(subscriber.c.msisdn == NUMBER).values(name=name))

    return step


async def test_a_step_left_for_the_end_runs_last_in_the_same_transaction(
    services: Services, db: Database, tmp_path: Path
) -> None:
    await fund(services, tmp_path, {NUMBER: 10})

    def unit(conn: Connection) -> list[str | None]:
        seen = [_name(conn)]
        at_end(conn, _rename("last"))  # type: ignore[arg-type]
        conn.execute(update(subscriber).where(subscriber.c.msisdn == NUMBER).values(name="first"))
        seen.append(_name(conn))
        return seen

    assert await db.write(unit) == [None, "first"]
    assert await db.read(_name) == "last"


async def test_a_step_left_for_the_end_goes_with_its_savepoint_or_unit(
    services: Services, db: Database, tmp_path: Path
) -> None:
    await fund(services, tmp_path, {NUMBER: 10})

    def refused_inside(conn: Connection) -> None:
        try:
            with savepoint(conn, "command"):
                at_end(conn, _rename("refused"))  # type: ignore[arg-type]
                raise LookupError("refused")
        except LookupError:
            pass
        at_end(conn, _rename("kept"))  # type: ignore[arg-type]

    await db.write(refused_inside)
    assert await db.read(_name) == "kept"

    def failing(conn: Connection) -> None:
        at_end(conn, _rename("never"))  # type: ignore[arg-type]
        raise LookupError("the whole unit fails")

    with pytest.raises(LookupError):
        await db.write(failing)
    assert await db.read(_name) == "kept"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite has no server
async def test_an_idle_postgresql_connection_that_died_is_replaced_before_use(
    services: Services, db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    await fund(services, tmp_path, {NUMBER: 10})
    monkeypatch.setattr(storage, "PG_PING_AFTER_IDLE_S", 0.0)
    admin = await asyncpg.connect(
        db.url.set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:  # every pooled connection dies while idle
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await admin.close()
    assert killed >= 1
    assert await db.read(_name) is None  # pinged, found dead, replaced
