"""The outbox drain: achieved send rate vs the configured rate, and drain throughput.

1. **Rate**: ``--messages`` rows queued in a fresh SQLite file, drained by the real
   ``Drain`` on the real clock at ``--rate``/s with burst ``--burst`` through an
   instant fake transport. Prints the achieved rate (sends after the first, over the
   time from the first send to the last) and its ratio to the configured rate
   (target ≥ 0.95), and the most sends seen in any one-second window (must never
   exceed the rate).
2. **Throughput**: ``--bulk`` rows drained with the rate limit lifted (1,000,000/s,
   256 in flight) vs a bare loop over the same rows on a copy of the same file:
   stdlib ``sqlite3`` selecting 256 pending rows, awaiting the same fake transport
   for each, marking them sent with one ``executemany`` per batch. Prints messages/s
   of each and the ratio drain/bare.

No assertions: it prints figures. ``python -m bench.outbox [--rate 50] [--messages 500]
[--burst 10] [--bulk 20000]``
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import shutil
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, func, insert, select

from bench.common import ensure_root_key
from core.messaging.drain import Drain, DrainPolicy
from core.messaging.ratelimit import SystemTimer
from core.messaging.transport import Accepted, OutboundMessage
from core.platform.clock import SystemClock, epoch
from core.platform.schema import outbox
from pointshall.bootstrap import bootstrap
from pointshall.config import Settings

ensure_root_key()

BATCH = 256


class InstantTransport:
    name = "bench"

    def __init__(self) -> None:
        self.times: list[float] = []

    async def send(self, message: OutboundMessage) -> Accepted:
        self.times.append(time.monotonic())
        return Accepted(provider_id=None)

    async def close(self) -> None:
        return None


def _rows(count: int, now: int) -> list[dict[str, object]]:
    return [
        {
            "idempotency_key": f"bench:{i}",
            "channel": "sms",
            "recipient": f"+86139{i:08d}",
            "kind": "service",
            "text": f"您的兑换券 {i}: 密码 12345678",
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for i in range(count)
    ]


async def _prepare(path: Path, count: int) -> None:
    services = await bootstrap(Settings(database_url=f"sqlite+aiosqlite:///{path}"))
    rows = _rows(count, epoch(datetime.now(UTC)))

    def fill(conn: Connection) -> None:
        for start in range(0, len(rows), 5000):
            conn.execute(insert(outbox), rows[start : start + 5000])

    await services.db.write(fill)
    await services.close()


async def _drain(path: Path, count: int, policy: DrainPolicy) -> InstantTransport:
    services = await bootstrap(Settings(database_url=f"sqlite+aiosqlite:///{path}"))
    transport = InstantTransport()
    drain = Drain(
        services.db, transport, SystemClock(), SystemTimer(), policy, keyring=services.keyring
    )
    task = asyncio.create_task(drain.run())

    def left(conn: Connection) -> int:
        q = select(func.count()).select_from(outbox).where(outbox.c.status != "sent")
        return int(conn.execute(q).scalar_one())

    while len(transport.times) < count or await services.db.read(left):  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    drain.stop()
    await task
    await services.close()
    return transport


async def _bare(path: Path) -> tuple[int, float]:
    transport = InstantTransport()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    sent = 0
    started = time.perf_counter()
    while True:
        conn.execute("BEGIN IMMEDIATE")
        batch = conn.execute(
            "SELECT id, idempotency_key, recipient, text, kind, attempts FROM outbox "
            "WHERE status = 'pending' ORDER BY next_attempt_at, id LIMIT ?",
            (BATCH,),
        ).fetchall()
        if not batch:
            conn.execute("COMMIT")
            break
        for row in batch:
            await transport.send(OutboundMessage(row[0], row[1], row[2], row[3], row[4], row[5]))
        conn.executemany("UPDATE outbox SET status = 'sent' WHERE id = ?", [(r[0],) for r in batch])
        conn.execute("COMMIT")
        sent += len(batch)
    elapsed = time.perf_counter() - started
    conn.close()
    return sent, elapsed


def _max_in_window(times: list[float]) -> int:
    ordered = sorted(times)
    return max(bisect.bisect_left(ordered, t + 1.0) - i for i, t in enumerate(ordered))


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rate_db = Path(tmp) / "rate.db"
        await _prepare(rate_db, args.messages)
        policy = DrainPolicy(rate=args.rate, burst=args.burst, idle=0.05)
        sent = (await _drain(rate_db, args.messages, policy)).times
        span = sent[-1] - sent[0]
        achieved = (len(sent) - 1) / span
        print(f"rate: configured {args.rate:g}/s burst {args.burst}, {len(sent)} messages")
        print(f"  achieved {achieved:.2f}/s over {span:.2f} s")
        steady = (len(sent) - args.burst) / span
        print(f"  ratio achieved/configured {achieved / args.rate:.3f} (target >= 0.95)")
        print(f"  without the opening burst {steady:.2f}/s, ratio {steady / args.rate:.3f}")
        print(f"  most in any 1 s window {_max_in_window(sent)} (never above {args.rate:g})")

        bulk_db = Path(tmp) / "bulk.db"
        bare_db = Path(tmp) / "bare.db"
        await _prepare(bulk_db, args.bulk)
        shutil.copyfile(bulk_db, bare_db)
        unlimited = DrainPolicy(rate=1e6, burst=1000, max_in_flight=BATCH, batch=BATCH, idle=0.01)
        times = (await _drain(bulk_db, args.bulk, unlimited)).times
        drain_rate = (len(times) - 1) / (times[-1] - times[0])
        count, elapsed = await _bare(bare_db)
        bare_rate = count / elapsed
        print(f"throughput: {args.bulk} messages, unlimited fake transport")
        print(f"  drain {drain_rate:,.0f} msg/s   bare loop {bare_rate:,.0f} msg/s")
        print(f"  ratio drain/bare {drain_rate / bare_rate:.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--burst", type=int, default=10)
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--bulk", type=int, default=20_000)
    asyncio.run(main(parser.parse_args()))
