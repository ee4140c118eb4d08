"""Importing a billing feed into the ledger, set-based and idempotent.

The file is read in chunks (memory does not grow with it); rows already in canonical
form pass a quick check and reach the database as plain tuples. Each chunk is one unit
of work: rows go into a temporary staging table (SQLite: one ``executemany``;
PostgreSQL: one ``INSERT … SELECT unnest(…)`` of column arrays), then ``INSERT …
SELECT`` statements open missing subscribers and accounts in line order, post the
entries (``ON CONFLICT DO NOTHING`` on the idempotency key
``accrual:{account}:{period}:{service}``), create their lots and add to the balances
(PostgreSQL: the last three in one statement, from the entries ``RETURNING`` gives). A
row whose key was already posted is either a repeat of an earlier import (skipped when
identical, reported when it differs) or a duplicate within this file (reported with
both line numbers).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    bindparam,
    case,
    cast,
    delete,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.schema import CreateTable

from core.platform.clock import Clock, epoch
from core.platform.db import Database
from core.platform.errors import FeedError
from core.platform.prepared import Prepared
from core.platform.schema import account, entry, feed_check, feed_import, lot, subscriber
from core.platform.sql import insert_ignoring
from core.points.accrual import CENTS_PER_YUAN, AccrualRules, parse_period
from core.points.feed import BadRow, FeedReader, GoodRow

CHUNK_ROWS = 5000


def _feed_stage(metadata: MetaData, line: Column[int]) -> Table:
    return Table(
        "feed_stage",
        metadata,
        line,
        Column("msisdn", String(16), nullable=False),
        Column("service", String(16), nullable=False),
        Column("name", String(64)),
        Column("points", BigInteger, nullable=False),
        Column("spend", BigInteger, nullable=False),
        Column("rate", Text, nullable=False),
        Column("reward", BigInteger, nullable=False),
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DELETE ROWS",
    )


feed_stage = _feed_stage(MetaData(), Column("line", BigInteger, nullable=False))
"""Each chunk's rows; on PostgreSQL emptied by the commit itself (a DELETE would leave dead
rows that a temporary table never vacuums, and every later chunk would scan them).
``rate`` is the tenure rate's label already JSON-quoted. Every statement reads the rows
in line order (``ORDER BY line``): the first line of a number opens its account (its
type), the first line that names it gives the subscriber's name, and of two rows for one
key the first is posted and the second reported."""
_feed_stage_sqlite = _feed_stage(MetaData(), Column("line", Integer, primary_key=True))
"""The same table on SQLite, where ``line`` is the rowid: rows are stored, and scanned,
in line order, so ``ORDER BY line`` costs no sort (PostgreSQL sorts the chunk; an index
there would only be more to maintain)."""

_STAGE_COLUMNS = ("line", "msisdn", "service", "name", "points", "spend", "rate", "reward")
StagedRow = tuple[int, str, str, str | None, int, int, str, int]


@dataclass
class ImportResult:
    import_id: int
    rows_ok: int = 0
    rows_bad: int = 0
    rows_skipped: int = 0
    points: int = 0
    first_bad: list[BadRow] = field(default_factory=list)

    MAX_KEPT = 100

    def add_bad(self, bad: BadRow) -> None:
        self.rows_bad += 1
        if len(self.first_bad) < self.MAX_KEPT:
            self.first_bad.append(bad)


@dataclass(frozen=True)
class _Chunk:
    staged: list[StagedRow]
    bad: list[BadRow]
    bytes_read: int


@dataclass(frozen=True)
class _ChunkOutcome:
    ok: int
    skipped: int
    points: int
    bad: list[BadRow]


def _duplicate(line: int, first_line: int | str) -> BadRow:
    return BadRow(line, f"duplicate of line {first_line}: same number and account_type")


def _conflict(line: int, posted: int, period: str, ref: str, points: int) -> BadRow:
    return BadRow(
        line, f"already accrued {posted} points for {period} ({ref}); this row says {points}"
    )


def _stage_rows(rows: list[GoodRow], rules: AccrualRules) -> list[StagedRow]:
    """One tuple per row (``_STAGE_COLUMNS``): the points and what the entry's reason
    needs; the JSON of the reason itself is put together by the database."""
    rates: dict[int, tuple[int, int, str]] = {}
    staged: list[StagedRow] = []
    add = staged.append
    for line, msisdn, service, spend, tenure, reward, name in rows:
        rate = rates.get(tenure)
        if rate is None:
            chosen = rules.rate_for(tenure)
            rate = rates[tenure] = (
                chosen.rate.numerator,
                chosen.rate.denominator * CENTS_PER_YUAN,
                json.dumps(chosen.label),
            )
        numerator, denominator, label = rate
        add(
            (
                line,
                msisdn,
                service,
                name,
                spend * numerator // denominator + reward,
                spend,
                label,
                reward,
            )
        )
    return staged


def _stage_insert(dialect: str) -> Any:
    """SQLite: one row per ``executemany`` parameter set. PostgreSQL: the whole chunk in one
    statement, a column per array parameter (``unnest``), one round trip and no per-row
    protocol work."""
    if dialect != "postgresql":
        return insert(feed_stage).values({c: bindparam(c) for c in _STAGE_COLUMNS})
    arrays = [
        func.unnest(bindparam(c, type_=ARRAY(feed_stage.c[c].type))).label(c)
        for c in _STAGE_COLUMNS
    ]
    return insert(feed_stage).from_select(list(_STAGE_COLUMNS), select(*arrays))


_STAGE_INSERT = Prepared(_stage_insert)


def _stage(conn: Connection, staged: list[StagedRow]) -> None:
    if conn.dialect.name == "postgresql":
        _STAGE_INSERT.run(
            conn, **dict(zip(_STAGE_COLUMNS, map(list, zip(*staged, strict=True)), strict=True))
        )
    else:
        _STAGE_INSERT.many(conn, _STAGE_COLUMNS, staged)


def _text(value: Any) -> Any:
    return cast(value, String)


def _reason_args(period: str) -> Any:
    """The reason's JSON, as ``json.dumps(…, separators=(",", ":"))`` wrote it per row."""
    st = feed_stage
    return (
        literal(f'{{"period":{json.dumps(period)},"spend":')
        + _text(st.c.spend)
        + literal(',"rate":')
        + st.c.rate
        + literal(',"reward":')
        + _text(st.c.reward)
        + literal(',"service":"')
        + st.c.service
        + literal('"}')
    )


def _ref(import_id: int) -> Any:
    return literal(f"feed {import_id} line ") + _text(feed_stage.c.line)


def _accrue_chunk(
    conn: Connection,
    *,
    staged: list[StagedRow],
    import_id: int,
    period: str,
    now: int,
    expires_at: int,
    home_lang: str,
    on_staged: Callable[[], None] = lambda: None,
) -> _ChunkOutcome:
    """Post one chunk set-based: stage it, open what is missing, post the entries, then
    their lots and the balances from the entries that statement inserted.

    ``on_staged`` is called once the rows are in the staging table (the reader may then
    parse the next chunk without holding up the staging ``executemany``)."""
    st = feed_stage
    pg = conn.dialect.name == "postgresql"
    try:
        conn.execute(CreateTable(st if pg else _feed_stage_sqlite, if_not_exists=True))
        if not pg:
            conn.execute(delete(st))
        _stage(conn, staged)
    finally:
        on_staged()
    # WHERE line > 0 keeps SQLite's parser from reading ON CONFLICT as a join constraint.
    lang = case((st.c.msisdn.like("+86%"), literal(home_lang)), else_=literal("en"))
    conn.execute(
        insert_ignoring(conn, subscriber, "msisdn").from_select(
            ["msisdn", "name", "lang", "opted_out", "created_at"],
            select(st.c.msisdn, st.c.name, lang, false(), literal(now, BigInteger))
            .where(st.c.line > 0)
            .order_by(st.c.name.is_(None), st.c.line),  # its first line that names it
        )
    )
    conn.execute(
        insert_ignoring(conn, account, "subscriber_id").from_select(
            ["subscriber_id", "type", "balance", "held", "created_at"],
            select(
                subscriber.c.id,
                st.c.service,
                literal(0, BigInteger),
                literal(0, BigInteger),
                literal(now, BigInteger),
            )
            .select_from(st.join(subscriber, subscriber.c.msisdn == st.c.msisdn))
            .where(st.c.line > 0)
            .order_by(st.c.line),
        )
    )
    owned = st.join(subscriber, subscriber.c.msisdn == st.c.msisdn).join(
        account, account.c.subscriber_id == subscriber.c.id
    )
    ikey = literal("accrual:") + _text(account.c.id) + literal(f":{period}:") + st.c.service
    post = insert_ignoring(conn, entry, "idempotency_key").from_select(
        [
            "account_id",
            "amount",
            "kind",
            "source",
            "idempotency_key",
            "reason_key",
            "reason_args",
            "ref",
            "import_id",
            "created_at",
        ],
        select(
            account.c.id,
            st.c.points,
            literal("earn"),
            literal("accrual"),
            ikey,
            literal("accrual"),
            _reason_args(period),
            _ref(import_id),
            literal(import_id, BigInteger),
            literal(now, BigInteger),
        )
        .select_from(owned)
        .where(st.c.points > 0)
        .order_by(st.c.line),
    )
    if pg:
        ok, points = _post_returning(conn, post, period=period, now=now, expires_at=expires_at)
    else:
        ok, points = _post_then_read(
            conn, post, import_id=import_id, period=period, now=now, expires_at=expires_at
        )
    zero = sum(1 for r in staged if r[4] == 0)
    bad: list[BadRow] = []
    skipped = 0
    if ok + zero < len(staged):
        clashes = conn.execute(
            select(st.c.line, st.c.points, entry.c.amount, entry.c.import_id, entry.c.ref)
            .select_from(owned.join(entry, entry.c.idempotency_key == ikey))
            .where(
                and_(
                    st.c.points > 0,
                    or_(
                        entry.c.import_id.is_(None),
                        entry.c.import_id != import_id,
                        entry.c.ref != _ref(import_id),
                    ),
                )
            )
            .order_by(st.c.line)
        ).all()
        for line, points_here, amount, first_import, first_ref in clashes:
            if first_import == import_id:
                bad.append(_duplicate(line, first_ref.rsplit(" ", 1)[-1]))
            elif amount == points_here:
                skipped += 1
            else:
                bad.append(_conflict(line, amount, period, first_ref, points_here))
    return _ChunkOutcome(ok + zero, skipped, points, bad)


def _lot_columns(new: Any, period: str, now: int, expires_at: int) -> Any:
    """What a lot takes from the entry ``new`` posted (its service is the key's tail)."""
    prefix = func.length(literal("accrual:") + _text(new.c.account_id) + literal(f":{period}:"))
    return select(
        new.c.account_id,
        new.c.id,
        func.substr(new.c.idempotency_key, prefix + 1),
        new.c.amount,
        new.c.amount,
        literal(now, BigInteger),
        literal(expires_at, BigInteger),
    )


_LOT_COLUMNS = [
    "account_id",
    "entry_id",
    "service",
    "amount",
    "remaining",
    "earned_at",
    "expires_at",
]


def _post_returning(
    conn: Connection, post: Any, *, period: str, now: int, expires_at: int
) -> tuple[int, int]:
    """PostgreSQL: entries, their lots and the balances in one statement, the lots and
    balances from the entries the insert returns (no second look at ``entry``)."""
    new = post.returning(
        entry.c.id, entry.c.account_id, entry.c.amount, entry.c.idempotency_key
    ).cte("new")
    lots = lot.insert().from_select(_LOT_COLUMNS, _lot_columns(new, period, now, expires_at))
    gains = (
        select(new.c.account_id.label("aid"), func.sum(new.c.amount).label("gain"))
        .group_by(new.c.account_id)
        .subquery()
    )
    balances = (
        update(account)
        .where(account.c.id == gains.c.aid)
        .values(balance=account.c.balance + gains.c.gain)
    )
    ok, points = conn.execute(
        select(func.count(), func.coalesce(func.sum(new.c.amount), 0))
        .select_from(new)
        .add_cte(lots.cte("lots"), balances.cte("balances"))
    ).one()
    return int(ok), int(points)


def _post_then_read(
    conn: Connection, post: Any, *, import_id: int, period: str, now: int, expires_at: int
) -> tuple[int, int]:
    """SQLite (no INSERT in a WITH): post, then take the lots and balances from this
    import's entries numbered after the chunk began (chunks of one import run one after
    the other; other writers' entries have no import id)."""
    before = int(conn.execute(select(func.coalesce(func.max(entry.c.id), 0))).scalar_one())
    conn.execute(post)
    new = (
        select(entry.c.id, entry.c.account_id, entry.c.amount, entry.c.idempotency_key)
        .where(and_(entry.c.import_id == import_id, entry.c.id > before))
        .subquery("new")
    )
    conn.execute(lot.insert().from_select(_LOT_COLUMNS, _lot_columns(new, period, now, expires_at)))
    gains = (
        select(new.c.account_id.label("aid"), func.sum(new.c.amount).label("gain"))
        .group_by(new.c.account_id)
        .subquery()
    )
    conn.execute(
        update(account)
        .where(account.c.id == gains.c.aid)
        .values(balance=account.c.balance + gains.c.gain)
    )
    ok, points = conn.execute(
        select(func.count(), func.coalesce(func.sum(new.c.amount), 0)).select_from(new)
    ).one()
    return int(ok), int(points)


def _chunks(reader: FeedReader, size: int) -> Iterator[tuple[list[GoodRow], list[BadRow]]]:
    """The file's rows ``size`` at a time, good (tuples) and bad apart."""
    it = reader.rows()
    while chunk := list(islice(it, size)):
        bad = [r for r in chunk if type(r) is BadRow]
        yield (chunk if not bad else [r for r in chunk if type(r) is not BadRow]), bad  # type: ignore[misc]


ProgressFn = Callable[[int, int], None]
BadFn = Callable[[BadRow], None]


async def import_feed(
    db: Database,
    path: Path,
    period: str,
    rules: AccrualRules,
    clock: Clock,
    *,
    strict: bool = False,
    region: str = "CN",
    home_lang: str = "zh",
    on_bad: BadFn | None = None,
    on_progress: ProgressFn | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ImportResult:
    """Import ``path`` for ``period``; running it again with the same file changes nothing."""
    try:
        parse_period(period)
    except ValueError as exc:
        raise FeedError(str(exc)) from None
    total = (await asyncio.to_thread(path.stat)).st_size
    report_bad = on_bad or (lambda _bad: None)
    now = epoch(clock.now())
    expires_at = rules.expires_at(period)

    def start(conn: Connection) -> int:
        return int(
            conn.execute(
                feed_import.insert()
                .values(period=period, filename=path.name[:255], started_at=now)
                .returning(feed_import.c.id)
            ).scalar_one()
        )

    import_id = await db.write(start)
    if strict:
        bad_count = await _strict_check(
            db, path, period, rules, region, import_id, report_bad, chunk_rows
        )
        if bad_count:
            await db.write(
                partial(_close, import_id=import_id, status="refused", bad=bad_count, now=now)
            )
            raise FeedError(f"--strict: {bad_count} bad row(s); nothing was imported")
    result = ImportResult(import_id)
    with path.open("rb") as stream:
        reader = FeedReader(stream, period, region)
        chunks = _chunks(reader, chunk_rows)
        # The next chunk is read and parsed while the database posts this one, once this
        # one is staged: a reader holding the GIL would make the staging executemany wait
        # for it at every row (SQLite gives the GIL back for each).
        gate = threading.Event()
        gate.set()

        def read_next() -> _Chunk | None:
            gate.wait()
            chunk = next(chunks, None)
            if chunk is None:
                return None
            good, bad = chunk
            return _Chunk(_stage_rows(good, rules), bad, reader.bytes_read)

        ahead = asyncio.ensure_future(asyncio.to_thread(read_next))
        try:
            while (chunk := await ahead) is not None:
                gate.clear()
                ahead = asyncio.ensure_future(asyncio.to_thread(read_next))
                for bad in chunk.bad:
                    result.add_bad(bad)
                    report_bad(bad)
                if chunk.staged:

                    def unit(
                        conn: Connection, staged: list[StagedRow] = chunk.staged
                    ) -> _ChunkOutcome:
                        return _accrue_chunk(
                            conn,
                            staged=staged,
                            import_id=result.import_id,
                            period=period,
                            now=now,
                            expires_at=expires_at,
                            home_lang=home_lang,
                            on_staged=gate.set,
                        )

                    outcome = await db.write(unit)
                    result.rows_ok += outcome.ok
                    result.rows_skipped += outcome.skipped
                    result.points += outcome.points
                    for bad in outcome.bad:
                        result.add_bad(bad)
                        report_bad(bad)
                else:
                    gate.set()
                if on_progress:
                    on_progress(chunk.bytes_read, total)
        finally:
            gate.set()
            if not ahead.done():
                await asyncio.wait([ahead])  # never leave the reader thread on a closed file

    await db.write(
        partial(
            _close,
            import_id=import_id,
            status="done",
            bad=result.rows_bad,
            now=epoch(clock.now()),
            ok=result.rows_ok,
            skipped=result.rows_skipped,
            points=result.points,
        )
    )
    return result


def _park(conn: Connection, *, rows: list[dict[str, object]]) -> None:
    conn.execute(insert(feed_check), rows)


def _close(
    conn: Connection,
    *,
    import_id: int,
    status: str,
    bad: int,
    now: int,
    ok: int = 0,
    skipped: int = 0,
    points: int = 0,
) -> None:
    conn.execute(
        update(feed_import)
        .where(feed_import.c.id == import_id)
        .values(
            status=status,
            finished_at=now,
            rows_ok=ok,
            rows_bad=bad,
            rows_skipped=skipped,
            points=points,
        )
    )


async def _strict_check(
    db: Database,
    path: Path,
    period: str,
    rules: AccrualRules,
    region: str,
    import_id: int,
    on_bad: BadFn,
    chunk_rows: int,
) -> int:
    """Find every bad row before anything is posted, in bounded memory.

    Rows are checked one by one as they stream past; duplicates within the file
    and conflicts with earlier imports need the whole file, so the good rows are
    parked in ``feed_check`` and compared there by the database.
    """
    bad = 0
    with path.open("rb") as stream:
        chunks = _chunks(FeedReader(stream, period, region), chunk_rows)
        while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
            good, bad_rows = chunk
            for row in bad_rows:
                bad += 1
                on_bad(row)
            parked = [
                {
                    "import_id": import_id,
                    "line": line,
                    "msisdn": msisdn,
                    "service": service,
                    "points": rules.points(spend, tenure, reward),
                }
                for line, msisdn, service, spend, tenure, reward, _name in good
            ]
            if parked:
                await db.write(partial(_park, rows=parked))

    def clashes(conn: Connection) -> list[BadRow]:
        fc = feed_check
        mine = fc.c.import_id == import_id
        firsts = (
            select(fc.c.msisdn, fc.c.service, func.min(fc.c.line).label("first"))
            .where(mine)
            .group_by(fc.c.msisdn, fc.c.service)
            .having(func.count() > 1)
            .subquery()
        )
        found = [
            _duplicate(int(line), int(first))
            for line, first in conn.execute(
                select(fc.c.line, firsts.c.first)
                .join(
                    firsts, and_(firsts.c.msisdn == fc.c.msisdn, firsts.c.service == fc.c.service)
                )
                .where(and_(mine, fc.c.line != firsts.c.first))
            )
        ]
        key = (
            literal("accrual:") + cast(account.c.id, String) + literal(f":{period}:") + fc.c.service
        )
        found += [
            _conflict(int(line), int(posted), period, ref, int(points))
            for line, posted, ref, points in conn.execute(
                select(fc.c.line, entry.c.amount, entry.c.ref, fc.c.points)
                .select_from(
                    fc.join(subscriber, subscriber.c.msisdn == fc.c.msisdn)
                    .join(account, account.c.subscriber_id == subscriber.c.id)
                    .join(entry, entry.c.idempotency_key == key)
                )
                .where(and_(mine, entry.c.amount != fc.c.points))
            )
        ]
        conn.execute(delete(fc).where(mine))
        return sorted(found, key=lambda b: b.line)

    for row in await db.write(clashes):
        bad += 1
        on_bad(row)
    return bad
