"""``pointshall adjustment …``: manual points adjustments under the two-person rule, made by
named staff members (issue 8, issue 13 §3): the same rules as ``/admin/v1/adjustments``
(``core.backoffice.decisions``)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import Connection

from core.backoffice import decisions, duties
from core.backoffice.errors import NotIndependent
from core.platform.clock import epoch
from core.platform.phones import to_e164
from core.platform.schema import ADJUSTMENT_STATUSES
from core.points import adjustments
from core.points.adjustments import Adjustment
from core.settlement.settlement import period_of
from pointshall.bootstrap import Services
from pointshall.cli_support import out, run_with_services

adjustment_app = typer.Typer(
    help="Manual points adjustments: one member proposes, an independent one approves.",
    no_args_is_help=True,
)
By = Annotated[str, typer.Option("--by", help="The staff member doing it (their name).")]
Id = Annotated[int, typer.Argument(help="Adjustment number")]


def _print(done: Adjustment) -> None:
    out.print(
        f"adjustment {done.id}: {done.points:+,} points for {done.msisdn}, {done.status}",
        markup=False,
        highlight=False,
    )


@adjustment_app.command("propose")
def propose(
    msisdn: Annotated[str, typer.Argument(help="The subscriber's number")],
    points: Annotated[int, typer.Option(help="Points to add, or to take when negative.")],
    reason: Annotated[str, typer.Option(help="Why (kept with the entry).")],
    by: By,
) -> None:
    """Propose an adjustment (support or admin); nothing moves until someone approves it."""

    async def job(services: Services) -> Adjustment:
        now = epoch(services.clock.now())
        number = to_e164(msisdn, services.settings.default_region)

        def unit(conn: Connection) -> Adjustment:
            proposer = duties.acting(conn, by, duties.ADJUSTMENT_PROPOSE)
            return decisions.propose_adjustment(
                conn, proposer, msisdn=number, points=points, reason=reason, now=now
            )

        return await services.db.write(unit)

    _print(run_with_services(job))


@adjustment_app.command("approve")
def approve(adjustment_id: Id, by: By) -> None:
    """Approve (finance or admin) a proposal of someone independent of you: posts the entry."""

    async def job(services: Services) -> Adjustment:
        now = epoch(services.clock.now())
        expires_at = services.rules.expires_at(period_of(now, services.rules.timezone))

        def unit(conn: Connection) -> Adjustment:
            approver = duties.acting(conn, by, duties.ADJUSTMENT_DECIDE)
            return decisions.approve_adjustment(
                conn, approver, adjustment_id, now=now, expires_at=expires_at
            )

        try:
            return await services.db.write(unit)
        except NotIndependent as exc:
            await services.db.write(partial(decisions.record_refusal, error=exc, now=now))
            raise

    _print(run_with_services(job))


@adjustment_app.command("reject")
def reject(
    adjustment_id: Id,
    by: By,
    reason: Annotated[str, typer.Option(help="Why it is refused.")] = "",
) -> None:
    """Reject a proposal (finance or admin, or its proposer withdrawing it)."""

    async def job(services: Services) -> Adjustment:
        now = epoch(services.clock.now())

        def unit(conn: Connection) -> Adjustment:
            decider = duties.member(conn, by)
            return decisions.reject_adjustment(conn, decider, adjustment_id, reason=reason, now=now)

        return await services.db.write(unit)

    _print(run_with_services(job))


@adjustment_app.command("list")
def list_adjustments(
    status: Annotated[str | None, typer.Option(help=" | ".join(ADJUSTMENT_STATUSES))] = None,
) -> None:
    """List adjustments, newest first."""

    async def job(services: Services) -> list[Adjustment]:
        return await services.db.read(
            lambda conn: adjustments.listing(conn, status=status, limit=200)
        )

    found = run_with_services(job)
    table = Table("id", "msisdn", "points", "status", "proposed_by", "decided_by", "reason")
    for a in found:
        table.add_row(
            str(a.id),
            a.msisdn,
            f"{a.points:+,}",
            a.status,
            a.proposed_by,
            a.decided_by or "",
            a.reason,
        )
    out.print(table if found else "no adjustments")
