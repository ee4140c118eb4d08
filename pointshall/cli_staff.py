"""``pointshall staff add|list|disable``: operator staff and their admin API tokens (issue 8)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import typer
from rich.table import Table

from core.backoffice import operator_staff
from core.backoffice.operator_staff import OperatorStaff
from core.platform.clock import epoch
from core.platform.errors import DomainError
from core.platform.schema import OPERATOR_ROLES
from pointshall.bootstrap import Services
from pointshall.cli_support import err, out, run_with_services

staff_app = typer.Typer(help="Operator staff and their admin API tokens.", no_args_is_help=True)
By = Annotated[str, typer.Option("--by", help="Who is doing this (recorded in the audit log).")]


@staff_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="A unique name, e.g. alice")],
    role: Annotated[str, typer.Option(help=" | ".join(OPERATOR_ROLES))],
    by: By = "cli",
) -> None:
    """Create a staff member and print their bearer token (shown this once only)."""

    async def job(services: Services) -> tuple[OperatorStaff, str]:
        now = epoch(services.clock.now())
        return await services.db.write(
            partial(
                operator_staff.add, keyring=services.keyring, name=name, role=role, by=by, now=now
            )
        )

    try:
        member, token = run_with_services(job)
    except DomainError as exc:
        err.print(f"[red]refused:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    err.print(f"staff {member.name} ({member.role}) created; the token is shown only now:")
    out.print(token, markup=False, highlight=False)


@staff_app.command("list")
def list_staff() -> None:
    """List staff members, their roles and whether they are disabled."""

    async def job(services: Services) -> list[OperatorStaff]:
        return await services.db.read(operator_staff.members)

    table = Table("name", "role", "created_at", "disabled_at")
    for m in run_with_services(job):
        table.add_row(m.name, m.role, str(m.created_at), str(m.disabled_at or ""))
    out.print(table)


@staff_app.command("disable")
def disable(name: Annotated[str, typer.Argument()], by: By = "cli") -> None:
    """Disable a staff member: their token stops working at once."""

    async def job(services: Services) -> OperatorStaff:
        now = epoch(services.clock.now())
        return await services.db.write(partial(operator_staff.disable, name=name, by=by, now=now))

    try:
        member = run_with_services(job)
    except DomainError as exc:
        err.print(f"[red]refused:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    out.print(f"staff {member.name} disabled")
