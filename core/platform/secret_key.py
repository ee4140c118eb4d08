"""The installation's secret key: from configuration, or generated once and kept in the database.

Voucher passwords and confirm codes are stored as keyed hashes, so the key must
outlive restarts; a key made up at start-up would orphan every voucher.
"""

from __future__ import annotations

import secrets

from sqlalchemy import Connection, select

from core.platform.schema import app_secret
from core.platform.sql import insert_ignoring

NAME = "hash_key"


def load_or_create(conn: Connection) -> bytes:
    conn.execute(
        insert_ignoring(conn, app_secret, "name").values(name=NAME, value=secrets.token_hex(32))
    )
    value = conn.execute(select(app_secret.c.value).where(app_secret.c.name == NAME)).scalar_one()
    return bytes.fromhex(value)
