"""Requests/s of the full signed ``POST /sms/twilio`` JF path vs a bare aiohttp form endpoint.

Three kinds of process, all on 127.0.0.1:

* **full server** - the real app, ``pointshall.app.build_app(await bootstrap(settings))``
  in one process with one event loop (like ``pointshall serve``), on a fresh
  SQLite file (or, with ``--pg``, a throwaway PostgreSQL database) seeded with
  ``--subscribers`` subscribers through ``import_feed`` (a ``bench.feedgen`` feed);
  the per-sender rate limit is lifted (``POINTSHALL_RATE_LIMIT_PER_MINUTE``);
* **bare server** - a minimal aiohttp app whose handler does ``await request.post()``
  and returns a small ``text/xml`` body;
* **load generator** - an aiohttp ``ClientSession`` keeping ``--concurrency``
  requests in flight for ``--warmup`` + ``--duration`` seconds; only responses
  completed inside the measured window count. Every request is pre-built before
  timing: ``Body=JF``, ``From`` cycling through the seeded subscribers that have
  points, a unique ``MessageSid``, ``To=+10000000000`` and a valid
  ``X-Twilio-Signature`` (twilio SDK ``RequestValidator.compute_signature``).
  Both servers get the same requests.

Before the load, sample replies are checked (200, a ``<Message>`` holding the
subscriber's balance; a bad signature gets 403); after it, the ``inbound`` table
must hold one answered row per request sent. Prints req/s, latency and CPU for
each and the ratio full/bare (target ≥ 0.3).

``python -m bench.sms_webhook [--concurrency 32] [--duration 5] [--warmup 1] [--rounds 1] [--pg]``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import resource
import select
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
RESULT_PREFIX = "BENCH-RESULT "
READY = "BENCH-READY"


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


def _self_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


async def _load(
    url: str,
    requests: list[tuple[bytes, dict[str, str]]],
    *,
    concurrency: int,
    warmup: float,
    duration: float,
    expect: bytes,
    server_pid: int,
) -> dict[str, Any]:
    import aiohttp

    latencies: list[float] = []
    state: dict[str, Any] = {"next": 0, "sent": 0, "bad": 0, "errors": 0}
    state.update(exhausted_at=None, last_done=0.0)
    samples: list[str] = []
    cpu: dict[str, float | None] = {}
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        start = time.perf_counter()
        t_measure, t_end = start + warmup, start + warmup + duration

        async def worker() -> None:
            while True:
                now = time.perf_counter()
                if now >= t_end:
                    return
                i = state["next"]
                if i >= len(requests):
                    state["exhausted_at"] = state["exhausted_at"] or now
                    return
                state["next"] = i + 1
                body, headers = requests[i]
                state["sent"] += 1
                t0 = time.perf_counter()
                try:
                    async with session.post(url, data=body, headers=headers) as resp:
                        content = await resp.read()
                        status = resp.status
                except (aiohttp.ClientError, TimeoutError) as exc:
                    state["errors"] += 1
                    if len(samples) < 3:
                        samples.append(repr(exc))
                    continue
                t1 = time.perf_counter()
                if status != 200 or expect not in content:
                    state["bad"] += 1
                    if len(samples) < 3:
                        samples.append(f"{status}: {content[:200]!r}")
                if t_measure <= t1 < t_end:
                    latencies.append(t1 - t0)
                    state["last_done"] = t1

        async def sample_cpu() -> None:
            await asyncio.sleep(max(0.0, t_measure - time.perf_counter()))
            cpu["server0"], cpu["self0"] = _cpu_of(server_pid), _self_cpu()
            await asyncio.sleep(max(0.0, t_end - time.perf_counter()))
            cpu["server1"], cpu["self1"] = _cpu_of(server_pid), _self_cpu()

        sampler = asyncio.create_task(sample_cpu())
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        # A pool that ran dry ends the window at the last response counted in it.
        window_end = state["last_done"] if state["exhausted_at"] else t_end
        window = max(1e-9, window_end - t_measure)
        await sampler
    server_cpu = None
    if cpu.get("server0") is not None and cpu.get("server1") is not None:
        server_cpu = (cpu["server1"] - cpu["server0"]) / duration  # type: ignore[operator]
    client_cpu = None
    if "self1" in cpu:
        client_cpu = (cpu["self1"] - cpu["self0"]) / duration  # type: ignore[operator]
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "completed": len(latencies),
        "window": window,
        "rps": len(latencies) / window,
        "sent": state["sent"],
        "bad": state["bad"],
        "errors": state["errors"],
        "exhausted": state["exhausted_at"] is not None,
        "samples": samples,
        "p50_ms": pct(0.50) if latencies else None,
        "p99_ms": pct(0.99) if latencies else None,
        "mean_ms": statistics.fmean(latencies) * 1000 if latencies else None,
        "server_cpu": server_cpu,
        "client_cpu": client_cpu,
    }


def load_main(args: argparse.Namespace) -> int:
    senders = Path(args.senders).read_text().split()
    started = time.perf_counter()
    requests = _signed_requests(senders, args.pool, args.token, args.public_url)
    prepared_s = time.perf_counter() - started
    result = asyncio.run(
        _load(
            args.url,
            requests,
            concurrency=args.concurrency,
            warmup=args.warmup,
            duration=args.duration,
            expect=args.expect.encode(),
            server_pid=args.server_pid,
        )
    )
    result["prepare_s"] = prepared_s
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


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


async def _inbound_counts(url: str) -> dict[str, int]:
    from sqlalchemy import Connection, func, select

    from core.platform.schema import inbound
    from pointshall.bootstrap import bootstrap
    from pointshall.config import Settings

    services = await bootstrap(Settings(database_url=url), upgrade=False)
    try:

        def counts(conn: Connection) -> dict[str, int]:
            rows = conn.execute(
                select(inbound.c.status, func.count()).group_by(inbound.c.status)
            ).all()
            return {str(s): int(n) for s, n in rows}

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


def _run_load(
    server: Server, args: argparse.Namespace, senders_file: Path, token: str, public_url: str
) -> dict[str, Any]:
    cmd = [
        sys.executable,
        "-m",
        "bench.sms_webhook",
        "--role",
        "load",
        "--url",
        f"http://{HOST}:{server.port}{PATH}",
        "--public-url",
        public_url,
        "--token",
        token,
        "--senders",
        str(senders_file),
        "--pool",
        str(args.pool),
        "--concurrency",
        str(args.concurrency),
        "--warmup",
        str(args.warmup),
        "--duration",
        str(args.duration),
        "--expect",
        "<Message>",
        "--server-pid",
        str(server.proc.pid),
    ]
    limit = args.warmup + args.duration + 120
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=limit, env=_clean_env())
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return dict(json.loads(line[len(RESULT_PREFIX) :]))
    raise RuntimeError(f"load generator failed ({proc.returncode}):\n{proc.stderr[-2000:]}")


def _fmt(r: dict[str, Any]) -> str:
    def pct(v: float | None) -> str:
        return f"{v * 100:.0f}%" if v is not None else "n/a"

    line = (
        f"{r['rps']:>9,.0f} req/s  ({r['completed']:,} in {r['window']:.1f} s)  "
        f"p50 {r['p50_ms'] or 0:.1f} ms  p99 {r['p99_ms'] or 0:.1f} ms  "
        f"server CPU {pct(r['server_cpu'])}  load-gen CPU {pct(r['client_cpu'])}"
    )
    if (r["client_cpu"] or 0) >= 0.9:
        line += "  [load generator saturated: a lower bound]"
    if r["bad"] or r["errors"]:
        line += f"  BAD {r['bad']} ERR {r['errors']} e.g. {r['samples'][:2]}"
    if r["exhausted"]:
        line += "  (request pool exhausted: window cut short, raise --pool)"
    return line


def parent_main(args: argparse.Namespace) -> int:
    from bench.feedgen import write_feed

    token = "bench-" + uuid.uuid4().hex
    print(run_context())
    period = _previous_period()
    servers: list[Server] = []
    pg_name = None
    with tempfile.TemporaryDirectory(prefix="pointshall-smsbench-", dir=args.tmpdir) as tmp:
        workdir = Path(tmp)
        try:
            if args.pg:
                from sqlalchemy.engine import make_url

                pg_name = f"pointshall_bench_{uuid.uuid4().hex[:12]}"
                asyncio.run(pg_admin(args.pg_dsn, f'CREATE DATABASE "{pg_name}"'))
                url = (
                    make_url(args.pg_dsn)
                    .set(drivername="postgresql+asyncpg", database=pg_name)
                    .render_as_string(hide_password=False)
                )
            else:
                url = f"sqlite+aiosqlite:///{workdir / 'hall.db'}"
            feed = workdir / "seed.csv"
            write_feed(feed, args.subscribers, period, seed=args.seed)
            accounts, seed_s = asyncio.run(_seed(url, feed, period))
            if not accounts:
                raise RuntimeError("seeding left no subscriber with points")
            senders_file = workdir / "senders.txt"
            senders_file.write_text("\n".join(m for m, _ in accounts) + "\n")
            print(
                f"seeded {len(accounts):,} mobile subscribers with points "
                f"({args.subscribers:,} feed rows, period {period}) "
                f"on {'PostgreSQL' if args.pg else 'SQLite'} in {seed_s:.1f} s"
            )

            bare = _start_server("serve-bare", _clean_env(), workdir, _free_port())
            servers.append(bare)
            env = _clean_env()
            full_port = _free_port()
            public_url = f"http://{HOST}:{full_port}"
            env.update(
                POINTSHALL_DATABASE_URL=url,
                POINTSHALL_TWILIO_AUTH_TOKEN=token,
                POINTSHALL_PUBLIC_URL=public_url,
                POINTSHALL_RATE_LIMIT_PER_MINUTE="1000000",
                POINTSHALL_HOST=HOST,
            )
            profile_dir = workdir / "profile"
            extra: tuple[str, ...] = ()
            if args.profile:
                profile_dir.mkdir()
                extra = ("--profile-dir", str(profile_dir))
            full = _start_server("serve-full", env, workdir, full_port, extra)
            servers.append(full)
            problems = asyncio.run(_verify(full.port, public_url, token, accounts[:3]))
            if problems:
                print("verification FAILED:\n  " + "\n  ".join(problems))
                print(f"full server log (last lines):\n{full.tail()}")
                return 1

            print(
                f"load: {args.concurrency} in flight, {args.warmup:g} s warm-up + "
                f"{args.duration:g} s measured, {args.rounds} round(s)"
            )
            bare_rps, full_rps, ratios = [], [], []
            full_sent = 0
            for rnd in range(1, args.rounds + 1):
                rb = _run_load(bare, args, senders_file, token, public_url)
                print(f"  round {rnd} bare: {_fmt(rb)}", flush=True)
                rf = _run_load(full, args, senders_file, token, public_url)
                print(f"  round {rnd} full: {_fmt(rf)}", flush=True)
                if rb["rps"]:
                    print(f"  round {rnd} ratio full/bare = {rf['rps'] / rb['rps']:.2f}")
                    ratios.append(rf["rps"] / rb["rps"])
                bare_rps.append(rb["rps"])
                full_rps.append(rf["rps"])
                full_sent += rf["sent"]
                if rf["bad"] or rf["errors"]:
                    print("  full path returned errors or replies without <Message>")
            for server in servers:
                server.stop()
            if args.profile:
                _print_profiles(profile_dir)
                print("\n(profiled run: the full-path figures below are slowed by cProfile)")
            counts = asyncio.run(_inbound_counts(url))
            expected = full_sent + len(accounts[:3])  # + the signed verification requests
            stored = sum(counts.values())
            print(
                f"inbound rows by status: {counts}; signed requests sent: {expected:,}"
                + ("" if stored == expected else "  MISMATCH")
            )
            b, f = statistics.median(bare_rps), statistics.median(full_rps)
            ratio = statistics.median(ratios) if ratios else float("nan")
            print(
                f"\nbare aiohttp form endpoint: {b:,.0f} req/s\n"
                f"full signed /sms/twilio JF ({'PostgreSQL' if args.pg else 'SQLite'}): "
                f"{f:,.0f} req/s\n"
                f"ratio full/bare = {ratio:.2f}  (target ≥ 0.3)"
                + (
                    "  [medians over rounds; ratio = median of per-round ratios]"
                    if args.rounds > 1
                    else ""
                )
            )
            return 0
        finally:
            for server in servers:
                server.stop()
            if pg_name:
                asyncio.run(
                    pg_admin(args.pg_dsn, f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
                )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.sms_webhook", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--subscribers", type=int, default=1000, help="feed rows to seed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--concurrency", "-c", type=int, default=32, help="requests in flight")
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds first")
    parser.add_argument("--rounds", type=int, default=1, help="bare/full pairs; medians reported")
    parser.add_argument("--pool", type=int, default=100_000, help="pre-signed requests per run")
    parser.add_argument("--pg", action="store_true", help="run the full app on PostgreSQL")
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
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--public-url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--senders", help=argparse.SUPPRESS)
    parser.add_argument("--expect", default="<Message>", help=argparse.SUPPRESS)
    parser.add_argument("--server-pid", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--profile-dir", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role == "serve-bare":
        serve_bare(args.port)
    elif args.role == "serve-full":
        serve_full(args.port, args.profile_dir)
    elif args.role == "load":
        return load_main(args)
    else:
        return parent_main(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
