"""``pointshall …``: the operator's command line (DESIGN.md §7)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import uuid
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from aiohttp import web
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from core.catalogue import catalogue, pay_methods
from core.messaging import outbox as outbox_core
from core.messaging import outbox_listing
from core.platform.clock import epoch
from core.platform.db import open_database
from core.platform.errors import ConfigurationError, FeedError, InvalidPhoneNumber
from core.platform.phones import to_e164
from core.points import doctor as ledger_doctor
from core.points.feed import BadRow
from core.points.feed_import import import_feed
from handlers.hall import InboundMessage
from pointshall import demo as demo_data
from pointshall import log_filter, migrate, root_key, weblog
from pointshall.bootstrap import Services, bootstrap
from pointshall.cli_adjust import adjustment_app
from pointshall.cli_bot import bot
from pointshall.cli_catalog import catalog_app
from pointshall.cli_errors import Commands
from pointshall.cli_jobs import jobs_app
from pointshall.cli_key import key_app
from pointshall.cli_mall import photo_app, question_app
from pointshall.cli_mall_ops import install as install_mall_ops
from pointshall.cli_merchant import merchant_app
from pointshall.cli_payments import demo_gateway, payments_app, start_fake_gateway
from pointshall.cli_recharge import demo_recharge, recharge_app, start_fake_recharge
from pointshall.cli_settle import install as install_settlement
from pointshall.cli_staff import staff_app
from pointshall.cli_support import err, load_settings, out, run_with_services
from pointshall.demo_console import DEMO_MERCHANT, DEMO_OWNER

DEMO_HANDSET = Path("var/handset.txt")
"""Where the demo's console transport delivers whole messages (codes included)."""
app = typer.Typer(
    cls=Commands,
    help="pointshall: the loyalty-points SMS business hall.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of a failure, not one line.")
    ] = False,
) -> None:
    """pointshall: the loyalty-points SMS business hall."""


db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(catalog_app, name="catalog")
app.add_typer(jobs_app, name="jobs")
app.add_typer(key_app, name="key")
app.add_typer(merchant_app, name="merchant")
app.add_typer(payments_app, name="payments")
app.add_typer(recharge_app, name="recharge")
app.add_typer(staff_app, name="staff")
app.add_typer(adjustment_app, name="adjustment")
app.add_typer(question_app, name="question")
app.add_typer(photo_app, name="photo")
install_settlement(app)
install_mall_ops(app)
outbox_app = typer.Typer(help="Outbound messages waiting, sent, dead.", no_args_is_help=True)
app.add_typer(outbox_app, name="outbox")
app.command()(bot)


@app.command()
def serve(
    demo: Annotated[bool, typer.Option(help="Load demo data and accept demo credentials.")] = False,
    host: Annotated[str | None, typer.Option(help="Listen address [POINTSHALL_HOST].")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Listen port [POINTSHALL_PORT].")
    ] = None,
) -> None:
    """Run the web service (webhooks, delivery reports, outbox drain); upgrade the db first."""
    from pointshall.app import build_app  # the web stack loads only for the commands that serve
    from pointshall.scheduling import attach_scheduler

    if demo:
        os.environ.setdefault("POINTSHALL_TWILIO_AUTH_TOKEN", demo_data.DEMO_TWILIO_TOKEN)
        os.environ.setdefault("POINTSHALL_KANNEL_SECRET", demo_data.DEMO_KANNEL_SECRET)
        os.environ.setdefault("POINTSHALL_CONSOLE_HANDSET", str(DEMO_HANDSET))
    settings = load_settings()
    host = settings.host = host or settings.host
    port = settings.port = port or settings.port
    if demo and not settings.public_url:
        settings.public_url = f"http://{host}:{port}"
    fake_gateway = None
    if demo and settings.gateway_url is None:  # §3.5.6: the demo pays at the fake gateway
        fake_gateway = demo_gateway(settings, host)
    fake_recharge = None
    if demo and settings.recharge_url is None:  # §1: the demo's phone credit arrives
        fake_recharge = demo_recharge(settings, host)
    demo_key = root_key.DEMO_KEY_FILE if demo else None
    try:
        settings.check_transport()
        settings.check_feed_inbox()
        root_key.load(settings, demo_key)  # no root key outside the database: no start
    except ConfigurationError as exc:
        err.print(f"[red]cannot start:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    weblog.configure(
        logging.INFO, settings.log_format, secrets=log_filter.configured_secrets(settings)
    )

    async def main() -> None:
        services = await bootstrap(settings, demo_key=demo_key)
        runner: web.AppRunner | None = None
        gateway_runner: web.AppRunner | None = None
        recharge_runner: web.AppRunner | None = None
        try:
            if fake_gateway is not None:
                gateway_runner = await start_fake_gateway(fake_gateway, host, settings)
            if fake_recharge is not None:
                recharge_runner = await start_fake_recharge(fake_recharge, host, settings)
            if demo:
                periods = await demo_data.seed(services)
                _print_demo_help(host, port, periods)
            try:
                settings.check_payments(await services.db.read(pay_methods.money_items))
            except ConfigurationError as exc:
                err.print(f"[red]cannot start:[/red] {exc}")
                raise typer.Exit(2) from None
            credit = await services.db.read(partial(catalogue.active_of_kind, kind="credit"))
            if services.recharge is None and credit:
                logging.getLogger(__name__).warning(
                    "phone credit is on sale but no recharge provider is configured "
                    "(POINTSHALL_RECHARGE_URL, POINTSHALL_RECHARGE_SECRET): top-ups wait "
                    "as requested until one is"
                )
            web_app = build_app(services)
            attach_scheduler(web_app, services)
            runner = web.AppRunner(web_app, access_log=None)
            await runner.setup()  # starts the outbox drain and the scheduler
            await web.TCPSite(runner, host, port).start()
            out.print(f"pointshall listening on http://{host}:{port} (Ctrl-C to stop)")
            await asyncio.Event().wait()
        finally:
            if runner is not None:
                # Stops the scheduler, and lets the drain finish the sends under way,
                # before the database closes.
                await runner.cleanup()
            if gateway_runner is not None:
                await gateway_runner.cleanup()
            if recharge_runner is not None:
                await recharge_runner.cleanup()
            await services.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


def _print_demo_help(host: str, port: int, periods: list[str]) -> None:
    out.print(f"[green]demo data loaded[/green] (billing periods {', '.join(periods)})")
    out.print("Try it from another terminal:")
    out.print("  .venv/bin/pointshall sms --from +8613800138000 JF")
    out.print("  .venv/bin/pointshall chat --from +8613800138000")
    out.print(
        f"  curl 'http://{host}:{port}/sms/kannel?secret={demo_data.DEMO_KANNEL_SECRET}"
        "&from=%2B8613800138000&text=MX&id=demo-1'"
    )
    for line in demo_data.TRY_LINES:
        out.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
    out.print(
        "  .venv/bin/pointshall sms --from +8613800138000 'DH 1004 1 XJ'  "
        "# points + cash: open the link it answers with in a browser, press Pay",
        markup=False,
        highlight=False,
    )
    out.print(
        f"Merchant console: http://{host}:{port}/console (log in as {DEMO_OWNER}, owner of "
        f"{DEMO_MERCHANT}; codes and passwords sent by SMS arrive in {DEMO_HANDSET}, the "
        "demo's phone: this log shows them masked)",
        markup=False,
        highlight=False,
    )


@app.command()
def sms(
    text: Annotated[str, typer.Argument(help="The message text, e.g. JF")],
    sender: Annotated[str, typer.Option("--from", help="The sender's phone number.")],
) -> None:
    """Send one message through the same pipeline as the webhooks; print the reply."""

    async def job(services: Services) -> str:
        msg = InboundMessage(channel="cli", external_id=uuid.uuid4().hex, sender=sender, text=text)
        outcome = await services.db.write(partial(services.hall.receive, msg=msg))
        return outcome.reply

    out.print(run_with_services(job) or "(no reply)", markup=False, highlight=False)


@app.command()
def chat(
    sender: Annotated[str, typer.Option("--from", help="The sender's phone number.")],
) -> None:
    """Talk to the hall interactively as ``--from``; an empty line or Ctrl-D ends."""

    async def job(services: Services) -> None:
        while True:
            line = await asyncio.to_thread(_prompt)
            if line is None or not line.strip():
                return
            msg = InboundMessage(
                channel="cli", external_id=uuid.uuid4().hex, sender=sender, text=line
            )
            outcome = await services.db.write(partial(services.hall.receive, msg=msg))
            out.print(outcome.reply or "(no reply)", markup=False, highlight=False)

    run_with_services(job)


def _prompt() -> str | None:
    try:
        return input("> ")
    except EOFError:
        return None


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply Alembic migrations up to REVISION (default: head)."""

    async def upgrade() -> None:
        db = open_database(load_settings().database_url)
        try:
            await migrate.upgrade(db, revision)
        finally:
            await db.dispose()

    asyncio.run(upgrade())
    out.print(f"database at {revision}")


@app.command()
def accrue(
    feed: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Billing feed CSV.")],
    period: Annotated[str, typer.Option(help="Billing period, YYYY-MM.")],
    strict: Annotated[bool, typer.Option(help="Refuse the whole file if any row is bad.")] = False,
) -> None:
    """Post the monthly points of a billing feed (§1); the same file twice changes nothing."""

    def bad(row: BadRow) -> None:
        err.print(f"[yellow]{row}[/yellow]", markup=True, highlight=False)

    async def job(services: Services) -> None:
        with Progress(
            TextColumn("accrual {task.fields[period]}"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=err,
            disable=not sys.stderr.isatty(),
        ) as progress:
            task = progress.add_task("accrue", total=feed.stat().st_size, period=period)
            result = await import_feed(
                services.db,
                feed,
                period,
                services.rules,
                services.clock,
                strict=strict,
                region=services.settings.default_region,
                home_lang=services.settings.default_lang,
                on_bad=bad,
                on_progress=lambda done, _total: progress.update(task, completed=done),
            )
        out.print(
            f"import {result.import_id}: {result.rows_ok} rows posted ({result.points:,} points), "
            f"{result.rows_skipped} already imported, {result.rows_bad} bad"
        )

    try:
        run_with_services(job)
    except FeedError as exc:
        err.print(f"[red]feed refused:[/red] {exc}")
        raise typer.Exit(1) from None


@app.command()
def doctor() -> None:
    """Prove balance == sum(entries), held == active holds, balance == lots; exit 1 if not."""

    async def job(services: Services) -> ledger_doctor.DoctorReport:
        return await services.db.read(ledger_doctor.examine)

    report = run_with_services(job)
    for problem in report.discrepancies:
        err.print(f"[red]{problem}[/red]")
    if not report.ok:
        err.print(f"{len(report.discrepancies)} discrepancies in {report.accounts} accounts")
        raise typer.Exit(1)
    out.print(f"ledger ok: {report.accounts} accounts, {report.entries} entries")


@outbox_app.command("status")
def outbox_status() -> None:
    """Count outbox messages by status; show how long the oldest pending one has waited."""

    async def job(services: Services) -> tuple[dict[str, int], int | None, int]:
        counts = await services.db.read(outbox_core.status_counts)
        oldest = await services.db.read(outbox_core.oldest_due)
        return counts, oldest, epoch(services.clock.now())

    counts, oldest, now = run_with_services(job)
    for status, n in counts.items():
        out.print(f"{status:<11}{n:>10,}", highlight=False)
    if oldest is not None:
        out.print(f"oldest pending due {max(0, now - oldest)} s ago", highlight=False)


@outbox_app.command("retry")
def outbox_retry(
    ids: Annotated[list[int] | None, typer.Argument(help="Outbox ids to send again.")] = None,
    status: Annotated[
        str | None, typer.Option(help="Retry every message in this status: dead or failed.")
    ] = None,
) -> None:
    """Queue dead (or failed) messages again with a fresh count of attempts."""
    if not ids and status is None:
        err.print("name outbox ids or --status dead|failed")
        raise typer.Exit(2)

    async def job(services: Services) -> int:
        return await services.db.write(
            partial(
                outbox_core.requeue,
                now=epoch(services.clock.now()),
                ids=ids or (),
                status=status,
            )
        )

    try:
        count = run_with_services(job)
    except ValueError as exc:
        err.print(str(exc))
        raise typer.Exit(2) from None
    out.print(f"{count} message(s) queued again")


@outbox_app.command("list")
def outbox_list(
    to: Annotated[str | None, typer.Option("--to", help="Only messages to this number.")] = None,
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 10,
) -> None:
    """Show the newest outbound messages (codes and passwords masked)."""

    async def job(services: Services) -> list[outbox_listing.OutboxLine]:
        recipient = to_e164(to, services.settings.default_region) if to else None
        return await services.db.read(
            partial(outbox_listing.newest, recipient=recipient, limit=limit)
        )

    try:
        lines = run_with_services(job)
    except InvalidPhoneNumber:
        err.print(f"not a phone number: {to}")
        raise typer.Exit(2) from None
    for line in lines:
        out.print(
            f"{line.id:>6} {line.status:<10} {line.recipient:<16} {line.text}",
            markup=False,
            highlight=False,
        )


@app.command("demo")
def demo_command() -> None:
    """Load the demo data without serving."""

    async def job(services: Services) -> list[str]:
        return await demo_data.seed(services)

    out.print(f"demo data loaded for {', '.join(run_with_services(job, demo=True))}")


def main() -> None:
    app()
