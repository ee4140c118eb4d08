"""The monthly reconciliation of a big month vs a bare ``GROUP BY`` over its entries.

A fresh database (SQLite, or ``--pg`` PostgreSQL) gets ``--accounts`` accounts, one
accrual entry each, and ``--orders`` paid orders in one month (a third phone credit, a
third goods, a third merchant vouchers, of which half were used), each with its redeem
entry, filled with SQL. Then:

* **reconcile** — ``core.settlement.reconciliation.reconcile`` for that month, the real
  thing: entries by kind, redemptions joined to their orders and vouchers, the voucher
  liability rolled forward, money and settlement rows;
* **bare** — one ``SELECT kind, count(*), sum(amount) FROM entry … GROUP BY kind`` over
  the month (what the points rows would be without any classification).

Prints both times and their ratio. ``python -m bench.reconcile [--orders 200000]
[--accounts 200000] [--pg]``
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, text

from bench.common import DEFAULT_PG_DSN, pg_admin, run_context

TZ = ZoneInfo("Asia/Shanghai")
PERIOD = "2026-10"
ITEMS = (("B1", "credit"), ("B2", "physical"), ("B3", "voucher"))

SERIES = {
    "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :n) ",
    "postgresql": "",
}
FROM = {"sqlite": "FROM n", "postgresql": "FROM generate_series(1, :n) AS n(i)"}
FILL = (
    """INSERT INTO subscriber (msisdn, lang, opted_out, created_at)
       SELECT '+86139' || i, 'zh', false, :start {from}""",
    """INSERT INTO account (subscriber_id, type, balance, held, created_at)
       SELECT i, 'mobile', 0, 0, :start {from}""",
    """INSERT INTO entry (account_id, amount, kind, source, idempotency_key, reason_key, ref,
                          created_at)
       SELECT i, 5000, 'earn', 'accrual', 'accrual:' || i, 'accrual', 'bench', :start {from}""",
)
ORDERS = (
    """INSERT INTO orders (no, subscriber_id, account_id, item_id, qty, points, status, channel,
                           idempotency_key, created_at, updated_at, pay_by, paid_at)
       SELECT 'B' || i, 1 + i % :accounts, 1 + i % :accounts, 1 + i % 3, 1, 100,
              CASE i % 3 WHEN 2 THEN 'voucher_issued' ELSE 'paid' END, 'bench', 'bench:' || i,
              :start + i % :span, :start + i % :span, :start + i % :span, :start + i % :span
       {from}""",
    """INSERT INTO entry (account_id, amount, kind, source, idempotency_key, reason_key, ref,
                          created_at)
       SELECT account_id, -points, 'redeem', 'order', 'order:' || no || ':' || 'pay', 'redeem',
              'order ' || no, paid_at FROM orders""",
    """INSERT INTO voucher (order_id, merchant_id, password_hash, token_hash, status, issued_at,
                            expires_at, verified_at)
       SELECT id, 1, 'x', 'bench:' || id,
              CASE id % 2 WHEN 0 THEN 'verified' ELSE 'issued' END, paid_at,
              paid_at + 30 * 86400, CASE id % 2 WHEN 0 THEN paid_at + 60 ELSE NULL END
       FROM orders WHERE item_id = 3""",
)
BARE = """SELECT kind, count(*), sum(amount) FROM entry
          WHERE created_at >= :start AND created_at < :end GROUP BY kind"""


async def _run(url: str, accounts: int, orders: int) -> tuple[float, float]:
    from core.catalogue import editing
    from core.catalogue.editing import ItemSpec
    from core.merchants import merchants
    from core.settlement import reconciliation, settlement
    from pointshall.bootstrap import bootstrap
    from pointshall.config import Settings

    services = await bootstrap(Settings(database_url=url))
    try:
        start, end = settlement.period_bounds(PERIOD, TZ)
        dialect = services.db.dialect

        def fill(conn: Connection) -> None:
            editing.upsert_category(conn, "B", "基准", "Bench", 1)
            merchants.upsert(conn, "BM", "商家", "Shop", start)
            for code, kind in ITEMS:
                editing.upsert_item(
                    conn,
                    ItemSpec(code, code, code, "B", kind, 100, merchant="BM", face_value_cents=100),
                    start,
                )
            params = {"start": start, "span": end - start - 60, "accounts": accounts}
            for sql in FILL:
                conn.execute(
                    text(SERIES[dialect] + sql.format(**{"from": FROM[dialect]})),
                    {**params, "n": accounts},
                )
            for sql in ORDERS:
                prefix = SERIES[dialect] if "{from}" in sql else ""
                conn.execute(
                    text(prefix + sql.format(**{"from": FROM[dialect]})), {**params, "n": orders}
                )

        await services.db.write(fill)
        if dialect == "postgresql":
            async with services.db.async_engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("VACUUM ANALYZE"))

        t0 = time.perf_counter()
        bare = await services.db.read(
            lambda conn: conn.execute(text(BARE), {"start": start, "end": end}).all()
        )
        bare_s = time.perf_counter() - t0
        assert sum(int(r[1]) for r in bare) == accounts + orders

        t0 = time.perf_counter()
        rec = await services.db.read(
            lambda conn: reconciliation.reconcile(conn, period=PERIOD, tz=TZ)
        )
        reconcile_s = time.perf_counter() - t0
        assert rec.total.count == accounts + orders
        assert rec.line("redeemed_other").count == 0
        return reconcile_s, bare_s
    finally:
        await services.close()


async def main_async(args: argparse.Namespace) -> None:
    print(run_context())
    if args.pg:
        name = f"bench_reconcile_{uuid.uuid4().hex[:8]}"
        await pg_admin(args.pg_dsn, f'CREATE DATABASE "{name}"')
        base = args.pg_dsn.rsplit("/", 1)[0]
        try:
            url = f"postgresql+asyncpg://{base.split('://', 1)[1]}/{name}"
            reconcile_s, bare_s = await _run(url, args.accounts, args.orders)
        finally:
            await pg_admin(args.pg_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        backend = "PostgreSQL"
    else:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            reconcile_s, bare_s = await _run(url, args.accounts, args.orders)
        backend = "SQLite"
    entries = args.accounts + args.orders
    print(
        f"{backend}: {entries:,} entries ({args.orders:,} redemptions): reconcile "
        f"{reconcile_s:.2f} s, bare GROUP BY {bare_s:.2f} s; ratio {reconcile_s / bare_s:.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=200_000)
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--pg-dsn", default=DEFAULT_PG_DSN)
    args = parser.parse_args()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
