"""Run Alembic migrations on our own engine (aiosqlite or asyncpg).

Every replica upgrades the database when it starts (``serve``), so on PostgreSQL the
upgrade first takes a transaction advisory lock: replicas starting together upgrade one
after the other, and the later ones find the schema at head and do nothing.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from core.platform.db import Database

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
UPGRADE_LOCK = 0x706F696E74736861  # "pointsha": the advisory lock key of an upgrade


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _upgrade(conn: Connection, revision: str) -> None:
    if conn.dialect.name == "postgresql":  # held until this transaction ends
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": UPGRADE_LOCK})
    cfg = alembic_config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, revision)


async def upgrade(db: Database, revision: str = "head") -> None:
    async with db.async_engine.begin() as conn:
        await conn.run_sync(_upgrade, revision)
