"""Putting the PostgreSQL test database back to empty between tests, touching only what the
last test wrote.

After a reset every table is empty and every identity sequence unused, so what a test wrote
is exactly: the tables that hold rows now, and the sequences that were drawn from (an insert
that failed or rolled back draws one too). That is read from the database itself, committed
data, so unlike ``pg_stat_user_tables`` (whose counters reach other sessions late) it cannot
miss a write. Those tables are emptied with ``DELETE`` under ``session_replication_role =
replica`` (no foreign-key triggers to fire, when we may set it: a superuser, as in CI), or
else with ``TRUNCATE … CASCADE``; the sequences restart where ``TRUNCATE … RESTART IDENTITY``
would restart them. Emptying all 52 tables with one ``TRUNCATE`` costs about half a second a
test, most of it creating and dropping files; this costs a few milliseconds.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

import asyncpg
from sqlalchemy.engine import make_url

from core.platform.schema import metadata

TABLES = [t.name for t in metadata.sorted_tables]
"""Parents before children."""

_WRITTEN = " UNION ALL ".join(
    f"SELECT '{name}' AS name WHERE EXISTS (SELECT FROM \"{name}\")" for name in TABLES
)

_DRAWN_SEQUENCES = """
FROM pg_sequence s
JOIN pg_depend d
  ON d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid AND d.deptype IN ('a', 'i')
JOIN pg_class t ON t.oid = d.refobjid
WHERE t.relnamespace = current_schema()::regnamespace
  AND t.relname = ANY($1::text[])
  AND pg_sequence_last_value(s.seqrelid) IS NOT NULL
"""
_RESTART_DRAWN_SEQUENCES = "SELECT setval(s.seqrelid, s.seqstart, false)" + _DRAWN_SEQUENCES


def dsn(url: str) -> str:
    """The libpq form of a SQLAlchemy ``postgresql+asyncpg://`` URL, for asyncpg."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def written(conn: asyncpg.Connection) -> list[str]:
    """The tables that hold rows, parents first."""
    return [row["name"] for row in await conn.fetch(_WRITTEN)]


async def drawn(conn: asyncpg.Connection) -> list[str]:
    """The identity sequences of the tables that have been drawn from since their (re)start."""
    rows = await conn.fetch("SELECT s.seqrelid::regclass::text AS name" + _DRAWN_SEQUENCES, TABLES)
    return sorted(row["name"] for row in rows)


async def reset(dsn: str, *, delete: bool | None = None) -> list[str]:
    """Empty the tables that hold rows and restart the sequences drawn from; return the tables.

    ``delete`` chooses ``DELETE`` (true) or ``TRUNCATE`` (false); by default ``DELETE`` when
    this role may switch foreign-key triggers off.
    """
    conn = await asyncpg.connect(dsn)
    try:
        tables = await written(conn)
        if tables:
            quoted = [f'"{name}"' for name in reversed(tables)]
            if delete is None:
                delete = await conn.fetchval("SELECT current_setting('is_superuser') = 'on'")
            if delete:
                deletes = "; ".join(f"DELETE FROM {name}" for name in quoted)
                await conn.execute(
                    f"BEGIN; SET LOCAL session_replication_role = replica; {deletes}; COMMIT"
                )
            else:
                await conn.execute(f"TRUNCATE {', '.join(quoted)} CASCADE")
        await conn.fetch(_RESTART_DRAWN_SEQUENCES, TABLES)
    finally:
        await conn.close()
    return tables


@contextlib.asynccontextmanager
async def fresh_database(url: str, prefix: str = "pointshall_fresh") -> AsyncIterator[str]:
    """A new, empty (not migrated) database on ``url``'s server, dropped afterwards."""
    admin = dsn(url)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
