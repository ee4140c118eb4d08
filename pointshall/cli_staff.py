"""``pointshall staff …``: operator staff and their admin API tokens (issue 8), changed by a
named admin under the rules of ``core.backoffice.staffing`` (issue 13 §3).

``staff add`` without ``--by`` sets up a new installation: it works only while fewer than
two admins are active. Every other change names the admin making it with ``--by``; beyond
``POINTSHALL_STAFF_CHANGES_PER_DAY`` changes a day a change waits for a second admin
(``staff changes``, ``staff approve``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

import typer
from rich.table import Table
from sqlalchemy import Connection

from core.backoffice import duties, staff_history, staffing
from core.backoffice.operator_staff import OperatorStaff, members
from core.backoffice.staff_history import StaffChange
from core.backoffice.staffing import Change
from core.platform.clock import epoch
from core.platform.schema import OPERATOR_ROLES
from pointshall.bootstrap import Services
from pointshall.cli_support import err, out, run_with_services

staff_app = typer.Typer(help="Operator staff and their admin API tokens.", no_args_is_help=True)
ByAdmin = Annotated[
    str, typer.Option("--by", help="The admin making the change (a staff member's name).")
]
T = TypeVar("T")


def _change(unit: Callable[[Services, Connection, int, OperatorStaff], T], by: str) -> T:
    """Run ``unit`` as admin ``by`` (checked) in one unit of work."""

    async def job(services: Services) -> T:
        now = epoch(services.clock.now())

        def work(conn: Connection) -> T:
            actor = duties.acting(conn, by, duties.STAFF_MANAGE)
            return unit(services, conn, now, actor)

        return await services.db.write(work)

    return run_with_services(job)


def _told(done: Change) -> None:
    member = done.member
    if done.pending:
        out.print(
            f"staff change {done.change.id} ({done.change.kind} {done.change.name}) "
            "waits for a second admin: pointshall staff approve "
            f"{done.change.id} --by ANOTHER_ADMIN",
            markup=False,
            highlight=False,
        )
    elif member is not None:
        state = "active" if member.active else "disabled"
        out.print(f"staff {member.name}: {member.role}, {state}", markup=False, highlight=False)


@staff_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="A unique name, e.g. alice")],
    role: Annotated[str, typer.Option(help=" | ".join(OPERATOR_ROLES))],
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help="The admin creating it; without it only the first two admins are set up.",
        ),
    ] = None,
) -> None:
    """Create a staff member and print their bearer token (shown this once only)."""
    if by is None:

        async def set_up(services: Services) -> Change:
            now = epoch(services.clock.now())
            return await services.db.write(
                lambda conn: staffing.set_up(conn, services.keyring, name, role, now=now)
            )

        done = run_with_services(set_up)
    else:
        done = _change(
            lambda s, conn, now, actor: staffing.create(
                conn,
                s.keyring,
                actor,
                name,
                role,
                now=now,
                alone_per_day=s.settings.staff_changes_per_day,
            ),
            by,
        )
    if done.pending:
        _told(done)
        err.print(f"the token of {name} ({role}) works once approved; shown only now:")
    else:
        err.print(f"staff {name} ({role}) created; the token is shown only now:")
    out.print(done.token, markup=False, highlight=False)


@staff_app.command("list")
def list_staff() -> None:
    """List staff members, their roles and whether they are disabled."""

    async def job(services: Services) -> list[OperatorStaff]:
        return await services.db.read(members)

    table = Table("name", "role", "created_at", "disabled_at")
    for m in run_with_services(job):
        table.add_row(m.name, m.role, str(m.created_at), str(m.disabled_at or ""))
    out.print(table)


@staff_app.command("disable")
def disable(name: Annotated[str, typer.Argument()], by: ByAdmin) -> None:
    """Disable a staff member: their token and console sessions stop working at once."""
    _told(_change(lambda s, conn, now, actor: staffing.disable(conn, actor, name, now=now), by))


@staff_app.command("enable")
def enable(name: Annotated[str, typer.Argument()], by: ByAdmin) -> None:
    """Enable a disabled staff member again (may wait for a second admin)."""
    _told(
        _change(
            lambda s, conn, now, actor: staffing.enable(
                conn, actor, name, now=now, alone_per_day=s.settings.staff_changes_per_day
            ),
            by,
        )
    )


@staff_app.command("role")
def role(
    name: Annotated[str, typer.Argument()],
    new_role: Annotated[str, typer.Argument(metavar="ROLE", help=" | ".join(OPERATOR_ROLES))],
    by: ByAdmin,
) -> None:
    """Give a staff member another role (may wait for a second admin)."""
    _told(
        _change(
            lambda s, conn, now, actor: staffing.change_role(
                conn,
                actor,
                name,
                new_role,
                now=now,
                alone_per_day=s.settings.staff_changes_per_day,
            ),
            by,
        )
    )


@staff_app.command("changes")
def changes(
    everything: Annotated[
        bool, typer.Option("--all", help="Every change, not only pending.")
    ] = False,
) -> None:
    """List staff changes waiting for a second admin (or all of them, newest first)."""

    async def job(services: Services) -> list[StaffChange]:
        if everything:
            return await services.db.read(lambda conn: staff_history.listing(conn, limit=200))
        return await services.db.read(staff_history.pending)

    table = Table("id", "name", "kind", "role", "status", "requested_by", "decided_by")
    found = run_with_services(job)
    for c in found:
        table.add_row(
            str(c.id), c.name, c.kind, c.role or "", c.status, c.requested_by, c.decided_by or ""
        )
    if found:
        out.print(table)
    else:
        out.print("no staff changes waiting" if not everything else "no staff changes")


@staff_app.command("approve")
def approve(
    change_id: Annotated[int, typer.Argument(help="Staff change number")], by: ByAdmin
) -> None:
    """A second admin approves a pending staff change; it takes effect now."""
    _told(
        _change(lambda s, conn, now, actor: staffing.approve(conn, actor, change_id, now=now), by)
    )


@staff_app.command("reject")
def reject(
    change_id: Annotated[int, typer.Argument(help="Staff change number")], by: ByAdmin
) -> None:
    """Reject a pending staff change (or withdraw your own)."""
    done = _change(lambda s, conn, now, actor: staffing.reject(conn, actor, change_id, now=now), by)
    out.print(f"staff change {done.change.id} rejected")
