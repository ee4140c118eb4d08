"""Importing a catalogue file: good rows upserted by code, bad rows reported by line.

The file is read in chunks; each chunk is one unit of work in which every row is
upserted inside its own savepoint, so a row naming an unknown category, brand or
merchant is reported and the rest of the chunk still goes in. Upserting never
touches an item's sales or views, so importing the same file again changes nothing;
an optional column the file does not have (activity, voucher days, descriptions)
keeps the item's current value rather than clearing it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from core.catalogue.editing import ItemSpec, UnknownReference, upsert_item
from core.catalogue.item_file import CatalogReader, ItemRow
from core.platform.clock import Clock, epoch
from core.platform.db import Database, savepoint
from core.platform.schema import activity, item
from core.points.feed import BadRow

CHUNK_ROWS = 500
MAX_KEPT = 100

ProgressFn = Callable[[int, int], None]
BadFn = Callable[[BadRow], None]


@dataclass
class CatalogImportResult:
    rows_ok: int = 0
    rows_bad: int = 0
    first_bad: list[BadRow] = field(default_factory=list)

    def add_bad(self, bad: BadRow) -> None:
        self.rows_bad += 1
        if len(self.first_bad) < MAX_KEPT:
            self.first_bad.append(bad)


def _keep(conn: Connection, spec: ItemSpec, absent: frozenset[str]) -> ItemSpec:
    """Fill the optional fields the file has no column for from the item as it is."""
    found = conn.execute(
        select(item.c.voucher_days, item.c.description_zh, item.c.description_en, activity.c.code)
        .select_from(item.outerjoin(activity, activity.c.id == item.c.activity_id))
        .where(item.c.code == spec.code)
    ).first()
    if found is None:
        return spec
    current = {
        "voucher_days": int(found[0]),
        "description_zh": found[1],
        "description_en": found[2],
        "activity": found[3],
    }
    return replace(spec, **{name: current[name] for name in absent})


def _upsert_chunk(
    conn: Connection, rows: list[ItemRow], now: int, absent: frozenset[str]
) -> list[BadRow]:
    bad: list[BadRow] = []
    for row in rows:
        try:
            with savepoint(conn, "item"):
                spec = _keep(conn, row.spec, absent) if absent else row.spec
                upsert_item(conn, spec, now)
        except UnknownReference as exc:
            bad.append(BadRow(row.line, str(exc)))
    return bad


def _chunks(reader: CatalogReader, size: int) -> Iterator[list[ItemRow | BadRow]]:
    it = iter(reader)
    while chunk := list(islice(it, size)):
        yield chunk


async def import_catalog(
    db: Database,
    path: Path,
    clock: Clock,
    tz: ZoneInfo,
    *,
    on_bad: BadFn | None = None,
    on_progress: ProgressFn | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> CatalogImportResult:
    """Upsert the items of ``path`` by code; raises ``CatalogFileError`` on a bad header."""
    total = (await asyncio.to_thread(path.stat)).st_size
    report_bad = on_bad or (lambda _bad: None)
    now = epoch(clock.now())
    result = CatalogImportResult()
    with path.open("rb") as stream:
        reader = await asyncio.to_thread(CatalogReader, stream, tz)
        chunks = _chunks(reader, chunk_rows)
        while True:
            chunk = await asyncio.to_thread(next, chunks, None)
            if chunk is None:
                break
            good = [r for r in chunk if isinstance(r, ItemRow)]
            bad = [r for r in chunk if isinstance(r, BadRow)]
            if good:

                def unit(conn: Connection, good: list[ItemRow] = good) -> list[BadRow]:
                    return _upsert_chunk(conn, good, now, reader.absent)

                refused = await db.write(unit)
                bad.extend(refused)
                result.rows_ok += len(good) - len(refused)
            for row in sorted(bad, key=lambda b: b.line):
                result.add_bad(row)
                report_bad(row)
            if on_progress is not None:
                on_progress(reader.bytes_read, total)
    return result
