"""Small helpers shared by the database tests."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path

from sqlalchemy import Connection, Table, func, select

from core.feed_import import ImportResult, import_feed
from handlers.hall import InboundMessage, Outcome
from pointshall.bootstrap import Services

HEADER = (
    "msisdn",
    "period",
    "spend_cents",
    "tenure_months",
    "reward_points",
    "account_type",
    "name",
)


def write_feed(
    path: Path, rows: Iterable[Sequence[object]], header: Sequence[str] = HEADER
) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


async def accrue(
    services: Services, path: Path, period: str, *, strict: bool = False, chunk_rows: int = 5000
) -> ImportResult:
    return await import_feed(
        services.db,
        path,
        period,
        services.rules,
        services.clock,
        strict=strict,
        chunk_rows=chunk_rows,
    )


async def send(services: Services, sender: str, text: str, *, sid: str | None = None) -> Outcome:
    msg = InboundMessage(
        channel="test", external_id=sid or uuid.uuid4().hex, sender=sender, text=text
    )
    return await services.db.write(partial(services.hall.receive, msg=msg))


async def count(services: Services, table: Table) -> int:
    def q(conn: Connection) -> int:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())

    return await services.db.read(q)
