"""Confirmed redemptions/s of the real hall vs the same SQL replayed bare, and vs a raw ceiling.

Issue 15 §1. Measured in one run, on the same machine (SQLite, or ``--pg`` PostgreSQL,
or ``--both``):

* **full** — the real hall on a fresh database: each of ``--concurrency`` workers is a
  subscriber who texts ``DH 1001`` and then the confirm code from the reply, over and
  over, for ``--duration`` seconds. One confirmed redemption = an order created, points
  held, code checked, hold captured into a journal entry (lots consumed
  first-expiring-first), the order paid and a top-up request recorded — two inbound
  messages, each claimed, rate-limited, answered and recorded; the doctor checks the
  ledger afterwards.
* **replay** — the exact SQL one confirmed redemption executes: captured from the real
  hall on the same database after the measured window (``bench.sqlcapture``: every
  statement the two units of work send to the driver, with parameters and results),
  then replayed with the bare driver (stdlib ``sqlite3`` on one writer thread, or an
  asyncpg pool of ``--concurrency`` connections) in the same two transactions per
  redemption, by the same subscribers, each replay carrying its own ids (learnt from
  what its statements return, by table) and its own message ids and order number. Each
  replayed statement must change as many rows as the captured one did.
* **raw** — the two-statement transaction ``UPDATE account SET balance = balance - 1
  WHERE id = ? AND balance - held >= 1`` + ``INSERT`` of a journal row with the bare
  driver, as fast as it goes (asyncpg with the same number of connections).

Prints the three rates, full/replay (target ≥ 0.50), full/raw (targets ≥ 0.10 on SQLite,
≥ 0.15 on PostgreSQL) and the statements and round trips per confirmed redemption.
``python -m bench.redeem [--duration 5] [--concurrency 32] [--pg | --both]``
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sqlite3
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from bench.common import DEFAULT_PG_DSN, pg_admin, run_context
from bench.sqlcapture import (
    Capture,
    Rewriter,
    RoundTrips,
    Step,
    driver_connection_class,
    install_sqlite_factory,
    plan,
)

PENDING = re.compile(r"订单(\d+):.*回复(\d{6})确认")
POINTS_EACH = 10**8
TARGET_REPLAY = 0.5
TARGET_RAW = {"sqlite": 0.10, "postgresql": 0.15}


@dataclass
class Captured:
    """One confirmed redemption as the hall ran it: its two units of work, planned for
    replay, the strings unique to it, and what it cost in round trips."""

    units: list[list[Step]]
    msisdn: str
    unique: list[str]
    statements: int
    round_trips: int | None


@dataclass
class Full:
    rate: float
    done: int
    people: list[str]
    captured: Captured


async def _full(url: str, workers: int, duration: float) -> Full:
    from core.catalogue import editing as admin
    from core.catalogue.editing import ItemSpec
    from core.platform.clock import epoch
    from core.platform.schema import metadata
    from core.points import doctor
    from core.points.feed_import import import_feed
    from handlers.hall import InboundMessage
    from pointshall.bootstrap import bootstrap
    from pointshall.config import Settings

    settings = Settings(database_url=url, rate_limit_per_minute=10**9)
    services = await bootstrap(settings)
    people = [f"+86138{i:08d}" for i in range(workers)]
    try:
        now = epoch(services.clock.now())

        def catalogue(conn: Any) -> None:
            admin.upsert_category(conn, "HF", "话费", "Phone credit")
            admin.upsert_item(
                conn,
                ItemSpec(
                    "1001", "1元话费", "1 yuan credit", "HF", "credit", 100, face_value_cents=100
                ),
                now,
            )

        await services.db.write(catalogue)
        with tempfile.TemporaryDirectory() as tmp:
            feed = Path(tmp) / "feed.csv"
            feed.write_text(
                "msisdn,period,spend_cents,tenure_months,reward_points\n"
                + "".join(f"{p},2026-10,0,0,{POINTS_EACH}\n" for p in people)
            )
            await import_feed(services.db, feed, "2026-10", services.rules, services.clock)

        async def say(who: str, text: str, sid: str | None = None) -> str:
            msg = InboundMessage("bench", sid or uuid.uuid4().hex, who, text)
            outcome = await services.db.write(partial(services.hall.receive, msg=msg))
            return str(outcome.reply)

        done = 0
        stop_at = 0.0

        async def worker(who: str) -> None:
            nonlocal done
            while time.perf_counter() < stop_at:
                match = PENDING.search(await say(who, "DH 1001"))
                assert match, "redeem refused"
                reply = await say(who, match.group(2))
                assert reply.startswith("兑换成功"), reply
                done += 1

        stop_at = time.perf_counter() + 1.0  # warm-up
        await asyncio.gather(*(worker(p) for p in people))
        done = 0
        start = time.perf_counter()
        stop_at = start + duration
        await asyncio.gather(*(worker(p) for p in people))
        elapsed = time.perf_counter() - start
        report = await services.db.read(doctor.examine)
        assert report.ok, report.discrepancies

        # One more redemption, alone, captured statement by statement.
        capture = Capture()
        trips = RoundTrips()
        if services.db.dialect == "postgresql":
            trips.install()
        try:
            sids = [uuid.uuid4().hex, uuid.uuid4().hex]
            driver = driver_connection_class(services.db.dialect)
            trips.counting = True
            with capture.unit(driver):
                reply = await say(people[0], "DH 1001", sids[0])
            match = PENDING.search(reply)
            assert match, reply
            with capture.unit(driver):
                paid = await say(people[0], match.group(2), sids[1])
            assert paid.startswith("兑换成功"), paid
            trips.counting = False
        finally:
            trips.uninstall()
        units = plan(capture.units, metadata)
        captured = Captured(
            units,
            people[0],
            [*sids, match.group(1)],
            sum(len(u) for u in units),
            trips.count if services.db.dialect == "postgresql" else None,
        )
        return Full(done / elapsed, done, people, captured)
    finally:
        await services.close()


# ---------------------------------------------------------------------------- replay


class _Fresh:
    """Unique stand-ins for a replayed redemption's message ids and order number."""

    def __init__(self) -> None:
        self._n = 0
        self._lock = threading.Lock()

    def rewriter(self, captured: Captured, msisdn: str) -> Rewriter:
        with self._lock:
            self._n += 1
            n = self._n
        strings = {captured.msisdn: msisdn}
        for token in captured.unique:
            if token.isdigit():  # the order number: same length, a leading 9 no date has
                strings[token] = ("9" + f"{n:0{len(token) - 1}d}")[: len(token)]
            else:
                strings[token] = uuid.uuid4().hex[: len(token)]
        return Rewriter(strings=strings)


def _replay_sqlite(path: Path, captured: Captured, people: list[str], duration: float) -> float:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        "busy_timeout=10000",
    ):
        conn.execute(f"PRAGMA {pragma}")
    fresh = _Fresh()
    done = 0
    mismatched = 0
    start = time.perf_counter()
    stop_at = start + duration
    while time.perf_counter() < stop_at:
        for who in people:
            rw = fresh.rewriter(captured, who)
            for unit in captured.units:
                conn.execute("BEGIN IMMEDIATE")
                for step in unit:
                    cur = conn.execute(step.sql, rw.params(step))
                    rows = cur.fetchall()
                    rw.learn(step, rows)
                    changed = "RETURNING" not in step.sql and step.rowcount >= 0
                    if (step.rows and not rows) or (changed and cur.rowcount != step.rowcount):
                        mismatched += 1
                conn.execute("COMMIT")
            done += 1
    elapsed = time.perf_counter() - start
    conn.close()
    if mismatched:
        raise RuntimeError(f"replay diverged: {mismatched} statements returned nothing")
    return done / elapsed


async def _replay_pg(dsn: str, captured: Captured, people: list[str], duration: float) -> float:
    import asyncpg

    pool = await asyncpg.create_pool(dsn, min_size=len(people), max_size=len(people))
    assert pool is not None
    fresh = _Fresh()
    done = 0
    mismatched = 0
    stop_at = time.perf_counter() + duration

    async def worker(who: str) -> None:
        nonlocal done, mismatched
        async with pool.acquire() as conn:
            while time.perf_counter() < stop_at:
                rw = fresh.rewriter(captured, who)
                for unit in captured.units:
                    async with conn.transaction():
                        for step in unit:
                            rows = await conn.fetch(step.sql, *rw.params(step))
                            rw.learn(step, rows)
                            if step.rows and not rows:
                                mismatched += 1
                done += 1

    try:
        start = time.perf_counter()
        await asyncio.gather(*(worker(p) for p in people))
        rate = done / (time.perf_counter() - start)
    finally:
        await pool.close()
    if mismatched:
        raise RuntimeError(f"replay diverged: {mismatched} statements returned nothing")
    return rate


# ------------------------------------------------------------------------------- raw

RAW_SCHEMA = """
CREATE TABLE account (id INTEGER PRIMARY KEY, balance BIGINT NOT NULL, held BIGINT NOT NULL);
CREATE TABLE entry (id INTEGER PRIMARY KEY, account_id BIGINT NOT NULL, amount BIGINT NOT NULL,
                    idempotency_key TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL);
"""


def _raw_sqlite(path: Path, accounts: int, duration: float) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.executescript(RAW_SCHEMA)
    conn.executemany(
        "INSERT INTO account VALUES (?, ?, 0)", [(i, POINTS_EACH) for i in range(accounts)]
    )
    n = 0
    start = time.perf_counter()
    stop_at = start + duration
    while time.perf_counter() < stop_at:
        for _ in range(100):
            aid = n % accounts
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "UPDATE account SET balance = balance - 1 WHERE id = ? AND balance - held >= 1",
                (aid,),
            )
            conn.execute(
                "INSERT INTO entry (account_id, amount, idempotency_key, created_at) "
                "VALUES (?, -1, ?, ?)",
                (aid, f"k{n}", n),
            )
            conn.execute("COMMIT")
            n += 1
    elapsed = time.perf_counter() - start
    conn.close()
    return n / elapsed


async def _raw_pg(dsn: str, workers: int, duration: float) -> float:
    import asyncpg

    pool = await asyncpg.create_pool(dsn, min_size=workers, max_size=workers)
    assert pool is not None
    try:
        async with pool.acquire() as conn:
            await conn.execute(RAW_SCHEMA.replace("INTEGER PRIMARY KEY", "BIGSERIAL PRIMARY KEY"))
            await conn.executemany(
                "INSERT INTO account (id, balance, held) VALUES ($1, $2, 0)",
                [(i, POINTS_EACH) for i in range(workers)],
            )
        done = 0
        stop_at = time.perf_counter() + duration

        async def worker(aid: int) -> None:
            nonlocal done
            async with pool.acquire() as conn:
                while time.perf_counter() < stop_at:
                    async with conn.transaction():
                        await conn.execute(
                            "UPDATE account SET balance = balance - 1 "
                            "WHERE id = $1 AND balance - held >= 1",
                            aid,
                        )
                        await conn.execute(
                            "INSERT INTO entry (account_id, amount, idempotency_key, created_at) "
                            "VALUES ($1, -1, $2, 0)",
                            aid,
                            uuid.uuid4().hex,
                        )
                    done += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(workers)))
        return done / (time.perf_counter() - start)
    finally:
        await pool.close()


async def one_backend(args: argparse.Namespace, pg: bool) -> None:
    if pg:
        suffix = uuid.uuid4().hex[:8]
        full_db, raw_db = f"bench_redeem_{suffix}", f"bench_raw_{suffix}"
        for name in (full_db, raw_db):
            await pg_admin(args.pg_dsn, f'CREATE DATABASE "{name}"')
        base = args.pg_dsn.rsplit("/", 1)[0]
        try:
            full = await _full(
                f"postgresql+asyncpg://{base.split('://', 1)[1]}/{full_db}",
                args.concurrency,
                args.duration,
            )
            replay = await _replay_pg(
                f"{base}/{full_db}", full.captured, full.people, args.duration
            )
            raw = await _raw_pg(f"{base}/{raw_db}", args.concurrency, args.duration)
        finally:
            for name in (full_db, raw_db):
                await pg_admin(args.pg_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        backend, driver = "postgresql", "asyncpg"
    else:
        with tempfile.TemporaryDirectory() as tmp:
            full = await _full(
                f"sqlite+aiosqlite:///{tmp}/full.db", args.concurrency, args.duration
            )
            replay = await asyncio.to_thread(
                _replay_sqlite, Path(tmp) / "full.db", full.captured, full.people, args.duration
            )
            raw = await asyncio.to_thread(
                _raw_sqlite, Path(tmp) / "raw.db", args.concurrency, args.duration
            )
        backend, driver = "sqlite", "stdlib sqlite3"
    c = full.captured
    label = "PostgreSQL" if pg else "SQLite"
    print(
        f"{label} ({driver}), {args.concurrency} concurrent subscribers, {args.duration:g} s each"
    )
    print(f"  full confirmed redemptions:      {full.rate:>9,.0f}/s ({full.done:,} in the window)")
    print(f"  replay of the same SQL, bare:    {replay:>9,.0f}/s")
    print(f"  raw UPDATE+INSERT transaction:   {raw:>9,.0f} tx/s")
    print(
        f"  statements per confirmed redemption: {c.statements} in 2 transactions "
        f"({' + '.join(str(len(u)) for u in c.units)}), + BEGIN/COMMIT each"
    )
    if c.round_trips is not None:
        print(
            f"  round trips per confirmed redemption: {c.round_trips} (the replay: "
            f"{c.statements + 4}, BEGIN and COMMIT included)"
        )
    else:
        print("  round trips per confirmed redemption: none (in-process); 2 hops to the writer")
    print(f"  ratio full/replay = {full.rate / replay:.3f}  (target ≥ {TARGET_REPLAY})")
    print(
        f"  ratio full/raw two-statement {driver} tx = {full.rate / raw:.3f}  "
        f"(target ≥ {TARGET_RAW[backend]})"
    )


async def main_async(args: argparse.Namespace) -> None:
    print(run_context())
    install_sqlite_factory()
    for pg in (False, True) if args.both else (args.pg,):
        await one_backend(args, pg)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.redeem", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--both", action="store_true", help="SQLite, then PostgreSQL")
    parser.add_argument("--pg-dsn", default=DEFAULT_PG_DSN)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
