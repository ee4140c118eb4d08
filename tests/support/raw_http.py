"""Requests written byte for byte, for the bad-input tests (issue 13 §6).

aiohttp's client encodes header values and targets as UTF-8 text, so it cannot send what an
attacker can: Latin-1 bytes in a header, a query that is not UTF-8, a body that does not match
its ``Content-Type``. ``send`` writes the request on a fresh socket and reads the status line.
``row_counts`` reads how many rows every table holds in one statement, so a test can show a
refused request wrote nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy import Connection, func, select

from core.platform.db import Database
from core.platform.schema import metadata

Header = tuple[bytes, bytes]
TIMEOUT_SECONDS = 30.0


async def send(
    port: int,
    method: str,
    target: bytes,
    headers: Sequence[Header] = (),
    body: bytes = b"",
) -> tuple[int, bytes]:
    """Write one HTTP/1.1 request to ``127.0.0.1:port``; the status and the response bytes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        lines = [method.encode() + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1"]
        lines += [name + b": " + value for name, value in headers]
        lines += [b"Content-Length: " + str(len(body)).encode(), b"Connection: close"]
        writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), TIMEOUT_SECONDS)
    finally:
        writer.close()
        await writer.wait_closed()
    status_line = answer.split(b"\r\n", 1)[0]
    return int(status_line.split(b" ")[1]), answer


def _counts(conn: Connection) -> dict[str, int]:
    tables = sorted(metadata.tables.values(), key=lambda t: t.name)
    row = conn.execute(
        select(*(select(func.count()).select_from(t).scalar_subquery() for t in tables))
    ).one()
    return {t.name: int(n) for t, n in zip(tables, row, strict=True)}


async def row_counts(db: Database) -> dict[str, int]:
    """How many rows each table of the schema holds (one query)."""
    return await db.read(_counts)
