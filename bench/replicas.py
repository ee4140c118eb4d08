"""Outbound rate across replicas (issue 15 §4): N real ``pointshall serve`` processes on one
PostgreSQL drain one outbox through one shared rate, measured where the provider sees it.

1. A scratch PostgreSQL database (made and dropped here) that the replicas upgrade.
2. A recording provider in this process: Kannel's ``/cgi-bin/sendsms`` (202 "0: Accepted
   for delivery"), each request stamped with the wall-clock time its packet reached the
   socket (the kernel's receive timestamp): the provider's view of the rate.
3. ``--replicas`` processes of ``pointshall serve`` (``POINTSHALL_SMS_TRANSPORT=kannel``,
   ``POINTSHALL_OUTBOX_RATE=--rate`` for the whole deployment, the default slack) are
   started and, once all listen, ``--messages`` single-part texts are queued at once,
   so every drain is saturated from the first send to the last.

Prints the worst one-second window over the configured rate (target ≤ 1.0: the rate is
the deployment's, never exceeded), the sustained rate over the configured rate, first
send to last (target ≥ 0.95), the lowest whole second between the first and the last,
each replica's share (its ``/metrics``) and the send slots given up as too late. No
assertions: it prints figures.

``python -m bench.replicas [--replicas 3] [--rate 100] [--messages 3000] [--slack 0.03]``
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import os
import re
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import ClientSession
from sqlalchemy import Connection, insert
from sqlalchemy.engine import make_url

from bench.common import DEFAULT_PG_DSN, ROOT, ensure_root_key, pg_admin, run_context
from core.platform.clock import epoch
from core.platform.db import open_database
from core.platform.schema import outbox

START_TIMEOUT = 120.0
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
"""Linux's option (and control message) for nanosecond receive timestamps."""
ACCEPTED = (
    b"HTTP/1.1 202 Accepted\r\nContent-Type: text/plain\r\nContent-Length: 24\r\n\r\n"
    b"0: Accepted for delivery"
)
SECRET = "bench-kannel-secret"
_SENT = re.compile(r'pointshall_outbound_messages_total\{state="sent",transport="kannel"\} (\S+)')
_MISSED = re.compile(r"pointshall_send_slots_missed_total\{[^}]*\} (\S+)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Provider:
    """Kannel's sendsms, answering at once; each request stamped by the kernel on arrival.

    The stamp is the socket's ``SO_TIMESTAMPNS`` (Linux): the wall-clock time the request's
    packet reached the socket, not when this process got round to reading it. So how busy
    the machine keeps this process does not move the measurement, as it would not move a
    real provider's, which runs on machines of its own. One thread, blocking sockets.
    """

    def __init__(self) -> None:
        self.arrivals: list[float] = []
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = int(self._listener.getsockname()[1])
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="provider", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(5)
        self._listener.close()

    def _serve(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._listener, selectors.EVENT_READ)
        pending: dict[socket.socket, bytes] = {}
        while not self._stopping.is_set():
            for key, _ in selector.select(0.2):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if sock is self._listener:
                    conn, _ = sock.accept()
                    conn.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
                    selector.register(conn, selectors.EVENT_READ)
                    pending[conn] = b""
                    continue
                data, ancillary, _, _ = sock.recvmsg(65536, socket.CMSG_SPACE(16))
                if not data:
                    selector.unregister(sock)
                    sock.close()
                    pending.pop(sock, None)
                    continue
                stamp = time.time()  # only if the kernel gave none
                for level, kind, value in ancillary:
                    if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                        seconds, nanos = struct.unpack("qq", value[:16])
                        stamp = seconds + nanos / 1e9
                buffered = pending[sock] + data
                while b"\r\n\r\n" in buffered:
                    _, buffered = buffered.split(b"\r\n\r\n", 1)
                    self.arrivals.append(stamp)
                    sock.sendall(ACCEPTED)
                pending[sock] = buffered
        for sock in pending:
            sock.close()


def replica_env(
    url: str, port: int, provider_port: int, args: argparse.Namespace
) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("POINTSHALL_")}
    ensure_root_key()  # every replica holds the same root key, as in production
    return base | {
        "POINTSHALL_SECRET_KEY": os.environ["POINTSHALL_SECRET_KEY"],
        "POINTSHALL_DATABASE_URL": url,
        "POINTSHALL_HOST": "127.0.0.1",
        "POINTSHALL_PORT": str(port),
        "POINTSHALL_SMS_TRANSPORT": "kannel",
        "POINTSHALL_KANNEL_URL": f"http://127.0.0.1:{provider_port}",
        "POINTSHALL_KANNEL_USER": "bench",
        "POINTSHALL_KANNEL_PASS": "bench-pass",
        "POINTSHALL_KANNEL_SECRET": SECRET,
        "POINTSHALL_KANNEL_DLR_BASE": f"http://127.0.0.1:{port}",
        "POINTSHALL_OUTBOX_RATE": str(args.rate),
        "POINTSHALL_OUTBOX_BURST": str(max(1, int(args.rate))),
        "POINTSHALL_OUTBOX_SLACK": str(args.slack),
    }


def spawn(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start ``pointshall serve`` (the console script next to this Python), output to ``log``."""
    console = Path(sys.executable).parent / "pointshall"
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(console), "serve"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )


async def listening(log: Path, proc: subprocess.Popen[bytes]) -> None:
    async with asyncio.timeout(START_TIMEOUT):
        while True:
            text = await asyncio.to_thread(log.read_text, errors="replace")
            if "pointshall listening on" in text:
                return
            if proc.poll() is not None:
                raise RuntimeError(f"a replica exited: {text[-2000:]}")
            await asyncio.sleep(0.2)


async def queue(url: str, count: int) -> None:
    db = open_database(url, pool_size=1)
    now = epoch(datetime.now(UTC))
    rows = [
        {
            "idempotency_key": f"bench:{i}",
            "channel": "sms",
            "recipient": f"+86139{i:08d}",
            "kind": "service",
            "text": f"Voucher {i}: password 12345678",
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for i in range(count)
    ]

    def fill(conn: Connection) -> None:
        for start in range(0, len(rows), 5000):
            conn.execute(insert(outbox), rows[start : start + 5000])

    try:
        await db.write(fill)
    finally:
        await db.dispose()


async def scrape(port: int) -> tuple[float, float]:
    """(sent, slots missed) from one replica's ``/metrics``."""
    async with ClientSession() as session, session.get(f"http://127.0.0.1:{port}/metrics") as r:
        body = await r.text()
    sent = sum(float(v) for v in _SENT.findall(body))
    missed = sum(float(v) for v in _MISSED.findall(body))
    return sent, missed


def max_in_any_window(times: list[float], window: float = 1.0) -> int:
    ordered = sorted(times)
    return max(
        (bisect.bisect_left(ordered, t + window) - i for i, t in enumerate(ordered)), default=0
    )


def lowest_whole_second(times: list[float]) -> int:
    """The fewest sends in a whole one-second step between the first send and the last."""
    ordered = sorted(times)
    first, last = ordered[0], ordered[-1]
    counts = []
    start = first
    while start + 1.0 <= last:
        counts.append(bisect.bisect_left(ordered, start + 1.0) - bisect.bisect_left(ordered, start))
        start += 1.0
    return min(counts, default=len(ordered))


async def run(args: argparse.Namespace, url: str, workdir: Path) -> None:
    provider = Provider()
    provider.start()
    provider_port = provider.port
    procs: list[tuple[subprocess.Popen[bytes], Path, int]] = []
    try:
        for n in range(args.replicas):
            port, log = free_port(), workdir / f"replica{n + 1}.log"
            procs.append((spawn(replica_env(url, port, provider_port, args), log), log, port))
        await asyncio.gather(*(listening(log, proc) for proc, log, _ in procs))
        await queue(url, args.messages)
        async with asyncio.timeout(args.messages / args.rate * 3 + 60):
            while len(provider.arrivals) < args.messages:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        shares = [await scrape(port) for _, _, port in procs]
    finally:
        for proc, _, _ in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc, _, _ in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        provider.stop()

    times = sorted(provider.arrivals)
    span = times[-1] - times[0]
    sustained = (len(times) - 1) / span
    worst = max_in_any_window(times)
    lowest = lowest_whole_second(times)
    print(
        f"outbound rate across {args.replicas} replicas: configured {args.rate:g}/s for the "
        f"deployment, slack {args.slack:g} s, {len(times)} messages over {span:.2f} s"
    )
    print(f"  worst 1-s window {worst} -> ratio {worst / args.rate:.3f} (target <= 1.0)")
    print(f"  sustained {sustained:.2f}/s -> ratio {sustained / args.rate:.3f} (target >= 0.95)")
    print(f"  lowest whole second {lowest} -> ratio {lowest / args.rate:.3f}")
    print(
        "  per replica: "
        + ", ".join(f"{int(sent)} sent ({int(missed)} slots missed)" for sent, missed in shares)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--slack", type=float, default=0.03, help="POINTSHALL_OUTBOX_SLACK")
    parser.add_argument("--pg-dsn", default=DEFAULT_PG_DSN, help="server to make a scratch DB on")
    args = parser.parse_args()
    print(run_context())
    name = f"pointshall_bench_replicas_{uuid.uuid4().hex[:8]}"
    asyncio.run(pg_admin(args.pg_dsn, f'CREATE DATABASE "{name}"'))
    url = (
        make_url(args.pg_dsn)
        .set(drivername="postgresql+asyncpg", database=name)
        .render_as_string(hide_password=False)
    )
    try:
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(run(args, url, Path(tmp)))
    finally:
        asyncio.run(pg_admin(args.pg_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
