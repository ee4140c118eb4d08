"""Shared fixtures. Every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``POINTSHALL_TEST_PG_URL`` (default: the CI server at
127.0.0.1:5432, database ``test``). Each test session creates its own scratch
database there and drops it at the end. When PostgreSQL cannot be reached the
PostgreSQL half is skipped on a developer machine, and fails under ``CI=true``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from core.platform.clock import ManualClock
from core.platform.db import Database, open_database
from pointshall import migrate
from pointshall.bootstrap import Services, bootstrap
from tests.support import pg
from tests.support.settings import forget_handset, make_settings

if TYPE_CHECKING:
    from tests.support.tg import Chat

PG_URL = os.environ.get(
    "POINTSHALL_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ("sqlite", "postgresql")
T = TypeVar("T")
START = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def run_blocking(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a fresh loop in another thread.

    Session fixtures are first requested from inside a test's running loop,
    where ``asyncio.run`` is not allowed.
    """
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _migrate(url: str) -> None:
    db = open_database(url)
    try:
        await migrate.upgrade(db)
    finally:
        await db.dispose()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A scratch PostgreSQL database for this session, migrated to head."""
    admin = pg.dsn(PG_URL)
    name = f"pointshall_test_{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        conn = await asyncpg.connect(admin, timeout=5)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    try:
        run_blocking(create())
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL unreachable at {PG_URL} under CI=true: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}: {exc}")
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    run_blocking(_migrate(url))
    yield url

    async def drop() -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    run_blocking(drop())


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies, so migrations run once."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    run_blocking(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated database of each backend."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "pointshall.db"
        shutil.copyfile(template, target)
        return f"sqlite+aiosqlite:///{target}"
    url: str = request.getfixturevalue("pg_database")
    await pg.reset(pg.dsn(url))  # empty again what the previous test wrote
    return url


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def services(database_url: str, clock: ManualClock) -> AsyncIterator[Services]:
    built = await bootstrap(make_settings(database_url), clock=clock, upgrade=False)
    try:
        yield built
    finally:
        await built.close()
        forget_handset(built)


@pytest.fixture
async def db(services: Services) -> Database:
    return services.db


@pytest.fixture
async def chat(database_url: str, clock: ManualClock) -> AsyncIterator[Chat]:
    """A Telegram user talking to the whole app against the fake Bot API (tests/support/tg.py)."""
    from tests.support.tg import open_chat  # the web stack loads only for the tests that chat

    async with open_chat(database_url, clock) as opened:
        yield opened
