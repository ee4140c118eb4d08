"""A lock per scheduled job, so several replicas run each job once (DESIGN.md §9).

On PostgreSQL it is a session advisory lock (``pg_try_advisory_lock``) held on
one pooled connection for as long as the job runs; a replica that does not get
it skips that run. On SQLite one process is assumed, so the lock is always had.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text

from core.platform.db import Database

LOCK_NAMESPACE = "pointshall-job:"


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (Python's ``hash`` changes per process)."""
    digest = hashlib.sha256((LOCK_NAMESPACE + name).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@asynccontextmanager
async def job_lock(db: Database, name: str) -> AsyncIterator[bool]:
    """Yield whether this process may run job ``name`` now."""
    if db.dialect != "postgresql":
        yield True
        return
    key = lock_key(name)
    async with db.async_engine.connect() as conn:
        got = bool(
            (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})).scalar()
        )
        await conn.commit()
        try:
            yield got
        finally:
            if got:
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                await conn.commit()
