"""Each PostgreSQL test starts on an empty database with ids from 1, whatever the test before
it wrote: tests/support/pg.py empties only the tables written and restarts only the
sequences drawn from, so these tests check that it misses none."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import Connection, insert, select

from core.platform.clock import ManualClock
from core.platform.schema import announcement, subscriber
from pointshall.bootstrap import Services, bootstrap
from tests.support import pg
from tests.support.helpers import fund, seed_catalog, send
from tests.support.settings import make_settings

POSTGRESQL = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
ALICE = "+8613800138000"
WROTE: list[str] = []
"""The database the writing test below wrote to (each xdist worker has its own)."""


class RolledBack(Exception):
    pass


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(pg.dsn(database_url))
    try:
        yield connection
    finally:
        await connection.close()


async def write_a_lot(services: Services, tmp_path: Path) -> None:
    """Rows in many tables through the app, and an id drawn by an insert that rolled back."""
    await seed_catalog(services)
    await fund(services, tmp_path, {ALICE: 10_000})
    await send(services, ALICE, "JF")
    await send(services, ALICE, "DH 3001 1")

    def rolled_back(conn: Connection) -> None:
        conn.execute(
            insert(announcement).values(
                title_zh="x", title_en="x", body_zh="x", body_en="x", published_at=0
            )
        )
        raise RolledBack

    with pytest.raises(RolledBack):
        await services.db.write(rolled_back)


async def ids_start_at_one(services: Services) -> None:
    # BZ is answered whoever asks: a refused command (JF without an account) runs twice on
    # PostgreSQL (db.optimistic, then with its savepoint) and draws a second id.
    await send(services, ALICE, "BZ")
    ids = await services.db.read(lambda c: list(c.execute(select(subscriber.c.id)).scalars()))
    assert ids == [1]


@POSTGRESQL
@pytest.mark.parametrize("delete", [True, False], ids=["delete", "truncate"])
async def test_reset_empties_every_table_written_and_restarts_every_id_drawn(
    services: Services, conn: asyncpg.Connection, database_url: str, tmp_path: Path, delete: bool
) -> None:
    await write_a_lot(services, tmp_path)
    holding = await pg.written(conn)
    assert {"subscriber", "account", "entry", "item", "orders", "inbound"} <= set(holding)
    assert "announcement" not in holding
    assert "announcement_id_seq" in await pg.drawn(conn)  # by the insert that rolled back

    assert await pg.reset(pg.dsn(database_url), delete=delete) == holding
    assert await pg.written(conn) == []  # the app's secret too: the next start writes it
    assert await pg.drawn(conn) == []
    await ids_start_at_one(services)


@POSTGRESQL
@pytest.mark.xdist_group("pg-reset")
async def test_a_test_writes_rows_and_draws_ids(
    services: Services, conn: asyncpg.Connection, database_url: str, tmp_path: Path
) -> None:
    await write_a_lot(services, tmp_path)
    assert len(await pg.written(conn)) >= 7 and await pg.drawn(conn)
    WROTE.append(database_url)


@POSTGRESQL
@pytest.mark.xdist_group("pg-reset")
async def test_the_test_after_it_starts_on_an_empty_database(
    conn: asyncpg.Connection, database_url: str, clock: ManualClock
) -> None:
    """Run after the test above, in the same session (the same xdist worker): its rows are
    gone and its ids restart. Run alone, it still checks that the database is empty. (It
    starts the app itself: starting it writes the app's secret.)"""
    assert WROTE in ([], [database_url])
    assert await pg.written(conn) == []
    assert await pg.drawn(conn) == []
    services = await bootstrap(make_settings(database_url), clock=clock, upgrade=False)
    try:
        await ids_start_at_one(services)
    finally:
        await services.close()
