"""``pointshall payments …``: the payment sagas (§3.5.6), listed or reconciled once by hand."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import typer
from aiohttp import web
from pydantic import SecretStr
from rich.table import Table

from core.payments import saga as payments
from core.payments.saga import SagaView
from pointshall.bootstrap import Services
from pointshall.cli_support import err, out, run_with_services
from pointshall.config import Settings
from pointshall.fake_gateway import FakeGateway
from pointshall.scheduling import job_context
from scheduler.runner import JobResult, run_job

payments_app = typer.Typer(
    help="Payments with money: sagas, reconciliation (also a scheduled job).",
    no_args_is_help=True,
)


@payments_app.command("list")
def list_payments(
    status: Annotated[str | None, typer.Option(help="Only this saga status.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
) -> None:
    """Print the newest payment sagas: order, method, amount, points, status, charge."""

    async def read(services: Services) -> list[SagaView]:
        return await services.db.read(partial(payments.listing, status=status, limit=limit))

    table = Table()
    for column in ("order", "method", "cash", "points", "status", "charge", "refund"):
        table.add_column(column, overflow="fold")
    for s in run_with_services(read):
        table.add_row(
            s.order_no,
            s.method,
            f"{s.amount_cents / 100:.2f}",
            f"{s.points:,}",
            s.status,
            s.charge_id or "",
            s.refund_id or "",
        )
    out.print(table)


@payments_app.command("reconcile")
def reconcile() -> None:
    """Ask the gateway about every unfinished payment past the grace period; finish or refund."""

    async def job(services: Services) -> tuple[JobResult, int]:
        if services.payments is None:
            return JobResult("payments-reconcile", False, 0), -1
        result = await run_job(job_context(services), "payments-reconcile")
        left = await services.db.read(
            lambda conn: len(
                [s for s in payments.listing(conn, limit=10_000) if s.status in payments.OPEN]
            )
        )
        return result, left

    result, left = run_with_services(job)
    if left < 0:
        err.print("[red]no gateway:[/red] set POINTSHALL_GATEWAY_URL and POINTSHALL_GATEWAY_SECRET")
        raise typer.Exit(2)
    if not result.ran:
        out.print("payments-reconcile: running in another process, skipped")
        return
    out.print(f"payments-reconcile: {result.changed} changed, {left} still open")


DEMO_GATEWAY_SECRET = "demo-gateway-secret"


def demo_gateway(settings: Settings, host: str) -> FakeGateway:
    """Point the settings at a fake gateway for ``serve --demo`` and return it (not started)."""
    url = f"http://{host}:{settings.fake_gateway_port}"
    settings.gateway_url = url
    if settings.gateway_secret is None:
        settings.gateway_secret = SecretStr(DEMO_GATEWAY_SECRET)
    return FakeGateway(settings.gateway_secret.get_secret_value(), public_url=url)


async def start_fake_gateway(fake: FakeGateway, host: str, settings: Settings) -> web.AppRunner:
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, settings.fake_gateway_port).start()
    out.print(f"fake payment gateway on {fake.public_url} (POST /_control to inject faults)")
    return runner
