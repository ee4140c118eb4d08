"""Billing-feed import speed and memory: ``core.points.feed_import.import_feed`` vs a bare load.

For an N-subscriber feed from ``bench.feedgen`` this runs, each in its own child
process (so each peak RSS is its own):

* **baseline** - read the CSV with the ``csv`` module and ``executemany`` the raw
  rows into a plain table, one transaction per 5,000 rows: stdlib ``sqlite3``
  (WAL, ``synchronous=NORMAL``, like the product) or, with ``--pg``, asyncpg
  ``executemany`` (``--pg-baseline copy`` for ``copy_records_to_table``);
* **import** - ``import_feed`` into a freshly migrated database
  (``pointshall.bootstrap.bootstrap``; migration is not timed);
* **re-import** - the same file again into the same database (idempotent: it
  must post nothing new).

It prints times, rows/s, peak RSS and the ratio of each to the baseline.
``--rss-compare`` runs 100,000 and 1,000,000 subscribers and prints
RSS(1M)/RSS(100k) for every phase (target for the import: ≤ 1.25).

``python -m bench.accrual [--subscribers N] [--pg] [--rss-compare] [--no-reimport]``

SQLite files go to a temporary directory (``--tmpdir`` to choose where); with
``--pg`` a throwaway database is created next to ``--pg-dsn``'s and dropped after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import DEFAULT_PG_DSN, pg_admin, run_context

BASELINE_CHUNK = 5000
RESULT_PREFIX = "BENCH-RESULT "
RAW_COLUMNS = (
    "msisdn",
    "period",
    "spend_cents",
    "tenure_months",
    "reward_points",
    "account_type",
    "name",
)


# ------------------------------------------------------------------------ child side


def _rss_now_kb() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except OSError:
        return 0


def _usage() -> dict[str, float]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {"peak_rss_kb": ru.ru_maxrss, "cpu_s": ru.ru_utime + ru.ru_stime}


def _raw_rows(path: Path) -> Any:
    import csv

    with path.open(newline="", encoding="utf-8") as stream:
        reader = csv.reader(stream)
        next(reader)
        width = len(RAW_COLUMNS)
        for line, fields in enumerate(reader, start=2):
            if len(fields) != width:
                fields = (fields + [""] * width)[:width]
            yield (line, *fields)


def _chunked(rows: Any, size: int) -> Any:
    from itertools import islice

    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def _child_baseline_sqlite(feed: Path, db_path: str) -> dict[str, Any]:
    import sqlite3

    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE feed_raw (line INTEGER, " + ", ".join(f"{c} TEXT" for c in RAW_COLUMNS) + ")"
    )
    sql = f"INSERT INTO feed_raw VALUES ({', '.join('?' * (len(RAW_COLUMNS) + 1))})"
    rss_before = _rss_now_kb()
    started = time.perf_counter()
    rows = 0
    for chunk in _chunked(_raw_rows(feed), BASELINE_CHUNK):
        conn.execute("BEGIN")
        conn.executemany(sql, chunk)
        conn.execute("COMMIT")
        rows += len(chunk)
    seconds = time.perf_counter() - started
    stored = conn.execute("SELECT count(*) FROM feed_raw").fetchone()[0]
    conn.close()
    return {"seconds": seconds, "rows": rows, "stored": stored, "rss_before_kb": rss_before}


async def _child_baseline_pg(feed: Path, dsn: str, mode: str) -> dict[str, Any]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "CREATE TABLE feed_raw (line bigint, "
            + ", ".join(f"{c} text" for c in RAW_COLUMNS)
            + ")"
        )
        sql = "INSERT INTO feed_raw VALUES (" + ", ".join(
            f"${i}" for i in range(1, len(RAW_COLUMNS) + 2)
        )
        sql += ")"
        rss_before = _rss_now_kb()
        started = time.perf_counter()
        rows = 0
        for chunk in _chunked(_raw_rows(feed), BASELINE_CHUNK):
            async with conn.transaction():
                if mode == "copy":
                    await conn.copy_records_to_table("feed_raw", records=chunk)
                else:
                    await conn.executemany(sql, chunk)
            rows += len(chunk)
        seconds = time.perf_counter() - started
        stored = await conn.fetchval("SELECT count(*) FROM feed_raw")
        await conn.execute("DROP TABLE feed_raw")
    finally:
        await conn.close()
    return {"seconds": seconds, "rows": rows, "stored": stored, "rss_before_kb": rss_before}


async def _child_import(feed: Path, url: str, period: str, chunk_rows: int) -> dict[str, Any]:
    from sqlalchemy import Connection, func, select

    from core.platform.schema import account, entry, lot, subscriber
    from core.points.feed_import import import_feed
    from pointshall.bootstrap import bootstrap
    from pointshall.config import Settings

    settings = Settings(database_url=url)
    services = await bootstrap(settings)
    try:
        rss_before = _rss_now_kb()
        started = time.perf_counter()
        result = await import_feed(
            services.db,
            feed,
            period,
            services.rules,
            services.clock,
            region=settings.default_region,
            home_lang=settings.default_lang,
            chunk_rows=chunk_rows,
        )
        seconds = time.perf_counter() - started

        def totals(conn: Connection) -> dict[str, int]:
            def one(stmt: Any) -> int:
                return int(conn.execute(stmt).scalar_one() or 0)

            return {
                "subscribers": one(select(func.count()).select_from(subscriber)),
                "accounts": one(select(func.count()).select_from(account)),
                "entries": one(select(func.count()).select_from(entry)),
                "lots": one(select(func.count()).select_from(lot)),
                "balance_sum": one(select(func.sum(account.c.balance))),
                "entry_sum": one(select(func.sum(entry.c.amount))),
            }

        db_totals = await services.db.read(totals)
    finally:
        await services.close()
    return {
        "seconds": seconds,
        "rows": result.rows_ok + result.rows_bad + result.rows_skipped,
        "rows_ok": result.rows_ok,
        "rows_bad": result.rows_bad,
        "rows_skipped": result.rows_skipped,
        "points": result.points,
        "first_bad": [str(b) for b in result.first_bad[:3]],
        "totals": db_totals,
        "rss_before_kb": rss_before,
    }


def child_main(args: argparse.Namespace) -> int:
    feed = Path(args.feed)
    if args.child == "baseline-sqlite":
        out = _child_baseline_sqlite(feed, args.target)
    elif args.child == "baseline-pg":
        out = asyncio.run(_child_baseline_pg(feed, args.target, args.pg_baseline))
    elif args.child == "import":
        out = asyncio.run(_child_import(feed, args.target, args.period, args.chunk_rows))
    else:
        raise SystemExit(f"unknown child {args.child!r}")
    out.update(_usage())
    print(RESULT_PREFIX + json.dumps(out), flush=True)
    return 0


# ----------------------------------------------------------------------- parent side


@dataclass
class Phase:
    name: str
    seconds: float | None = None
    rows: int = 0
    peak_rss_kb: int = 0
    rss_before_kb: int = 0
    cpu_s: float = 0.0
    detail: dict[str, Any] | None = None
    error: str | None = None


def _run_child(name: str, argv: list[str], timeout: float) -> Phase:
    cmd = [sys.executable, "-m", "bench.accrual", *argv]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:  # subprocess.run has killed and reaped the child
        return Phase(name, error=f"timed out after {timeout:.0f} s (child killed)")
    result = None
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            result = json.loads(line[len(RESULT_PREFIX) :])
    if proc.returncode != 0 or result is None:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        return Phase(name, error=f"child exited {proc.returncode}:\n{tail}")
    return Phase(
        name,
        seconds=result["seconds"],
        rows=result["rows"],
        peak_rss_kb=result["peak_rss_kb"],
        rss_before_kb=result["rss_before_kb"],
        cpu_s=result["cpu_s"],
        detail=result,
    )


def _pg_urls(admin_dsn: str, name: str) -> tuple[str, str]:
    """(asyncpg DSN, SQLAlchemy URL) of database ``name`` on ``admin_dsn``'s server."""
    from sqlalchemy.engine import make_url

    base = make_url(admin_dsn).set(database=name)
    dsn = base.set(drivername="postgresql").render_as_string(hide_password=False)
    url = base.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    return dsn, url


def run_size(args: argparse.Namespace, n: int, workdir: Path) -> list[Phase]:
    from bench.feedgen import write_feed

    feed = workdir / f"feed-{n}.csv"
    stats = write_feed(feed, n, args.period, seed=args.seed, bad_rate=args.bad_rate)
    print(
        f"\n== {n:,} subscribers ({'PostgreSQL' if args.pg else 'SQLite'}) == feed "
        f"{stats.bytes / 1e6:.1f} MB written in {stats.seconds:.1f} s ({stats.bad:,} bad rows)",
        flush=True,
    )
    common = ["--feed", str(feed), "--period", args.period]
    phases: list[Phase] = []
    pg_name = None
    try:
        if args.pg:
            pg_name = f"pointshall_bench_{uuid.uuid4().hex[:12]}"
            asyncio.run(pg_admin(args.pg_dsn, f'CREATE DATABASE "{pg_name}"'))
            dsn, url = _pg_urls(args.pg_dsn, pg_name)
            baseline = [
                "--child",
                "baseline-pg",
                "--target",
                dsn,
                "--pg-baseline",
                args.pg_baseline,
            ]
        else:
            url = f"sqlite+aiosqlite:///{workdir / f'pointshall-{n}.db'}"
            baseline = ["--child", "baseline-sqlite", "--target", str(workdir / f"raw-{n}.db")]
        label = "baseline (" + ("asyncpg " + args.pg_baseline if args.pg else "sqlite3") + ")"
        runs = [(label, baseline), ("import_feed", ["--child", "import", "--target", url])]
        if not args.no_reimport:
            runs.append(("re-import", ["--child", "import", "--target", url]))
        for name, argv in runs:
            extra = ["--chunk-rows", str(args.chunk_rows)] if argv[1] == "import" else []
            print(f"  running {name} ...", flush=True)
            phase = _run_child(name, [*argv, *common, *extra], args.timeout)
            phases.append(phase)
            if phase.error:
                print(f"  {name}: {phase.error}", flush=True)
                if name == "import_feed":
                    break
    finally:
        if pg_name:
            asyncio.run(pg_admin(args.pg_dsn, f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
        for path in workdir.iterdir():
            path.unlink()
    _print_table(phases)
    return phases


def _mb(kb: int) -> str:
    return f"{kb / 1024:,.0f}"


def _print_table(phases: list[Phase]) -> None:
    base = phases[0] if phases and phases[0].seconds else None
    head = f"  {'phase':<32}{'seconds':>9}{'rows/s':>10}{'×baseline':>11}"
    head += f"{'peak RSS MB':>13}{'RSS before':>12}{'CPU s':>8}"
    print(head)
    for p in phases:
        if p.seconds is None:
            print(f"  {p.name:<32}{'failed':>9}")
            continue
        ratio = f"{p.seconds / base.seconds:.2f}" if base and base.seconds else "-"
        print(
            f"  {p.name:<32}{p.seconds:>9.2f}{p.rows / p.seconds:>10,.0f}{ratio:>11}"
            f"{_mb(p.peak_rss_kb):>13}{_mb(p.rss_before_kb):>12}{p.cpu_s:>8.1f}"
        )
    for p in phases:
        d = p.detail or {}
        if "rows_ok" in d:
            t = d["totals"]
            print(
                f"  {p.name}: ok {d['rows_ok']:,}, skipped {d['rows_skipped']:,}, "
                f"bad {d['rows_bad']:,}, points {d['points']:,}; db: {t['subscribers']:,} "
                f"subscribers, {t['entries']:,} entries, {t['lots']:,} lots, balance sum "
                f"{t['balance_sum']:,} (entries {t['entry_sum']:,})"
            )
            for bad in d["first_bad"]:
                print(f"    {bad}")
        elif "stored" in d:
            print(f"  {p.name}: {d['stored']:,} rows stored")
    if base and len(phases) > 1 and phases[1].seconds:
        print(f"  ratio import/baseline = {phases[1].seconds / base.seconds:.2f}")
    if base and len(phases) > 2 and phases[2].seconds:
        print(f"  ratio re-import/baseline = {phases[2].seconds / base.seconds:.2f}")


def parent_main(args: argparse.Namespace) -> int:
    sizes = [100_000, 1_000_000] if args.rss_compare else [args.subscribers]
    print(run_context())
    with tempfile.TemporaryDirectory(prefix="pointshall-bench-", dir=args.tmpdir) as tmp:
        results = {n: run_size(args, n, Path(tmp)) for n in sizes}
    if args.rss_compare:
        small, large = (results[n] for n in sizes)
        print(f"\nRSS({sizes[1]:,}) / RSS({sizes[0]:,}), peak RSS of each child process:")
        for a, b in zip(small, large, strict=False):
            if a.peak_rss_kb and b.peak_rss_kb:
                print(
                    f"  {a.name:<32}{_mb(a.peak_rss_kb):>7} MB -> {_mb(b.peak_rss_kb):>7} MB"
                    f"   ratio {b.peak_rss_kb / a.peak_rss_kb:.2f}"
                    + ("   (target ≤ 1.25)" if a.name == "import_feed" else "")
                )
            else:
                print(f"  {a.name:<32}  n/a (a run failed)")
    failed = [p for ps in results.values() for p in ps if p.error]
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.accrual", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--subscribers", "-n", type=int, default=100_000)
    parser.add_argument("--period", default="2026-10")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bad-rate", type=float, default=0.0)
    parser.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--pg-dsn", default=DEFAULT_PG_DSN, help="server to make a scratch DB on")
    parser.add_argument("--pg-baseline", choices=("executemany", "copy"), default="executemany")
    parser.add_argument("--rss-compare", action="store_true", help="run 100k and 1M, compare RSS")
    parser.add_argument("--no-reimport", action="store_true", help="skip the second import")
    parser.add_argument("--chunk-rows", type=int, default=5000, help="import_feed chunk size")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per child process")
    parser.add_argument("--tmpdir", default=None, help="where the feed and SQLite files go")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--feed", help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child_main(args)
    return parent_main(args)


if __name__ == "__main__":
    raise SystemExit(main())
