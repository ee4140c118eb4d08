"""Settling a month of redemptions vs a bare ``GROUP BY`` over the same rows.

A fresh database (SQLite, or ``--pg`` PostgreSQL) gets ``--lines`` settlement lines
(default 1,000,000) spread over ``--merchants`` merchants in one month, then:

* **settle** — ``core.settlement.settlement.settle`` for that month, the real thing: the
  watermark (issue 15 §3), one read summing every merchant's lines after its previous
  statement, then one unit per merchant inserting its statement, auditing it and texting
  its staff;
* **bare** — one ``SELECT merchant_id, count(*), sum(points), sum(amount_cents)
  … GROUP BY merchant_id`` over the same month's rows (no statements), best of two.

Afterwards the statements must hold every line once. Prints both times, the ratio
(target ≤ 2×) and the process's peak RSS; ``--both`` runs SQLite and PostgreSQL.
``python -m bench.settle [--lines 1000000] [--merchants 50] [--pg | --both]``
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import text

from bench.common import DEFAULT_PG_DSN, pg_admin, run_context

TZ = ZoneInfo("Asia/Shanghai")
PERIOD = "2026-10"

FILL_SQLITE = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :lines)
INSERT INTO settlement_line (merchant_id, source, ref, points, rate_cents, rate_points,
                             amount_cents, consumed_at)
SELECT 1 + (i % :merchants), 'voucher', 'bench:' || i, 800, 250, 1000, 200,
       :start + (i % :span)
FROM n
"""
FILL_PG = """
INSERT INTO settlement_line (merchant_id, source, ref, points, rate_cents, rate_points,
                             amount_cents, consumed_at)
SELECT 1 + (i % :merchants), 'voucher', 'bench:' || i, 800, 250, 1000, 200,
       :start + (i % :span)
FROM generate_series(1, :lines) AS i
"""
BARE = """
SELECT merchant_id, count(*), sum(points), sum(amount_cents) FROM settlement_line
WHERE consumed_at >= :start AND consumed_at < :end
GROUP BY merchant_id
"""


async def _run(url: str, lines: int, merchants: int) -> tuple[float, float, int]:
    from core.merchants import merchants as shops
    from core.settlement import settlement
    from pointshall.bootstrap import bootstrap
    from pointshall.config import Settings

    services = await bootstrap(Settings(database_url=url))
    try:
        start, end = settlement.period_bounds(PERIOD, TZ)

        def fill(conn: object) -> None:
            for m in range(1, merchants + 1):
                shops.upsert(conn, f"B{m}", f"商家{m}", f"Shop {m}", start)  # type: ignore[arg-type]
            sql = FILL_PG if services.db.dialect == "postgresql" else FILL_SQLITE
            conn.execute(  # type: ignore[attr-defined]
                text(sql),
                {"lines": lines, "merchants": merchants, "start": start, "span": end - start},
            )

        await services.db.write(fill)
        if services.db.dialect == "postgresql":
            async with services.db.async_engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("VACUUM ANALYZE settlement_line"))

        bare_s = float("inf")
        for _ in range(2):
            t0 = time.perf_counter()
            bare = await services.db.read(
                lambda conn: conn.execute(text(BARE), {"start": start, "end": end}).all()
            )
            bare_s = min(bare_s, time.perf_counter() - t0)
            assert sum(int(r[1]) for r in bare) == lines

        t0 = time.perf_counter()
        made = await settlement.settle(services.db, period=PERIOD, now=end + 1, tz=TZ, by="bench")
        settle_s = time.perf_counter() - t0
        assert sum(s.lines for s in made) == lines and len(made) == merchants
        by_merchant = {int(r[0]): (int(r[1]), int(r[2]), int(r[3])) for r in bare}
        assert {s.merchant_id: (s.lines, s.points, s.amount_cents) for s in made} == by_merchant
        return settle_s, bare_s, len(made)
    finally:
        await services.close()


async def main_async(args: argparse.Namespace) -> None:
    print(run_context())
    for pg in (False, True) if args.both else (args.pg,):
        await one_backend(args, pg)


async def one_backend(args: argparse.Namespace, pg: bool) -> None:
    if pg:
        name = f"bench_settle_{uuid.uuid4().hex[:8]}"
        await pg_admin(args.pg_dsn, f'CREATE DATABASE "{name}"')
        base = args.pg_dsn.rsplit("/", 1)[0]
        try:
            url = f"postgresql+asyncpg://{base.split('://', 1)[1]}/{name}"
            settle_s, bare_s, n = await _run(url, args.lines, args.merchants)
        finally:
            await pg_admin(args.pg_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        backend = "PostgreSQL"
    else:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            settle_s, bare_s, n = await _run(url, args.lines, args.merchants)
        backend = "SQLite"
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{backend}: {args.lines:,} lines, {n} statements: settle {settle_s:.2f} s "
        f"({args.lines / settle_s:,.0f} lines/s), bare GROUP BY {bare_s:.2f} s; "
        f"ratio settle/bare = {settle_s / bare_s:.2f}x (target <= 2x); peak RSS {rss_mb:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--merchants", type=int, default=50)
    parser.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--both", action="store_true", help="SQLite, then PostgreSQL")
    parser.add_argument("--pg-dsn", default=DEFAULT_PG_DSN)
    args = parser.parse_args()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
