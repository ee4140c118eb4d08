"""Requests/s of the full signed ``POST /sms/twilio`` JF path vs a bare aiohttp form endpoint.

Issue 15 §1: a benchmark that cannot flatter. Three kinds of process, all on 127.0.0.1:

* **full server** - the real app, ``pointshall.app.build_app(await bootstrap(settings))``
  in one process with one event loop (like ``pointshall serve``), on a fresh SQLite
  file and/or a throwaway PostgreSQL database (``--db sqlite|pg|both``), each seeded
  with the same ``--subscribers`` subscribers through ``import_feed`` (a
  ``bench.feedgen`` feed); the per-sender rate limit is lifted;
* **bare server** - a minimal aiohttp app whose handler does ``await request.post()``
  and returns a small ``text/xml`` body;
* **replay server** (one per database) - the same bare aiohttp app, whose handler runs
  the exact SQL of one JF as the hall sends it (captured from the real hall on that
  database by ``bench.sqlcapture``: every statement of the webhook's one unit of work,
  with its parameters and results) with the bare driver (stdlib ``sqlite3`` on the event
  loop, or an asyncpg pool as large as the full server's) in one transaction
  per request, for the request's ``From`` and ``MessageSid``; each replayed statement
  must return rows where the captured one did, or the reply is a 500 that voids the run.
  full/replay says how much the hall adds to its own SQL; replay/bare what the SQL costs;
* **load generator** - ``wrk`` (Debian's package; installed by ``deploy/system-packages``
  when missing, as root) with ``bench/wrk_signed.lua``: ``--connections`` keep-alive
  connections on ``--threads`` threads replaying a file of requests signed before the
  run (``Body=JF``, ``From`` cycling through the seeded subscribers with points, a unique
  ``MessageSid``, ``To``, and a valid ``X-Twilio-Signature`` from the twilio SDK). Both
  servers get the same file; each MessageSid is sent once per server (a pool that runs
  out is reported and voids the run). Every response is checked (200 with ``<Message>``).

The generator must not be what limits the figure: wrk's CPU time (from the kernel's
accounting of the child, lua set-up included) per thread over the run is printed, and
when it reaches ``SATURATED`` (0.85) for either server, or a run had errors, bad replies
or an exhausted pool, **no ratio is printed** for that round.

Before the load, sample replies are checked (200, a ``<Message>`` holding the
subscriber's balance; a bad signature gets 403); after it, each full server's ``inbound``
table must hold one row per request it answered. Prints req/s, latency and CPU, the
ratio full/bare (targets: ≥ 0.30 on SQLite, ≥ 0.20 on PostgreSQL), the ratio
full/replay, and the statements (and on PostgreSQL the round trips) of one JF.

``python -m bench.sms_webhook [--db sqlite|pg|both] [--connections 32] [--threads 1]
[--duration 5] [--warmup 1] [--rounds 1]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import pickle
import re
import resource
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.common import DEFAULT_PG_DSN, pg_admin, run_context

HOST = "127.0.0.1"
PATH = "/sms/twilio"
TO = "+10000000000"
BARE_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response><Message>ok</Message></Response>'
READY = "BENCH-READY"
WRK_PREFIX = "WRK-RESULT "
LUA = Path(__file__).resolve().parent / "wrk_signed.lua"
ROOT = Path(__file__).resolve().parent.parent
PUBLIC_URL = "https://hall.bench.test"
"""Every full server signs and checks against this one public URL, so one file of
signed requests serves them all."""
SATURATED = 0.85
"""wrk CPU per thread at which the generator, not the server, may be the limit."""


# ---------------------------------------------------------------------------- servers


async def _serve(app: Any, port: int, on_stop: Any = None) -> None:
    from aiohttp import web

    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, HOST, port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(READY, flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        if on_stop is not None:
            await on_stop()


def serve_bare(port: int) -> None:
    from aiohttp import web

    async def handle(request: web.Request) -> web.Response:
        await request.post()
        return web.Response(body=BARE_TWIML, content_type="text/xml", charset="utf-8")

    app = web.Application(client_max_size=64 * 1024)
    app.add_routes([web.post(PATH, handle)])
    asyncio.run(_serve(app, port))


def _profile_threads(outdir: Path) -> None:
    """Run every thread started from now on under its own cProfile, dumped when it ends."""
    import cProfile
    import threading

    original = threading.Thread.run

    def run(self: threading.Thread) -> None:
        prof = cProfile.Profile()
        prof.enable()
        try:
            original(self)
        finally:
            prof.disable()
            prof.dump_stats(outdir / f"thread-{self.name}-{self.ident}.prof")

    threading.Thread.run = run  # type: ignore[method-assign]


def serve_full(port: int, profile: str | None = None) -> None:
    import logging

    from pointshall.app import build_app
    from pointshall.bootstrap import bootstrap
    from pointshall.config import Settings

    logging.basicConfig(level=logging.WARNING)

    async def main() -> None:
        services = await bootstrap(Settings())
        await _serve(build_app(services), port, services.close)

    if not profile:
        asyncio.run(main())
        return
    import cProfile

    outdir = Path(profile)
    _profile_threads(outdir)
    prof = cProfile.Profile()
    prof.enable()
    try:
        asyncio.run(main())
    finally:
        prof.disable()
        prof.dump_stats(outdir / "main.prof")


_PRODUCT_CODE = re.escape(str(Path(__file__).resolve().parent.parent)) + "/(core|handlers|sms|api)/"


def _print_profiles(outdir: Path, top: int = 25) -> None:
    import io
    import pstats

    groups: dict[str, list[Path]] = {"event loop (main thread)": [], "sqlite-writer thread": []}
    others: list[Path] = []
    for path in sorted(outdir.glob("*.prof")):
        if path.name == "main.prof":
            groups["event loop (main thread)"].append(path)
        elif "sqlite-writer" in path.name:
            groups["sqlite-writer thread"].append(path)
        else:
            others.append(path)
    groups["other threads"] = others
    for title, paths in groups.items():
        if not paths:
            continue
        out = io.StringIO()
        stats = pstats.Stats(str(paths[0]), stream=out)
        for extra in paths[1:]:
            stats.add(str(extra))
        stats.sort_stats("tottime").print_stats(top)
        print(f"\n---- profile: {title}, top {top} by own time ----")
        text = out.getvalue()
        print(text[text.find("   ncalls") :].rstrip() if "   ncalls" in text else text)
        out.seek(0)
        out.truncate()
        stats.sort_stats("cumulative").print_stats(_PRODUCT_CODE, top)
        print(f"---- profile: {title}, product code by cumulative time ----")
        text = out.getvalue()
        print(text[text.find("   ncalls") :].rstrip() if "   ncalls" in text else text)


# ---------------------------------------------------------------------------- replay

REPLAY_PREFIX = "replay-"
"""The replay server's inbound rows carry this before the request's MessageSid (it shares
the full server's database, where that MessageSid is already taken)."""


@dataclass
class JfCapture:
    """One signed JF as the full hall ran it: its unit of work's statements, planned for
    replay, with what identifies the captured message and what it cost."""

    steps: list[Any]
    msisdn: str
    sid: str
    reply: str
    dialect: str
    round_trips: int | None


async def _capture_jf(url: str, msisdn: str) -> JfCapture:
    """Run one JF from ``msisdn`` through the hall as the Twilio webhook does (one unit of
    work: ``db.write(hall.receive)``) and record every statement it sends to the driver."""
    from functools import partial

    from bench.sqlcapture import (
        Capture,
        RoundTrips,
        driver_connection_class,
        install_sqlite_factory,
        plan,
    )
    from core.platform.schema import metadata
    from handlers.hall import InboundMessage
    from pointshall.bootstrap import bootstrap
    from pointshall.config import Settings

    install_sqlite_factory()
    services = await bootstrap(
        Settings(database_url=url, rate_limit_per_minute=1_000_000), upgrade=False
    )
    capture, trips = Capture(), RoundTrips()
    pg = services.db.dialect == "postgresql"
    try:
        warm = InboundMessage("twilio", "SM" + uuid.uuid4().hex, msisdn, "JF", TO)
        await services.db.write(partial(services.hall.receive, msg=warm))  # statements prepared
        sid = "SM" + uuid.uuid4().hex
        msg = InboundMessage("twilio", sid, msisdn, "JF", TO)
        if pg:
            trips.install()
        trips.counting = True
        with capture.unit(driver_connection_class(services.db.dialect)):
            outcome = await services.db.write(partial(services.hall.receive, msg=msg))
        trips.counting = False
    finally:
        trips.uninstall()
        await services.close()
    steps = plan(capture.units, metadata)[0]
    return JfCapture(
        steps, msisdn, sid, outcome.reply, services.db.dialect, trips.count if pg else None
    )


def _full_pool_size() -> int:
    """The full server's PostgreSQL pool size (``POINTSHALL_DB_POOL_SIZE``, its default
    unless ``--db-pool`` sets it): the replay gets as many connections."""
    from pointshall.config import Settings

    return int(
        os.environ.get("POINTSHALL_DB_POOL_SIZE") or Settings.model_fields["db_pool_size"].default
    )


def _replay_twiml(reply: str) -> bytes:
    from xml.sax.saxutils import escape

    return (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Message>'
        f"{escape(reply)}</Message></Response>"
    ).encode()


def serve_replay(port: int, capture_file: str, url: str) -> None:
    """A bare aiohttp endpoint that runs the captured JF unit's SQL with the bare driver,
    one transaction per request, for the request's ``From`` and ``MessageSid``."""
    import pickle
    import sqlite3

    from aiohttp import web

    from bench.sqlcapture import Rewriter

    cap: JfCapture = pickle.loads(Path(capture_file).read_bytes())
    body = _replay_twiml(cap.reply)

    def rewriter(params: Any) -> Rewriter:
        return Rewriter(
            strings={cap.msisdn: str(params["From"]), cap.sid: REPLAY_PREFIX + params["MessageSid"]}
        )

    def reply(ok: bool) -> web.Response:
        if not ok:
            return web.Response(status=500, text="replay diverged")
        return web.Response(body=body, content_type="text/xml", charset="utf-8")

    if cap.dialect == "sqlite":
        path = url.split("///", 1)[1]
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in (
            "journal_mode=WAL",
            f"busy_timeout={10_000}",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "temp_store=MEMORY",
        ):
            conn.execute(f"PRAGMA {pragma}")

        def unit(rw: Rewriter) -> bool:
            ok = True
            conn.execute("BEGIN IMMEDIATE")
            try:
                for step in cap.steps:
                    cur = conn.execute(step.sql, rw.params(step))
                    rows = cur.fetchall()
                    rw.learn(step, rows)
                    changed = "RETURNING" not in step.sql and step.rowcount >= 0
                    if (step.rows and not rows) or (changed and cur.rowcount != step.rowcount):
                        ok = False
            finally:
                conn.execute("COMMIT")
            return ok

        async def handle(request: web.Request) -> web.Response:
            # On the event loop: a JF's SQL takes ~0.1 ms on SQLite, less than a hop to a
            # writer thread, so the leanest way to run it is the baseline.
            return reply(unit(rewriter(await request.post())))

        async def on_stop() -> None:
            conn.close()

    else:
        import asyncpg
        from sqlalchemy.engine import make_url

        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        pools: list[Any] = []

        async def handle(request: web.Request) -> web.Response:
            rw = rewriter(await request.post())
            ok = True
            async with pools[0].acquire() as pg, pg.transaction():
                for step in cap.steps:
                    rows = await pg.fetch(step.sql, *rw.params(step))
                    rw.learn(step, rows)
                    if step.rows and not rows:
                        ok = False
            return reply(ok)

        async def on_stop() -> None:
            for pool in pools:
                await pool.close()

    app = web.Application(client_max_size=64 * 1024)
    app.add_routes([web.post(PATH, handle)])
    if cap.dialect != "sqlite":

        async def connect(_app: web.Application) -> None:
            size = _full_pool_size()
            pools.append(await asyncpg.create_pool(dsn, min_size=size, max_size=size))

        app.on_startup.append(connect)
    asyncio.run(_serve(app, port, on_stop))


# ----------------------------------------------------------------------- load generator


def _signed_requests(
    senders: list[str], count: int, token: str, public_url: str
) -> list[tuple[bytes, dict[str, str]]]:
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(token)
    url = public_url + PATH
    prepared = []
    for i in range(count):
        params = {
            "MessageSid": "SM" + uuid.uuid4().hex,
            "AccountSid": "AC" + "0" * 32,
            "From": senders[i % len(senders)],
            "To": TO,
            "Body": "JF",
            "NumMedia": "0",
        }
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": validator.compute_signature(url, params),
        }
        prepared.append((urlencode(params).encode(), headers))
    return prepared


def _cpu_of(pid: int) -> float | None:
    try:
        import psutil

        times = psutil.Process(pid).cpu_times()
        return float(times.user + times.system)
    except Exception:
        return None


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _write_pool(path: Path, requests: list[tuple[bytes, dict[str, str]]]) -> None:
    with path.open("w") as out:
        for body, headers in requests:
            out.write(f"{headers['X-Twilio-Signature']}\t{body.decode()}\n")


def ensure_wrk() -> str:
    """The path of ``wrk``; installed from Debian by ``deploy/system-packages`` if missing."""
    found = shutil.which("wrk")
    if found:
        return found
    script = ROOT / "deploy" / "system-packages"
    print("wrk is missing: running deploy/system-packages to install it", flush=True)
    subprocess.run(["bash", str(script)], check=False, timeout=900)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit(
            "wrk is not installed and could not be installed (needs root and Debian's "
            "package 'wrk'); this benchmark refuses to measure with a weaker generator"
        )
    return found


def _run_wrk(
    wrk: str, server: Server, pool_file: Path, args: argparse.Namespace, duration: float
) -> dict[str, Any]:
    url = f"http://{HOST}:{server.port}{PATH}"
    cmd = [
        wrk,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{duration:g}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        url,
        "--",
        str(pool_file),
        str(args.threads),
    ]
    server0, children0 = _cpu_of(server.proc.pid), _children_cpu()
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 120)
    wall = time.perf_counter() - started
    server1, children1 = _cpu_of(server.proc.pid), _children_cpu()
    result: dict[str, Any] | None = None
    for line in proc.stdout.splitlines():
        if line.startswith(WRK_PREFIX):
            result = dict(json.loads(line[len(WRK_PREFIX) :]))
    if proc.returncode != 0 or result is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    seconds = result["duration_us"] / 1e6
    result["seconds"] = seconds
    result["rps"] = result["requests"] / seconds if seconds else 0.0
    result["errors"] = sum(
        result[k]
        for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts")
    )
    result["exhausted"] = result["sent"] > result["pool"]
    result["gen_cpu"] = (children1 - children0) / max(wall, 1e-9) / args.threads
    result["server_cpu"] = (
        (server1 - server0) / wall if server0 is not None and server1 is not None else None
    )
    return result


def _fmt(r: dict[str, Any]) -> str:
    def pct(v: float | None) -> str:
        return f"{v * 100:.0f}%" if v is not None else "n/a"

    line = (
        f"{r['rps']:>9,.0f} req/s  ({r['requests']:,} in {r['seconds']:.1f} s)  "
        f"p50 {r['p50_us'] / 1000:.1f} ms  p99 {r['p99_us'] / 1000:.1f} ms  "
        f"server CPU {pct(r['server_cpu'])}  wrk CPU/thread {pct(r['gen_cpu'])}"
    )
    if r["gen_cpu"] >= SATURATED:
        line += "  [GENERATOR SATURATED]"
    if r["bad"] or r["errors"]:
        line += f"  BAD {r['bad']} ERRORS {r['errors']}"
    if r["exhausted"]:
        line += f"  (pool of {r['pool']:,} exhausted: raise --pool)"
    return line


def _why_no_ratio(bare: dict[str, Any], full: dict[str, Any]) -> str | None:
    """Why this round's ratio would flatter or mislead, or None when it is fair."""
    for name, r in (("bare", bare), ("full", full)):
        if r["gen_cpu"] >= SATURATED:
            return f"the load generator was saturated on the {name} run"
        if r["bad"] or r["errors"]:
            return f"the {name} run had errors or replies without <Message>"
        if r["exhausted"]:
            return f"the {name} run exhausted its request pool (a MessageSid sent twice)"
        if not r["rps"]:
            return f"the {name} run completed nothing"
    return None


def _ratio(
    label: str, name: str, full: dict[str, Any], base: dict[str, Any], into: list[float]
) -> None:
    """Print and keep ``name`` = full/base of one round, or say why this round has none."""
    why = _why_no_ratio(base, full)
    if why:
        print(f"  {label}: NO {name} RATIO, {why}")
        return
    into.append(full["rps"] / base["rps"])
    print(f"  {label}: ratio {name} = {into[-1]:.3f}")


# ------------------------------------------------------------------------------ parent


@dataclass
class Server:
    name: str
    proc: subprocess.Popen[str]
    port: int
    log: Path

    def tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc.stdout:
            self.proc.stdout.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _start_server(
    role: str,
    env: dict[str, str],
    workdir: Path,
    port: int,
    extra: tuple[str, ...] = (),
    timeout: float = 60,
) -> Server:
    log = workdir / f"{role}.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                *("-m", "bench.sms_webhook", "--role", role, "--port", str(port), *extra),
            ],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=env,
        )
    server = Server(role, proc, port, log)
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            line = proc.stdout.readline()
            if line.strip() == READY:
                return server
            if not line:
                break
        if proc.poll() is not None:
            break
    server.stop()
    raise RuntimeError(f"{role} server did not start:\n{server.tail()}")


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("POINTSHALL_")}


def _previous_period() -> str:
    now = datetime.now(UTC)
    year, month = (now.year, now.month - 1) if now.month > 1 else (now.year - 1, 12)
    return f"{year:04d}-{month:02d}"


async def _seed(url: str, feed: Path, period: str) -> tuple[list[tuple[str, int]], float]:
    """Migrate, import the feed; return (msisdn, balance) of every mobile number with points."""
    from sqlalchemy import Connection, select

    from core.platform.schema import account, subscriber
    from core.points.feed_import import import_feed
    from pointshall.bootstrap import bootstrap
    from pointshall.config import Settings

    settings = Settings(database_url=url)
    services = await bootstrap(settings)
    try:
        started = time.perf_counter()
        await import_feed(services.db, feed, period, services.rules, services.clock)
        seconds = time.perf_counter() - started

        def with_points(conn: Connection) -> list[tuple[str, int]]:
            rows = conn.execute(
                select(subscriber.c.msisdn, account.c.balance)
                .select_from(subscriber.join(account, account.c.subscriber_id == subscriber.c.id))
                .where(account.c.balance > 0, account.c.type != "fixed")  # landlines don't text
                .order_by(subscriber.c.id)
            ).all()
            return [(str(m), int(b)) for m, b in rows]

        return await services.db.read(with_points), seconds
    finally:
        await services.close()


async def _inbound_counts(url: str) -> tuple[dict[str, int], int]:
    from sqlalchemy import Connection, func, select

    from core.platform.schema import inbound
    from pointshall.bootstrap import bootstrap
    from pointshall.config import Settings

    services = await bootstrap(Settings(database_url=url), upgrade=False)
    try:

        def counts(conn: Connection) -> tuple[dict[str, int], int]:
            full = inbound.c.external_id.not_like(REPLAY_PREFIX + "%")
            rows = conn.execute(
                select(inbound.c.status, func.count()).where(full).group_by(inbound.c.status)
            ).all()
            replayed = conn.execute(
                select(func.count()).select_from(inbound).where(~full)
            ).scalar_one()
            return {str(s): int(n) for s, n in rows}, int(replayed)

        return await services.db.read(counts)
    finally:
        await services.close()


async def _verify(
    port: int, public_url: str, token: str, sample: list[tuple[str, int]]
) -> list[str]:
    """Signed JF from a few subscribers must answer 200 with their balance; a forgery gets 403."""
    import aiohttp

    url = f"http://{HOST}:{port}{PATH}"
    problems: list[str] = []
    lines: list[str] = []
    async with aiohttp.ClientSession() as session:
        for msisdn, balance in sample:
            body, headers = _signed_requests([msisdn], 1, token, public_url)[0]
            async with session.post(url, data=body, headers=headers) as resp:
                status, content_type, text = resp.status, resp.content_type, await resp.text()
            message = None
            with contextlib.suppress(ET.ParseError):
                node = ET.fromstring(text).find("Message")
                message = node.text if node is not None else None
            if status != 200 or content_type != "text/xml":
                problems.append(f"{msisdn}: HTTP {status} {content_type}: {text[:200]}")
            elif message is None:
                problems.append(f"{msisdn}: no <Message> in {text[:200]}")
            elif f"{balance:,}" not in message:
                problems.append(f"{msisdn}: balance {balance:,} not in reply {message!r}")
            else:
                lines.append(f"{msisdn} (balance {balance:,}) -> {message}")
        body, headers = _signed_requests([sample[0][0]], 1, token + "x", public_url)[0]
        async with session.post(url, data=body, headers=headers) as resp:
            if resp.status != 403:
                problems.append(f"a wrongly signed request got HTTP {resp.status}, expected 403")
            else:
                lines.append("wrongly signed request -> 403")
    for line in lines:
        print(f"  check: {line}")
    return problems


def _database(args: argparse.Namespace, backend: str, workdir: Path) -> tuple[str, str | None]:
    """(SQLAlchemy URL, scratch PostgreSQL database name or None) of a fresh database."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{workdir / 'hall.db'}", None
    from sqlalchemy.engine import make_url

    name = f"pointshall_bench_{uuid.uuid4().hex[:12]}"
    asyncio.run(pg_admin(args.pg_dsn, f'CREATE DATABASE "{name}"'))
    url = (
        make_url(args.pg_dsn)
        .set(drivername="postgresql+asyncpg", database=name)
        .render_as_string(hide_password=False)
    )
    return url, name


LABEL = {"sqlite": "SQLite", "pg": "PostgreSQL"}
TARGET = {"sqlite": 0.30, "pg": 0.20}


def parent_main(args: argparse.Namespace) -> int:
    from bench.feedgen import write_feed

    wrk = ensure_wrk()
    token = "bench-" + uuid.uuid4().hex
    print(run_context())
    print(subprocess.run([wrk, "--version"], capture_output=True, text=True).stdout.split("\n")[0])
    period = _previous_period()
    backends = ["sqlite", "pg"] if args.db == "both" else [args.db]
    servers: list[Server] = []
    pg_names: list[str] = []
    with tempfile.TemporaryDirectory(prefix="pointshall-smsbench-", dir=args.tmpdir) as tmp:
        workdir = Path(tmp)
        try:
            feed = workdir / "seed.csv"
            write_feed(feed, args.subscribers, period, seed=args.seed)
            full: dict[str, Server] = {}
            replay: dict[str, Server] = {}
            captures: dict[str, JfCapture] = {}
            urls: dict[str, str] = {}
            senders: list[str] = []
            for backend in backends:
                sub = workdir / backend
                sub.mkdir()
                url, pg_name = _database(args, backend, sub)
                if pg_name:
                    pg_names.append(pg_name)
                accounts, seed_s = asyncio.run(_seed(url, feed, period))
                if not accounts:
                    raise RuntimeError("seeding left no subscriber with points")
                senders = [m for m, _ in accounts]
                print(
                    f"seeded {len(accounts):,} mobile subscribers with points "
                    f"({args.subscribers:,} feed rows, period {period}) "
                    f"on {LABEL[backend]} in {seed_s:.1f} s"
                )
                env = _clean_env()
                port = _free_port()
                env.update(
                    POINTSHALL_DATABASE_URL=url,
                    POINTSHALL_TWILIO_AUTH_TOKEN=token,
                    POINTSHALL_PUBLIC_URL=PUBLIC_URL,
                    POINTSHALL_RATE_LIMIT_PER_MINUTE="1000000",
                    POINTSHALL_HOST=HOST,
                )
                if args.db_pool:
                    env["POINTSHALL_DB_POOL_SIZE"] = str(args.db_pool)
                extra: tuple[str, ...] = ()
                if args.profile:
                    (sub / "profile").mkdir()
                    extra = ("--profile-dir", str(sub / "profile"))
                server = _start_server("serve-full", env, sub, port, extra)
                servers.append(server)
                problems = asyncio.run(_verify(server.port, PUBLIC_URL, token, accounts[:3]))
                if problems:
                    print("verification FAILED:\n  " + "\n  ".join(problems))
                    print(f"full server log (last lines):\n{server.tail()}")
                    return 1
                full[backend], urls[backend] = server, url
                cap = asyncio.run(_capture_jf(url, senders[0]))
                cap_file = sub / "jf-capture.pickle"
                cap_file.write_bytes(pickle.dumps(cap))
                captures[backend] = cap
                replay_env = _clean_env()
                if args.db_pool:
                    replay_env["POINTSHALL_DB_POOL_SIZE"] = str(args.db_pool)
                replay[backend] = _start_server(
                    "serve-replay",
                    replay_env,
                    sub,
                    _free_port(),
                    ("--capture", str(cap_file), "--db-url", url),
                )
                servers.append(replay[backend])
            bare = _start_server("serve-bare", _clean_env(), workdir, _free_port())
            servers.append(bare)

            started = time.perf_counter()
            warm_file, pool_file = workdir / "warm.txt", workdir / "pool.txt"
            _write_pool(warm_file, _signed_requests(senders, args.pool // 5, token, PUBLIC_URL))
            print(
                f"load: wrk {args.threads} thread(s), {args.connections} connections, "
                f"{args.warmup:g} s warm-up + {args.duration:g} s measured, {args.rounds} "
                f"round(s); requests signed in {time.perf_counter() - started:.1f} s"
            )
            answered = dict.fromkeys(backends, 0)
            sent = dict.fromkeys(backends, 0)
            _run_wrk(wrk, bare, warm_file, args, args.warmup)
            replayed = dict.fromkeys(backends, 0)
            for backend in backends:
                warm = _run_wrk(wrk, full[backend], warm_file, args, args.warmup)
                answered[backend] += warm["requests"]
                sent[backend] += warm["sent"]
                replayed[backend] += _run_wrk(wrk, replay[backend], warm_file, args, args.warmup)[
                    "requests"
                ]
            ratios: dict[str, list[float]] = {b: [] for b in backends}
            replay_ratios: dict[str, list[float]] = {b: [] for b in backends}
            rates: dict[str, list[float]] = {"bare": [], **{b: [] for b in backends}}
            replay_rates: dict[str, list[float]] = {b: [] for b in backends}
            for rnd in range(1, args.rounds + 1):
                _write_pool(pool_file, _signed_requests(senders, args.pool, token, PUBLIC_URL))
                rb = _run_wrk(wrk, bare, pool_file, args, args.duration)
                print(f"  round {rnd} bare:              {_fmt(rb)}", flush=True)
                rates["bare"].append(rb["rps"])
                for backend in backends:
                    rf = _run_wrk(wrk, full[backend], pool_file, args, args.duration)
                    answered[backend] += rf["requests"]
                    sent[backend] += rf["sent"]
                    print(f"  round {rnd} full {LABEL[backend]:<11}: {_fmt(rf)}", flush=True)
                    rates[backend].append(rf["rps"])
                    _ratio(f"round {rnd} {LABEL[backend]}", "full/bare", rf, rb, ratios[backend])
                    rr = _run_wrk(wrk, replay[backend], pool_file, args, args.duration)
                    replayed[backend] += rr["requests"]
                    print(f"  round {rnd} replay {LABEL[backend]:<9}: {_fmt(rr)}", flush=True)
                    replay_rates[backend].append(rr["rps"])
                    _ratio(
                        f"round {rnd} {LABEL[backend]}",
                        "full/replay",
                        rf,
                        rr,
                        replay_ratios[backend],
                    )
            for server in servers:
                server.stop()
            for backend in backends:
                if args.profile:
                    print(f"\n==== profile of the full server on {LABEL[backend]} ====")
                    _print_profiles(workdir / backend / "profile")
                counts, replay_rows = asyncio.run(_inbound_counts(urls[backend]))
                stored = sum(counts.values()) - 5  # the verification requests and the capture's two
                ok = answered[backend] <= stored <= sent[backend]
                print(
                    f"{LABEL[backend]} inbound rows by status: {counts}; answered "
                    f"{answered[backend]:,}, sent {sent[backend]:,} (warm-up included)"
                    + ("" if ok else "  MISMATCH: not one row per request answered")
                )
                print(
                    f"{LABEL[backend]} replayed inbound rows: {replay_rows:,}; replay answered "
                    f"{replayed[backend]:,}"
                    + ("" if replay_rows >= replayed[backend] else "  MISMATCH")
                )
            print(f"\nbare aiohttp form endpoint: {statistics.median(rates['bare']):,.0f} req/s")
            for backend in backends:
                line = (
                    f"full signed /sms/twilio JF ({LABEL[backend]}): "
                    f"{statistics.median(rates[backend]):,.0f} req/s; "
                )
                if ratios[backend]:
                    line += (
                        f"ratio full/bare = {statistics.median(ratios[backend]):.3f} "
                        f"(target ≥ {TARGET[backend]:.2f}; median of {len(ratios[backend])} "
                        "fair round(s))"
                    )
                else:
                    line += "NO RATIO: no round was fair (see above)"
                print(line + ("  [profiled: slowed by cProfile]" if args.profile else ""))
                cap = captures[backend]
                line = (
                    f"  same SQL replayed bare ({LABEL[backend]}): "
                    f"{statistics.median(replay_rates[backend]):,.0f} req/s; "
                )
                if replay_ratios[backend]:
                    line += f"ratio full/replay = {statistics.median(replay_ratios[backend]):.3f}"
                else:
                    line += "NO RATIO: no round was fair"
                trips = (
                    f", {cap.round_trips} round trips (BEGIN and COMMIT included)"
                    if cap.round_trips is not None
                    else ""
                )
                print(f"{line}; {len(cap.steps)} statements per JF{trips}")
            return 0
        finally:
            for server in servers:
                server.stop()
            for name in pg_names:
                asyncio.run(pg_admin(args.pg_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.sms_webhook", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--subscribers", type=int, default=1000, help="feed rows to seed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--connections", "-c", type=int, default=32, help="wrk connections")
    parser.add_argument("--threads", "-t", type=int, default=1, help="wrk threads")
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds first")
    parser.add_argument("--rounds", type=int, default=1, help="bare/full sets; medians reported")
    parser.add_argument("--pool", type=int, default=150_000, help="pre-signed requests per run")
    parser.add_argument("--db", choices=("sqlite", "pg", "both"), default="sqlite")
    parser.add_argument(
        "--db-pool",
        type=int,
        default=None,
        help="PostgreSQL connections of the full and replay servers (default: the product's)",
    )
    parser.add_argument("--pg-dsn", default=DEFAULT_PG_DSN, help="server to make a scratch DB on")
    parser.add_argument("--tmpdir", default=None, help="where the SQLite file and logs go")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run the full server under cProfile (all threads) and print where its time goes; "
        "the figures of such a run are slowed by the profiler",
    )
    parser.add_argument("--role", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--profile-dir", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--capture", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--db-url", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role == "serve-bare":
        serve_bare(args.port)
    elif args.role == "serve-full":
        serve_full(args.port, args.profile_dir)
    elif args.role == "serve-replay":
        serve_replay(args.port, args.capture, args.db_url)
    else:
        return parent_main(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
