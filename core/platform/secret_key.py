"""The key older installations kept in their own database (``app_secret.hash_key``).

Before issue 13 the root key of every keyed hash was generated on first start and
stored next to the data it protects. It is now only read, to be moved out: into a key
file as ``k0`` (``pointshall key adopt``), after which the row is deleted. Nothing
writes it any more.
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, select

from core.platform.schema import app_secret

NAME = "hash_key"


def legacy(conn: Connection) -> bytes | None:
    """The key still kept in the database, or None (a new or an already moved database)."""
    value = conn.execute(
        select(app_secret.c.value).where(app_secret.c.name == NAME)
    ).scalar_one_or_none()
    return None if value is None else bytes.fromhex(value)


def forget(conn: Connection) -> None:
    """Delete the key from the database, once it is safe outside it."""
    conn.execute(delete(app_secret).where(app_secret.c.name == NAME))
