"""The monthly billing feed picked up by itself (issue 16 §4, seed §1, DESIGN §9).

The billing system drops its file into an inbox folder (``POINTSHALL_FEED_INBOX``),
which every replica sees. A file is **complete** when

* ``NAME.csv`` has a marker ``NAME.csv.done`` (or ``NAME.done``) next to it, or
* without markers (``marker=False``), as soon as ``NAME.csv`` is there: the sender
  writes it under another name (``NAME.csv.part``, a dot file) and renames it in, an
  atomic rename.

Each complete file is **claimed** in the database before anything else: one
``feed_file`` row per (name, SHA-256 of the content), inserted with ``ON CONFLICT DO
NOTHING``, so of several replicas (or runs) exactly one gets it. The claimant imports
it with ``core.points.feed_import.import_feed`` for the period in its name
(``billing-2026-10.csv``, ``feed_202610.csv``), under the strict rules by default (any
bad row refuses the whole file), writes a report next to where the file goes, records
the outcome, and moves the file to ``processed/`` or ``rejected/``. A rejection is
logged and texted to the operators' phones (through the outbox, in the same unit of
work as the outcome).

Crashes: the outcome is committed before the file is moved, so a file found again with
a finished claim is moved where its row says (the report is already there); a claim
left ``importing`` longer than ``lease_seconds`` is taken over and the file imported
again, which the import's idempotency keys make harmless (rows already posted are
skipped). The same file dropped again after it was imported is moved to ``rejected/``
with a report naming the first import. Times are UTC epoch seconds.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, select, update

from core.messaging import outbox, segments
from core.platform.clock import Clock, epoch
from core.platform.db import Database
from core.platform.errors import FeedError
from core.platform.schema import feed_file
from core.platform.sql import insert_ignoring
from core.points import texts
from core.points.accrual import AccrualRules, parse_period
from core.points.feed import BadRow
from core.points.feed_import import ImportResult, import_feed

log = logging.getLogger(__name__)

PROCESSED, REJECTED = "processed", "rejected"
DONE_SUFFIX = ".done"
REPORT_SUFFIX = ".report.txt"
DEFAULT_LEASE_SECONDS = 3600
MAX_BAD_IN_REPORT = 1000
ALERT_SEGMENTS = 2
_PERIOD_IN_NAME = re.compile(r"(?<!\d)(\d{4})-?(0[1-9]|1[0-2])(?!\d)")
_HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class FeedInbox:
    """Where the feed arrives and how it is taken; built once by the composition root."""

    folder: Path
    rules: AccrualRules
    worker: str
    """Who claims (``host:pid``), recorded on the claim."""
    strict: bool = True
    marker: bool = True
    alert_phones: tuple[str, ...] = ()
    lease_seconds: int = DEFAULT_LEASE_SECONDS
    region: str = "CN"
    home_lang: str = "zh"

    @property
    def timezone(self) -> ZoneInfo:
        return self.rules.timezone


@dataclass(frozen=True)
class FileOutcome:
    """One file this run finished: ``processed``, ``rejected`` or ``duplicate``."""

    name: str
    status: str
    file_id: int
    moved_to: Path
    import_id: int | None = None
    detail: str = ""


@dataclass
class _Claim:
    id: int
    name: str
    sha256: str
    size: int
    period: str | None
    claimed_at: int


@dataclass
class _Report:
    result: ImportResult | None = None
    bad: list[BadRow] = field(default_factory=list)
    bad_count: int = 0

    def add(self, row: BadRow) -> None:
        self.bad_count += 1
        if len(self.bad) < MAX_BAD_IN_REPORT:
            self.bad.append(row)


# ------------------------------------------------------------------ the folder


def period_in_name(name: str) -> str | None:
    """The one billing period (YYYY-MM) a file name carries, e.g. ``feed_202610.csv``."""
    found = {f"{y}-{m}" for y, m in _PERIOD_IN_NAME.findall(Path(name).stem)}
    if len(found) != 1:
        return None
    period = found.pop()
    try:
        parse_period(period)
    except ValueError:
        return None
    return period


def _markers(path: Path) -> tuple[Path, Path]:
    return path.with_name(path.name + DONE_SUFFIX), path.with_suffix(DONE_SUFFIX)


def ready_files(inbox: FeedInbox) -> list[Path]:
    """The complete ``*.csv`` files in the inbox, oldest name first."""
    found = []
    for path in sorted(inbox.folder.iterdir()):
        if path.name.startswith(".") or path.suffix.lower() != ".csv" or not path.is_file():
            continue
        if inbox.marker and not any(m.exists() for m in _markers(path)):
            continue
        found.append(path)
    return found


def _digest(path: Path) -> tuple[str, int]:
    sha, size = hashlib.sha256(), 0
    with path.open("rb") as stream:
        while chunk := stream.read(_HASH_CHUNK):
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), size


def _free_name(folder: Path, name: str, file_id: int) -> Path:
    target = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 1
    while target.exists() or target.with_name(target.name + REPORT_SUFFIX).exists():
        target = folder / f"{stem}.{file_id}-{n}{suffix}"
        n += 1
    return target


def _move(path: Path, target: Path) -> None:
    target.parent.mkdir(exist_ok=True)
    os.replace(path, target)
    for marker in _markers(path):
        marker.unlink(missing_ok=True)


# ------------------------------------------------------------------- the claim


def _claim(
    conn: Connection, *, name: str, sha: str, size: int, now: int, inbox: FeedInbox
) -> tuple[str, _Claim | None, str | None, str | None]:
    """Claim the file; ``("mine", claim, …)``, ``("busy", …)`` or ``("done", claim, status,
    moved_to)`` for a file whose claim has finished."""
    period = period_in_name(name)
    inserted = conn.execute(
        insert_ignoring(conn, feed_file, "name", "sha256")
        .values(
            name=name[:255],
            sha256=sha,
            size=size,
            period=period,
            status="importing",
            claimed_by=inbox.worker[:64],
            claimed_at=now,
        )
        .returning(feed_file.c.id)
    ).scalar()
    if inserted is not None:
        return "mine", _Claim(int(inserted), name, sha, size, period, now), None, None
    row = conn.execute(
        select(
            feed_file.c.id, feed_file.c.status, feed_file.c.claimed_at, feed_file.c.moved_to
        ).where(and_(feed_file.c.name == name[:255], feed_file.c.sha256 == sha))
    ).one()
    file_id, status, claimed_at, moved_to = int(row[0]), str(row[1]), int(row[2]), row[3]
    claim = _Claim(file_id, name, sha, size, period, now)
    if status != "importing":
        return "done", claim, status, moved_to
    if claimed_at > now - inbox.lease_seconds:
        return "busy", None, None, None
    taken = conn.execute(
        update(feed_file)
        .where(
            and_(
                feed_file.c.id == file_id,
                feed_file.c.status == "importing",
                feed_file.c.claimed_at == claimed_at,
            )
        )
        .values(claimed_by=inbox.worker[:64], claimed_at=now)
    ).rowcount
    return ("mine", claim, None, None) if taken == 1 else ("busy", None, None, None)


def _finish(
    conn: Connection,
    *,
    claim: _Claim,
    status: str,
    moved_to: str,
    import_id: int | None,
    detail: str,
    now: int,
    inbox: FeedInbox,
) -> None:
    conn.execute(
        update(feed_file)
        .where(feed_file.c.id == claim.id)
        .values(
            status=status,
            finished_at=now,
            import_id=import_id,
            moved_to=moved_to[:300],
            detail=detail[:300],
        )
    )
    if status == REJECTED:
        _alert(conn, claim.name, detail, f"feed_file:{claim.id}:rejected", now, inbox)


def _alert(conn: Connection, name: str, detail: str, key: str, now: int, inbox: FeedInbox) -> None:
    log.warning("feed file %s rejected: %s", name, detail)
    for phone in inbox.alert_phones:
        lang = "zh" if phone.startswith("+86") else "en"
        text = texts.notice(lang, "feed_rejected", name=name[:60], reason=detail[:120])
        outbox.enqueue(
            conn,
            key=f"{key}:{phone}",
            recipient=phone,
            text=segments.truncate(text, ALERT_SEGMENTS),
            now=now,
        )


# ------------------------------------------------------------------- the report


def _when(moment: int, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(moment, tz).strftime("%Y-%m-%d %H:%M:%S %Z")


def _report_lines(
    claim: _Claim, status: str, detail: str, report: _Report, inbox: FeedInbox, now: int
) -> Iterator[str]:
    tz = inbox.timezone
    yield "pointshall billing feed report"
    yield f"file:      {claim.name}"
    yield f"sha256:    {claim.sha256}"
    yield f"size:      {claim.size:,} bytes"
    yield f"period:    {claim.period or '-'}"
    yield f"claimed:   {_when(claim.claimed_at, tz)} by {inbox.worker}"
    yield f"finished:  {_when(now, tz)}"
    yield f"rules:     {'strict (any bad row refuses the file)' if inbox.strict else 'lenient'}"
    yield f"result:    {status}"
    if detail:
        yield f"reason:    {detail}"
    result = report.result
    if result is not None:
        yield f"import:    {result.import_id}"
        yield (
            f"rows:      {result.rows_ok:,} posted ({result.points:,} points), "
            f"{result.rows_skipped:,} already imported, {result.rows_bad:,} bad"
        )
    if report.bad_count:
        shown = len(report.bad)
        yield f"bad rows ({shown:,} of {report.bad_count:,} shown):"
        for bad in report.bad:
            yield f"  {bad}"


def _write_report(target: Path, lines: Iterator[str]) -> None:
    target.parent.mkdir(exist_ok=True)
    report = target.with_name(target.name + REPORT_SUFFIX)
    partial = report.with_name("." + report.name + ".part")
    with partial.open("w", encoding="utf-8") as out:
        for line in lines:
            out.write(line + "\n")
    os.replace(partial, report)


# -------------------------------------------------------------------- one file


async def _import(
    db: Database, path: Path, claim: _Claim, inbox: FeedInbox, clock: Clock, report: _Report
) -> tuple[str, str]:
    if claim.period is None:
        return REJECTED, "no billing period (YYYY-MM or YYYYMM) in the file name"
    try:
        report.result = await import_feed(
            db,
            path,
            claim.period,
            inbox.rules,
            clock,
            strict=inbox.strict,
            region=inbox.region,
            home_lang=inbox.home_lang,
            on_bad=report.add,
        )
    except FeedError as exc:
        return REJECTED, str(exc)
    if report.bad_count:
        log.warning("feed file %s: %d bad row(s) not imported", claim.name, report.bad_count)
    return PROCESSED, ""


async def _take(db: Database, inbox: FeedInbox, clock: Clock, path: Path) -> FileOutcome | None:
    try:
        sha, size = await asyncio.to_thread(_digest, path)
    except FileNotFoundError:
        return None  # another replica moved it meanwhile
    now = epoch(clock.now())

    def claim_unit(conn: Connection) -> tuple[str, _Claim | None, str | None, str | None]:
        return _claim(conn, name=path.name, sha=sha, size=size, now=now, inbox=inbox)

    state, claim, status, moved_to = await db.write(claim_unit)
    if state == "busy" or claim is None:
        return None
    if state == "done":
        assert status is not None
        return await _again(db, inbox, path, claim, status, moved_to, now)
    report = _Report()
    result, detail = await _import(db, path, claim, inbox, clock, report)
    done_at = epoch(clock.now())
    target = _free_name(inbox.folder / result, path.name, claim.id)
    lines = _report_lines(claim, result, detail, report, inbox, done_at)
    await asyncio.to_thread(_write_report, target, lines)
    import_id = report.result.import_id if report.result is not None else None
    relative = str(target.relative_to(inbox.folder))

    def finish_unit(conn: Connection) -> None:
        _finish(
            conn,
            claim=claim,
            status=result,
            moved_to=relative,
            import_id=import_id,
            detail=detail,
            now=done_at,
            inbox=inbox,
        )

    await db.write(finish_unit)
    try:
        await asyncio.to_thread(_move, path, target)
    except FileNotFoundError:
        return None
    return FileOutcome(path.name, result, claim.id, target, import_id, detail)


async def _again(
    db: Database,
    inbox: FeedInbox,
    path: Path,
    claim: _Claim,
    status: str,
    moved_to: str | None,
    now: int,
) -> FileOutcome | None:
    """A file whose claim has finished is in the inbox: finish its move, or it came again."""
    recorded = inbox.folder / moved_to if moved_to else None
    try:
        if recorded is not None and not recorded.exists():
            await asyncio.to_thread(_move, path, recorded)  # the process died before moving it
            return FileOutcome(path.name, status, claim.id, recorded)
        target = _free_name(inbox.folder / REJECTED, path.name, claim.id)
        await asyncio.to_thread(_move, path, target)
    except FileNotFoundError:
        return None
    detail = (
        f"the same file (name and SHA-256) was already {status} as feed file {claim.id}"
        f"{f' ({moved_to})' if moved_to else ''}; nothing was imported again"
    )
    lines = _report_lines(claim, REJECTED, detail, _Report(), inbox, now)
    await asyncio.to_thread(_write_report, target, lines)
    key = f"feed_file:{claim.id}:again:{target.name}"
    await db.write(lambda conn: _alert(conn, path.name, detail, key, now, inbox))
    return FileOutcome(path.name, "duplicate", claim.id, target, None, detail)


async def process_inbox(db: Database, inbox: FeedInbox, clock: Clock) -> list[FileOutcome]:
    """Import each complete file in the inbox once (across replicas); the files this call
    finished, each moved to ``processed/`` or ``rejected/`` with a report next to it.

    Raises ``FileNotFoundError`` when the inbox folder itself is missing.
    """
    done = []
    for path in await asyncio.to_thread(ready_files, inbox):
        outcome = await _take(db, inbox, clock, path)
        if outcome is not None:
            done.append(outcome)
            log.info("feed file %s: %s (%s)", outcome.name, outcome.status, outcome.moved_to)
    return done
