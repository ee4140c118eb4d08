"""Importing a billing feed into the ledger, set-based and idempotent.

The file is read in chunks (memory does not grow with it). Each chunk is one
unit of work: rows go into a temporary staging table with one ``executemany``,
then a handful of ``INSERT … SELECT`` statements open missing subscribers and
accounts, post the entries (``ON CONFLICT DO NOTHING`` on the idempotency key
``accrual:{account}:{period}:{service}``), create their lots and add to the
balances. A row whose key was already posted is either a repeat of an earlier
import (skipped when identical, reported when it differs) or a duplicate within
this file (reported with both line numbers).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from pathlib import Path

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
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
from sqlalchemy.schema import CreateTable

from core.platform.clock import Clock, epoch
from core.platform.db import Database
from core.platform.errors import FeedError
from core.platform.schema import account, entry, feed_check, feed_import, lot, subscriber
from core.platform.sql import insert_ignoring
from core.points.accrual import AccrualRules, parse_period
from core.points.feed import BadRow, FeedReader, FeedRow

CHUNK_ROWS = 5000

_stage_md = MetaData()
feed_stage = Table(
    "feed_stage",
    _stage_md,
    Column("line", BigInteger, nullable=False),
    Column("msisdn", String(16), nullable=False),
    Column("service", String(16), nullable=False),
    Column("name", String(64)),
    Column("points", BigInteger, nullable=False),
    Column("reason_args", Text, nullable=False),
    Column("ref", String(64), nullable=False),
    Column("account_id", BigInteger),
    Column("ikey", String(160)),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DELETE ROWS",
)
"""Each chunk's rows; on PostgreSQL emptied by the commit itself (a DELETE would leave dead
rows that a temporary table never vacuums, and every later chunk would scan them)."""


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
class _ChunkOutcome:
    ok: int
    skipped: int
    points: int
    bad: list[BadRow]


def _ref(import_id: int, line: int) -> str:
    return f"feed {import_id} line {line}"


def _duplicate(line: int, first_line: int | str) -> BadRow:
    return BadRow(line, f"duplicate of line {first_line}: same number and account_type")


def _conflict(line: int, posted: int, period: str, ref: str, points: int) -> BadRow:
    return BadRow(
        line, f"already accrued {posted} points for {period} ({ref}); this row says {points}"
    )


def _stage_rows(
    rows: list[FeedRow], rules: AccrualRules, period: str, import_id: int
) -> list[dict[str, object]]:
    staged = []
    for row in rows:
        rate = rules.rate_for(row.tenure_months)
        staged.append(
            {
                "line": row.line,
                "msisdn": row.msisdn,
                "service": row.service,
                "name": row.name,
                "points": rules.points(row.spend_cents, row.tenure_months, row.reward_points),
                "reason_args": json.dumps(
                    {
                        "period": period,
                        "spend": row.spend_cents,
                        "rate": rate.label,
                        "reward": row.reward_points,
                        "service": row.service,
                    },
                    separators=(",", ":"),
                ),
                "ref": _ref(import_id, row.line),
            }
        )
    return staged


def _accrue_chunk(
    conn: Connection,
    *,
    staged: list[dict[str, object]],
    import_id: int,
    period: str,
    now: int,
    expires_at: int,
    home_lang: str,
) -> _ChunkOutcome:
    st = feed_stage
    conn.execute(CreateTable(st, if_not_exists=True))
    if conn.dialect.name == "sqlite":
        conn.execute(delete(st))
    conn.execute(insert(st), staged)
    # WHERE line > 0 keeps SQLite's parser from reading ON CONFLICT as a join constraint.
    lang = case((st.c.msisdn.like("+86%"), literal(home_lang)), else_=literal("en"))
    conn.execute(
        insert_ignoring(conn, subscriber, "msisdn").from_select(
            ["msisdn", "name", "lang", "opted_out", "created_at"],
            select(st.c.msisdn, func.max(st.c.name), lang, false(), literal(now, BigInteger))
            .where(st.c.line > 0)
            .group_by(st.c.msisdn),
        )
    )
    conn.execute(
        insert_ignoring(conn, account, "subscriber_id").from_select(
            ["subscriber_id", "type", "balance", "held", "created_at"],
            select(
                subscriber.c.id,
                func.max(st.c.service),
                literal(0, BigInteger),
                literal(0, BigInteger),
                literal(now, BigInteger),
            )
            .select_from(st.join(subscriber, subscriber.c.msisdn == st.c.msisdn))
            .where(st.c.line > 0)
            .group_by(subscriber.c.id),
        )
    )
    account_of = (
        select(account.c.id)
        .select_from(account.join(subscriber, subscriber.c.id == account.c.subscriber_id))
        .where(subscriber.c.msisdn == st.c.msisdn)
        .scalar_subquery()
    )
    conn.execute(update(st).values(account_id=account_of))
    conn.execute(
        update(st).values(
            ikey=literal("accrual:")
            + cast(st.c.account_id, String)
            + literal(f":{period}:")
            + st.c.service
        )
    )
    conn.execute(
        insert_ignoring(conn, entry, "idempotency_key").from_select(
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
                st.c.account_id,
                st.c.points,
                literal("earn"),
                literal("accrual"),
                st.c.ikey,
                literal("accrual"),
                st.c.reason_args,
                st.c.ref,
                literal(import_id, BigInteger),
                literal(now, BigInteger),
            )
            .where(st.c.points > 0)
            .order_by(st.c.line),
        )
    )
    posted = st.join(
        entry,
        and_(
            entry.c.idempotency_key == st.c.ikey,
            entry.c.ref == st.c.ref,
            entry.c.import_id == import_id,
        ),
    )
    conn.execute(
        lot.insert().from_select(
            ["account_id", "entry_id", "service", "amount", "remaining", "earned_at", "expires_at"],
            select(
                entry.c.account_id,
                entry.c.id,
                st.c.service,
                entry.c.amount,
                entry.c.amount,
                literal(now, BigInteger),
                literal(expires_at, BigInteger),
            ).select_from(posted),
        )
    )
    gains = conn.execute(
        select(entry.c.account_id, func.sum(entry.c.amount), func.count())
        .select_from(posted)
        .group_by(entry.c.account_id)
    ).all()
    if gains:
        conn.execute(
            update(account)
            .where(account.c.id == bindparam("aid"))
            .values(balance=account.c.balance + bindparam("gain", type_=BigInteger)),
            [{"aid": aid, "gain": int(gain)} for aid, gain, _ in gains],
        )
    ok = sum(int(n) for _, _, n in gains)
    points = sum(int(g) for _, g, _ in gains)
    zero = conn.execute(select(func.count()).select_from(st).where(st.c.points == 0)).scalar_one()
    clashes = conn.execute(
        select(st.c.line, st.c.points, entry.c.amount, entry.c.import_id, entry.c.ref)
        .select_from(st.join(entry, entry.c.idempotency_key == st.c.ikey))
        .where(
            and_(
                st.c.points > 0,
                or_(
                    entry.c.import_id.is_(None),
                    entry.c.import_id != import_id,
                    entry.c.ref != st.c.ref,
                ),
            )
        )
        .order_by(st.c.line)
    ).all()
    bad: list[BadRow] = []
    skipped = 0
    for line, points_here, amount, first_import, first_ref in clashes:
        if first_import == import_id:
            first_line = first_ref.rsplit(" ", 1)[-1]
            bad.append(
                BadRow(line, f"duplicate of line {first_line}: same number and account_type")
            )
        elif amount == points_here:
            skipped += 1
        else:
            bad.append(
                BadRow(
                    line,
                    f"already accrued {amount} points for {period} ({first_ref}); "
                    f"this row says {points_here}",
                )
            )
    return _ChunkOutcome(ok + int(zero), skipped, points, bad)


def _chunks(reader: FeedReader, size: int) -> Iterator[list[FeedRow | BadRow]]:
    it = iter(reader)
    while chunk := list(islice(it, size)):
        yield chunk


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
        while True:
            chunk = await asyncio.to_thread(next, chunks, None)
            if chunk is None:
                break
            good = [r for r in chunk if isinstance(r, FeedRow)]
            for row in chunk:
                if isinstance(row, BadRow):
                    result.add_bad(row)
                    report_bad(row)
            if good:
                staged = await asyncio.to_thread(_stage_rows, good, rules, period, result.import_id)

                def unit(
                    conn: Connection, staged: list[dict[str, object]] = staged
                ) -> _ChunkOutcome:
                    return _accrue_chunk(
                        conn,
                        staged=staged,
                        import_id=result.import_id,
                        period=period,
                        now=now,
                        expires_at=expires_at,
                        home_lang=home_lang,
                    )

                outcome = await db.write(unit)
                result.rows_ok += outcome.ok
                result.rows_skipped += outcome.skipped
                result.points += outcome.points
                for bad in outcome.bad:
                    result.add_bad(bad)
                    report_bad(bad)
            if on_progress:
                on_progress(reader.bytes_read, total)

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
            parked = []
            for row in chunk:
                if isinstance(row, BadRow):
                    bad += 1
                    on_bad(row)
                else:
                    points = rules.points(row.spend_cents, row.tenure_months, row.reward_points)
                    parked.append(
                        {
                            "import_id": import_id,
                            "line": row.line,
                            "msisdn": row.msisdn,
                            "service": row.service,
                            "points": points,
                        }
                    )
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
