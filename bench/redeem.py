"""Confirmed redemptions/s vs the raw ceiling of one conditional UPDATE + INSERT transaction.

Both measured in the same run, on the same machine:

* **full** — the real hall on a fresh database (SQLite, or ``--pg`` PostgreSQL): each
  of ``--concurrency`` workers is a subscriber who texts ``DH 1001`` and then the
  confirm code from the reply, over and over, for ``--duration`` seconds. One
  confirmed redemption = an order created, points held, stock reserved, code
  checked, hold captured into a journal entry (lots consumed first-expiring-first),
  the order paid and a top-up request recorded — two inbound messages, each
  claimed, rate-limited, answered and recorded.
* **raw** — the stdlib ``sqlite3`` driver (asyncpg for PostgreSQL) running the bare
  transaction ``UPDATE account SET balance = balance - 1 WHERE id = ? AND
  balance - held >= 1`` + ``INSERT`` of a journal row, as fast as it goes
  (asyncpg with the same number of concurrent connections).

Prints both rates and the ratio (targets: ≥ 0.3 on SQLite, ≥ 0.5 on PostgreSQL).
``python -m bench.redeem [--duration 5] [--concurrency 32] [--pg]``
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sqlite3
import tempfile
import time
import uuid
from functools import partial
from pathlib import Path

from bench.common import DEFAULT_PG_DSN, pg_admin, run_context

PENDING = re.compile(r"回复(\d{6})确认")
POINTS_EACH = 10**8


async def _full(url: str, workers: int, duration: float) -> tuple[float, int]:
    from core.catalogue import editing as admin
    from core.catalogue.editing import ItemSpec
    from core.platform.clock import epoch
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

        def catalogue(conn: object) -> None:
            admin.upsert_category(conn, "HF", "话费", "Phone credit")  # type: ignore[arg-type]
            admin.upsert_item(
                conn,  # type: ignore[arg-type]
                ItemSpec(
                    "1001", "1元话费", "1 yuan credit", "HF", "credit", 100, face_value_cents=100
                ),
                now,
            )

        await services.db.write(catalogue)  # type: ignore[arg-type]
        with tempfile.TemporaryDirectory() as tmp:
            feed = Path(tmp) / "feed.csv"
            feed.write_text(
                "msisdn,period,spend_cents,tenure_months,reward_points\n"
                + "".join(f"{p},2026-10,0,0,{POINTS_EACH}\n" for p in people)
            )
            await import_feed(services.db, feed, "2026-10", services.rules, services.clock)

        async def say(who: str, text: str) -> str:
            msg = InboundMessage("bench", uuid.uuid4().hex, who, text)
            outcome = await services.db.write(partial(services.hall.receive, msg=msg))
            return outcome.reply

        done = 0
        stop_at = 0.0

        async def worker(who: str) -> None:
            nonlocal done
            while time.perf_counter() < stop_at:
                match = PENDING.search(await say(who, "DH 1001"))
                assert match, "redeem refused"
                reply = await say(who, match.group(1))
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
        return done / elapsed, done
    finally:
        await services.close()


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


async def main_async(args: argparse.Namespace) -> None:
    print(run_context())
    if args.pg:
        suffix = uuid.uuid4().hex[:8]
        full_db, raw_db = f"bench_redeem_{suffix}", f"bench_raw_{suffix}"
        for name in (full_db, raw_db):
            await pg_admin(args.pg_dsn, f'CREATE DATABASE "{name}"')
        base = args.pg_dsn.rsplit("/", 1)[0]
        try:
            full, n = await _full(
                f"postgresql+asyncpg://{base.split('://', 1)[1]}/{full_db}",
                args.concurrency,
                args.duration,
            )
            raw = await _raw_pg(f"{base}/{raw_db}", args.concurrency, args.duration)
        finally:
            for name in (full_db, raw_db):
                await pg_admin(args.pg_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        backend, target = "PostgreSQL (asyncpg)", 0.5
    else:
        with tempfile.TemporaryDirectory() as tmp:
            full, n = await _full(
                f"sqlite+aiosqlite:///{tmp}/full.db", args.concurrency, args.duration
            )
            raw = await asyncio.to_thread(
                _raw_sqlite, Path(tmp) / "raw.db", args.concurrency, args.duration
            )
        backend, target = "SQLite (stdlib sqlite3)", 0.3
    print(f"{backend}, {args.concurrency} concurrent subscribers, {args.duration:.0f} s each")
    print(f"  full confirmed redemptions: {full:,.0f}/s ({n:,} in the window)")
    print(f"  raw UPDATE+INSERT ceiling:  {raw:,.0f} tx/s")
    print(f"  ratio full/raw = {full / raw:.3f}  (target ≥ {target})")


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.redeem", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--pg-dsn", default=DEFAULT_PG_DSN)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
