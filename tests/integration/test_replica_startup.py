"""Replicas started together each upgrade the database first (``serve``): on PostgreSQL the
upgrades take turns under an advisory lock, so none fails on a table another is creating
(issue 15 §4). SQLite is one process and has no such race."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Connection, text

from core.platform.db import open_database
from pointshall import migrate
from tests.support import pg

WAIT = 120.0
"""Seconds three upgrades of a new database may take (a safety net, not an assertion)."""


@pytest.fixture
async def fresh_pg(pg_database: str) -> AsyncIterator[str]:
    """An empty, not yet migrated PostgreSQL database on the test server."""
    async with pg.fresh_database(pg_database) as url:
        yield url


async def test_three_replicas_upgrading_a_new_database_at_once_all_succeed(
    fresh_pg: str,
) -> None:
    dbs = [open_database(fresh_pg, pool_size=2) for _ in range(3)]
    try:
        async with asyncio.timeout(WAIT):  # without the lock they wait on each other for ever
            await asyncio.gather(*(migrate.upgrade(db) for db in dbs))

        def version(conn: Connection) -> str:
            return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one())

        assert {await db.read(version) for db in dbs} == {await _head()}
    finally:
        for db in dbs:
            await db.dispose()


async def _head() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    assert head is not None
    return head
