"""The schema exists only through Alembic, and the migrations match the code's tables."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect

from core.platform.schema import metadata
from pointshall import migrate
from pointshall.bootstrap import Services


async def test_migrated_schema_matches_the_tables(services: Services) -> None:
    def diff(conn: Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    assert await services.db.read(diff) == []


async def test_upgrade_is_repeatable(services: Services) -> None:
    await migrate.upgrade(services.db)

    def tables(conn: Connection) -> set[str]:
        return set(inspect(conn).get_table_names())

    assert {t.name for t in metadata.sorted_tables} <= await services.db.read(tables)
