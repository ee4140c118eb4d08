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
bad row refuses the whole file), stages a report (``core.points.feed_report``), records
the outcome, then publishes the report and moves the file to ``processed/`` or
``rejected/``. A rejection is logged and texted to the operators' phones (through the
outbox, in the same unit of work as the outcome).

Crashes and slow runs: while it imports, the claimant renews its claim every quarter
lease; a claim not renewed for ``lease_seconds`` (its process died) is taken over and
the file imported again, which the import's idempotency keys make harmless (rows
already posted are skipped). The outcome is recorded only by the process holding the
claim (``claimed_by``), so a run that lost its claim changes nothing. It is recorded
before the file is moved, so a file found again with a finished claim is moved where
its row says (and its staged report published). The same file dropped again after it
was imported goes to ``rejected/`` with a report naming the first import. Times are UTC
epoch seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from sqlalchemy import ColumnElement, Connection, and_, select, update

from core.messaging import outbox, segments
from core.platform.clock import Clock, epoch
from core.platform.db import Database
from core.platform.errors import FeedError
from core.platform.schema import feed_file
from core.platform.sql import insert_ignoring
from core.points import feed_report, texts
from core.points.accrual import AccrualRules, parse_period
from core.points.feed_import import import_feed
from core.points.feed_report import FeedReport, FileFacts

log = logging.getLogger(__name__)

PROCESSED, REJECTED, DUPLICATE = "processed", "rejected", "duplicate"
IMPORTING = "importing"
DONE_SUFFIX = ".done"
DEFAULT_LEASE_SECONDS = 3600
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


@dataclass(frozen=True)
class FileOutcome:
    """One file this run finished: ``processed``, ``rejected`` or ``duplicate``."""

    name: str
    status: str
    file_id: int
    moved_to: Path
    import_id: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class _Claim:
    id: int
    facts: FileFacts
    state: str
    """``mine``, ``busy`` (someone else holds it) or ``done`` (finished before)."""
    status: str = IMPORTING
    moved_to: str | None = None


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
    """The complete ``*.csv`` files in the inbox, by name."""
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
    while target.exists() or feed_report.report_path(target).exists():
        target = folder / f"{stem}.{file_id}-{n}{suffix}"
        n += 1
    return target


def _move(path: Path, target: Path) -> None:
    target.parent.mkdir(exist_ok=True)
    os.replace(path, target)
    for marker in _markers(path):
        marker.unlink(missing_ok=True)


# ------------------------------------------------------------------- the claim


def claim(
    conn: Connection, *, name: str, sha: str, size: int, now: int, inbox: FeedInbox
) -> _Claim:
    """Claim the file named ``name`` with content ``sha`` for this worker, or find who has it.

    A unit of work: the unique (name, sha256) lets one claimant in; a claim not renewed
    for ``inbox.lease_seconds`` is taken over with a conditional UPDATE.
    """
    facts = FileFacts(name[:255], sha, size, period_in_name(name), now, inbox.worker[:64])
    inserted = conn.execute(
        insert_ignoring(conn, feed_file, "name", "sha256")
        .values(
            name=facts.name,
            sha256=sha,
            size=size,
            period=facts.period,
            status=IMPORTING,
            claimed_by=facts.claimed_by,
            claimed_at=now,
        )
        .returning(feed_file.c.id)
    ).scalar()
    if inserted is not None:
        return _Claim(int(inserted), facts, "mine")
    file_id, status, claimed_at, moved_to = conn.execute(
        select(
            feed_file.c.id, feed_file.c.status, feed_file.c.claimed_at, feed_file.c.moved_to
        ).where(and_(feed_file.c.name == facts.name, feed_file.c.sha256 == sha))
    ).one()
    if status != IMPORTING:
        return _Claim(int(file_id), facts, "done", str(status), moved_to)
    if int(claimed_at) > now - inbox.lease_seconds:
        return _Claim(int(file_id), facts, "busy")
    taken = conn.execute(
        update(feed_file)
        .where(
            and_(
                feed_file.c.id == file_id,
                feed_file.c.status == IMPORTING,
                feed_file.c.claimed_at == claimed_at,
            )
        )
        .values(claimed_by=facts.claimed_by, claimed_at=now)
    ).rowcount
    return _Claim(int(file_id), facts, "mine" if taken == 1 else "busy")


def _mine(found: _Claim) -> ColumnElement[bool]:
    return and_(
        feed_file.c.id == found.id,
        feed_file.c.status == IMPORTING,
        feed_file.c.claimed_by == found.facts.claimed_by,
    )


def renew(conn: Connection, found: _Claim, now: int) -> bool:
    """Renew this worker's claim; False if it has lost it."""
    return bool(conn.execute(update(feed_file).where(_mine(found)).values(claimed_at=now)).rowcount)


def finish(
    conn: Connection,
    found: _Claim,
    *,
    status: str,
    moved_to: str,
    import_id: int | None,
    detail: str,
    now: int,
    inbox: FeedInbox,
) -> bool:
    """Record the outcome if this worker still holds the claim (and alert on a rejection)."""
    recorded = conn.execute(
        update(feed_file)
        .where(_mine(found))
        .values(
            status=status,
            finished_at=now,
            import_id=import_id,
            moved_to=moved_to[:300],
            detail=detail[:300],
        )
    ).rowcount
    if recorded and status == REJECTED:
        _alert(conn, found.facts.name, detail, f"feed_file:{found.id}:rejected", now, inbox)
    return bool(recorded)


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


# -------------------------------------------------------------------- one file


async def _import(
    db: Database, path: Path, found: _Claim, inbox: FeedInbox, clock: Clock, report: FeedReport
) -> tuple[str, str]:
    period = found.facts.period
    if period is None:
        return REJECTED, "no billing period (YYYY-MM or YYYYMM) in the file name"
    try:
        report.result = await import_feed(
            db,
            path,
            period,
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
        log.warning("feed file %s: %d bad row(s) not imported", path.name, report.bad_count)
    return PROCESSED, ""


async def _keep_claim(db: Database, found: _Claim, inbox: FeedInbox, clock: Clock) -> None:
    """Renew the claim every quarter lease while the import runs."""
    while True:
        await asyncio.sleep(inbox.lease_seconds / 4)
        if not await db.write(partial(renew, found=found, now=epoch(clock.now()))):
            log.warning("feed file %s: the claim was taken over", found.facts.name)
            return


async def _take(db: Database, inbox: FeedInbox, clock: Clock, path: Path) -> FileOutcome | None:
    try:
        sha, size = await asyncio.to_thread(_digest, path)
    except FileNotFoundError:
        return None  # another replica moved it meanwhile
    now = epoch(clock.now())
    found = await db.write(
        lambda conn: claim(conn, name=path.name, sha=sha, size=size, now=now, inbox=inbox)
    )
    if found.state == "busy":
        return None
    if found.state == "done":
        return await _again(db, inbox, path, found, now)
    report = FeedReport()
    keeper = asyncio.create_task(_keep_claim(db, found, inbox, clock))
    try:
        status, detail = await _import(db, path, found, inbox, clock, report)
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
    done_at = epoch(clock.now())
    target = _free_name(inbox.folder / status, path.name, found.id)
    lines = feed_report.report_lines(
        found.facts,
        status=status,
        detail=detail,
        report=report,
        strict=inbox.strict,
        finished_at=done_at,
        tz=inbox.rules.timezone,
    )
    await asyncio.to_thread(feed_report.stage, target, lines)
    import_id = report.result.import_id if report.result is not None else None
    relative = str(target.relative_to(inbox.folder))

    def record(conn: Connection) -> bool:
        return finish(
            conn,
            found,
            status=status,
            moved_to=relative,
            import_id=import_id,
            detail=detail,
            now=done_at,
            inbox=inbox,
        )

    if not await db.write(record):  # another worker took the claim over: it finishes
        await asyncio.to_thread(feed_report.discard, target)
        return None
    try:
        await asyncio.to_thread(_publish_and_move, path, target)
    except FileNotFoundError:
        return None
    return FileOutcome(path.name, status, found.id, target, import_id, detail)


def _publish_and_move(path: Path, target: Path) -> None:
    feed_report.publish(target)
    _move(path, target)


async def _again(
    db: Database, inbox: FeedInbox, path: Path, found: _Claim, now: int
) -> FileOutcome | None:
    """A file whose claim has finished is in the inbox: finish its move, or it came again."""
    recorded = inbox.folder / found.moved_to if found.moved_to else None
    try:
        if recorded is not None and not recorded.exists():
            # The process died after recording the outcome, before moving the file.
            await asyncio.to_thread(_publish_and_move, path, recorded)
            return FileOutcome(path.name, found.status, found.id, recorded)
        target = _free_name(inbox.folder / REJECTED, path.name, found.id)
        await asyncio.to_thread(_move, path, target)
    except FileNotFoundError:
        return None
    where = f" ({found.moved_to})" if found.moved_to else ""
    detail = (
        f"the same file (name and SHA-256) was already {found.status} as feed file "
        f"{found.id}{where}; nothing was imported again"
    )
    lines = feed_report.report_lines(
        found.facts,
        status=REJECTED,
        detail=detail,
        report=FeedReport(),
        strict=inbox.strict,
        finished_at=now,
        tz=inbox.rules.timezone,
    )
    await asyncio.to_thread(feed_report.stage, target, lines)
    await asyncio.to_thread(feed_report.publish, target)
    key = f"feed_file:{found.id}:again:{target.name}"
    await db.write(lambda conn: _alert(conn, path.name, detail, key, now, inbox))
    return FileOutcome(path.name, DUPLICATE, found.id, target, None, detail)


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
