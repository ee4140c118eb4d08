"""``pointshall recharge …``: phone top-ups (issue 16 §2), listed or retried by staff; the
fake recharge provider ``serve --demo`` runs."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from aiohttp import web
from pydantic import SecretStr
from rich.table import Table

from core.messaging.texts import yuan
from core.platform.clock import epoch
from core.platform.schema import TOPUP_STATUSES
from core.recharge import delivery, topups
from core.recharge.topups import TopupView
from pointshall.bootstrap import Services
from pointshall.cli_support import err, out, run_with_services
from pointshall.config import Settings
from pointshall.fake_recharge import FakeRechargeService

recharge_app = typer.Typer(
    help="Phone top-ups: list them, send one again (the `recharge` job sends them).",
    no_args_is_help=True,
)


def _when(at: int | None, zone: str) -> str:
    if at is None:
        return ""
    return datetime.fromtimestamp(at, ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


@recharge_app.command("list")
def list_topups(
    status: Annotated[
        str | None, typer.Option(help=f"Only this status: {', '.join(TOPUP_STATUSES)}.")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
) -> None:
    """Print the newest top-ups: order, number, amount, status, tries, next try, last error."""
    if status is not None and status not in TOPUP_STATUSES:
        err.print(f"unknown status {status!r}; one of: {', '.join(TOPUP_STATUSES)}")
        raise typer.Exit(2)

    async def read(services: Services) -> tuple[list[TopupView], dict[str, int], str]:
        found = await services.db.read(partial(topups.listing, status=status, limit=limit))
        return found, await services.db.read(topups.counts), services.settings.timezone

    found, counts, zone = run_with_services(read)
    table = Table()
    for column in ("order", "number", "yuan", "status", "tries", "next try", "provider id"):
        table.add_column(column, overflow="fold")
    table.add_column("last error", overflow="fold")
    for t in found:
        table.add_row(
            t.order_no,
            t.msisdn,
            yuan(t.amount_cents),
            t.status,
            str(t.attempts),
            _when(t.next_attempt_at, zone),
            t.provider_id or "",
            t.last_error or "",
        )
    out.print(table)
    out.print(
        ", ".join(f"{s} {counts[s]}" for s in TOPUP_STATUSES if s in counts) or "no top-ups",
        highlight=False,
    )


@recharge_app.command("retry")
def retry(
    no: Annotated[str, typer.Argument(help="The order number of the top-up.")],
    by: Annotated[str, typer.Option("--by", help="Who retries it (audited).")],
) -> None:
    """Send an open or stalled top-up again now, with the same idempotency key."""

    async def job(services: Services) -> tuple[TopupView, bool]:
        now = epoch(services.clock.now())
        if services.recharge is None:
            queued = await services.db.write(partial(topups.retry, no=no, by=by, now=now))
            return queued, False
        return await delivery.deliver_now(services.recharge, no, by, now), True

    t, sent = run_with_services(job)
    if not sent:
        out.print(
            f"top-up of order {t.order_no} requested again; no recharge provider is configured "
            "(POINTSHALL_RECHARGE_URL, POINTSHALL_RECHARGE_SECRET), the `recharge` job sends "
            "it once one is",
            highlight=False,
        )
        return
    detail = f" ({t.last_error})" if t.last_error and t.status not in topups.FINAL else ""
    out.print(f"top-up of order {t.order_no}: {t.status}{detail}", highlight=False)


DEMO_RECHARGE_SECRET = "demo-recharge-secret"


def demo_recharge(settings: Settings, host: str) -> FakeRechargeService:
    """Point the settings at a fake recharge provider for ``serve --demo`` (not started)."""
    settings.recharge_url = f"http://{host}:{settings.fake_recharge_port}"
    if settings.recharge_secret is None:
        settings.recharge_secret = SecretStr(DEMO_RECHARGE_SECRET)
    return FakeRechargeService(settings.recharge_secret.get_secret_value(), complete_delay=2.0)


async def start_fake_recharge(
    fake: FakeRechargeService, host: str, settings: Settings
) -> web.AppRunner:
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, settings.fake_recharge_port).start()
    out.print(
        f"fake recharge provider on {settings.recharge_url} (POST /_control to inject faults)"
    )
    return runner
