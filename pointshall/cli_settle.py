"""``pointshall settle | statement … | report … | merchant rate``: settlement and reports (§6.3).

``install(app)`` adds these to the main command line.
"""

from __future__ import annotations

import sys
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import Connection

from core.backoffice import decisions, duties
from core.platform.clock import epoch
from core.platform.errors import DomainError
from core.platform.languages import LANGS
from core.platform.phones import to_e164
from core.settlement import (
    reconciliation,
    report_files,
    reports,
    runs,
    settlement,
    statements,
)
from core.settlement.settlement import StatementView
from core.settlement.texts import yuan
from pointshall.bootstrap import Services
from pointshall.cli_merchant import merchant_app
from pointshall.cli_support import err, out, run_with_services

statement_app = typer.Typer(help="Merchant statements: list and move along.", no_args_is_help=True)
report_app = typer.Typer(help="Finance reports as XLSX or CSV.", no_args_is_help=True)

By = Annotated[str, typer.Option("--by", help="Who is doing this (recorded in the audit log).")]
ByStaff = Annotated[
    str, typer.Option("--by", help="The operator staff member doing it (their role is checked).")
]
ByOwner = Annotated[str, typer.Option("--by", help="The merchant owner's phone.")]
Period = Annotated[str, typer.Option(help="The month, YYYY-MM (operator time zone).")]
Out = Annotated[Path, typer.Option("--out", help="FILE.xlsx or FILE.csv")]


def _zone(services: Services) -> ZoneInfo:
    return ZoneInfo(services.settings.timezone)


def _refused(exc: Exception) -> typer.Exit:
    err.print(f"[red]refused:[/red] {exc}", highlight=False)
    return typer.Exit(1)


@merchant_app.command("rate")
def rate(
    code: Annotated[str, typer.Argument(help="Merchant code, e.g. M1")],
    cents_per_1000: Annotated[int, typer.Argument(help="Cents paid per 1,000 points.")],
    by: ByStaff,
) -> None:
    """Set a merchant's contract rate; lines already consumed keep the rate they had."""

    async def job(services: Services) -> settlement.Rate:
        now = epoch(services.clock.now())
        return await services.db.write(
            lambda conn: settlement.set_rate(
                conn, code, cents_per_1000, duties.acting(conn, by, duties.MERCHANT_RATE).name, now
            )
        )

    try:
        got = run_with_services(job)
    except DomainError as exc:
        raise _refused(exc) from None
    out.print(f"{code}: {got.cents} cents per {got.points:,} points from now on")


def settle(
    period: Annotated[str | None, typer.Option(help="The month to settle, YYYY-MM.")] = None,
    now: Annotated[bool, typer.Option("--now", help="Settle this month early, up to now.")] = False,
    merchant: Annotated[str | None, typer.Option(help="Only this merchant code.")] = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help="The finance or admin member settling early (needed with --now; a month "
            "that is over is settled as the scheduled job does).",
        ),
    ] = None,
) -> None:
    """Make merchant statements for a month (a draft takes lines consumed since it was made);
    say which lines are left and why. Running it again changes nothing."""
    if (period is None) == (not now):
        err.print("give either --period YYYY-MM or --now")
        raise typer.Exit(2)
    if now and by is None:
        err.print("settling early (--now) is a finance decision: name who with --by")
        raise typer.Exit(2)

    async def job(services: Services) -> tuple[runs.SettleRun, ZoneInfo]:
        zone = _zone(services)
        who = "cli"
        if by is not None:
            member = await services.db.read(
                lambda conn: duties.acting(conn, by, duties.SETTLE_EARLY)
            )
            who = member.name
        done = await runs.settle_due(
            services.db,
            period=period,
            now=epoch(services.clock.now()),
            tz=zone,
            by=who,
            merchant_code=merchant,
            early=now,
        )
        return done, zone

    try:
        run, zone = run_with_services(job)
    except DomainError as exc:
        raise _refused(exc) from None
    if run.made:
        _print_statements(run.made)
    if run.topped_up:
        out.print("drafts that took the lines consumed since they were made:")
        _print_statements(run.topped_up)
    for left in run.waiting:
        out.print(_waiting_line(left, run.cutoff, zone), highlight=False)
    if run.changed or run.waiting:
        return
    scope = f" of {merchant}" if merchant else ""
    line = f"nothing to settle: no unsettled lines{scope} consumed before {_at(run.cutoff, zone)}"
    if run.later:
        line += f"; {run.later:,} consumed since wait for a later month"
    out.print(line, highlight=False)


def _at(moment: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(moment, zone).strftime("%Y-%m-%d %H:%M")


def _waiting_line(left: runs.Waiting, cutoff: int, zone: ZoneInfo) -> str:
    if left.numbered_after is not None:
        why = (
            f"numbered after line {left.numbered_after:,}, the last before the first line "
            f"consumed at or after {_at(cutoff, zone)}; they go into the next statement"
        )
    elif left.statement_id is not None and left.statement_status != runs.OPEN_STATUS:
        why = (
            f"statement {left.statement_id} ({left.period}) is {left.statement_status}; "
            f"they go into the {left.next_period} statement"
        )
    else:
        why = "another run was settling them at the same time; settle again to see where"
    ids = (
        f"id {left.first_id}"
        if left.first_id == left.last_id
        else f"ids {left.first_id} to {left.last_id}"
    )
    return (
        f"{left.merchant_code}: {left.lines:,} line(s) ({ids}), {left.points:,} points, "
        f"{yuan(left.amount_cents)} yuan consumed {_at(left.first_at, zone)} to "
        f"{_at(left.last_at, zone)} not settled: {why}"
    )


def _print_statements(rows: list[StatementView]) -> None:
    table = Table()
    for column in ("id", "merchant", "period", "status", "lines", "points", "yuan", "reason"):
        table.add_column(column)
    for s in rows:
        table.add_row(
            str(s.id),
            s.merchant_code,
            s.period,
            s.status,
            str(s.lines),
            f"{s.points:,}",
            yuan(s.amount_cents),
            s.reason or "",
        )
    out.print(table)


@statement_app.command("list")
def list_statements(
    period: Annotated[str | None, typer.Option(help="Only this month, YYYY-MM.")] = None,
    merchant: Annotated[str | None, typer.Option(help="Only this merchant code.")] = None,
) -> None:
    """List statements."""

    async def job(services: Services) -> list[StatementView]:
        return await services.db.read(
            partial(settlement.statements, period=period, merchant_code=merchant)
        )

    _print_statements(run_with_services(job))


def _move(statement_id: int, action: str, by: str, reason: str | None = None) -> None:
    """A merchant owner's move (``by`` is their phone) or finance's (``by`` a staff name)."""

    async def job(services: Services) -> StatementView:
        now = epoch(services.clock.now())
        region = services.settings.default_region

        def unit(conn: Connection) -> StatementView:
            if action in statements.MERCHANT_ACTIONS:
                return statements.move_as_owner(
                    conn,
                    statement_id,
                    action,
                    msisdn=to_e164(by, region),
                    now=now,
                    reason=reason,
                )
            member = duties.acting(conn, by, decisions.STATEMENT_DUTIES[action])
            return decisions.move_statement(conn, member, statement_id, action, now=now)

        return await services.db.write(unit)

    try:
        done = run_with_services(job)
    except DomainError as exc:
        raise _refused(exc) from None
    out.print(f"statement {done.id} ({done.merchant_code} {done.period}) is {done.status}")


Id = Annotated[int, typer.Argument(help="Statement number")]


@statement_app.command()
def confirm(statement_id: Id, by: ByOwner) -> None:
    """The merchant's owner confirms the statement."""
    _move(statement_id, "confirm", by)


@statement_app.command()
def dispute(
    statement_id: Id,
    by: ByOwner,
    reason: Annotated[str, typer.Option(help="What the merchant disputes.")],
) -> None:
    """The merchant's owner disputes the statement, with a reason."""
    _move(statement_id, "dispute", by, reason)


@statement_app.command()
def approve(statement_id: Id, by: ByStaff) -> None:
    """Finance approves a confirmed statement."""
    _move(statement_id, "approve", by)


@statement_app.command()
def pay(statement_id: Id, by: ByStaff) -> None:
    """Finance records an approved statement as paid."""
    _move(statement_id, "pay", by)


def _check_out(path: Path) -> None:
    try:
        report_files.check_path(path)
    except ValueError as exc:
        err.print(str(exc))
        raise typer.Exit(2) from None


@report_app.command("points-cost")
def points_cost(period: Period, out_path: Out) -> None:
    """Points consumed in the month by category and payment method, with money value."""
    _check_out(out_path)

    async def job(services: Services) -> list[reports.CostRow]:
        return await services.db.read(
            partial(reports.points_cost, period=period, tz=_zone(services))
        )

    try:
        rows = run_with_services(job)
    except DomainError as exc:
        raise _refused(exc) from None
    report_files.write_points_cost(out_path, period, rows)
    out.print(
        f"{out_path}: {sum(r.points for r in rows):,} points, "
        f"{yuan(sum(r.value_cents for r in rows))} yuan"
    )


Lang = Annotated[
    str | None,
    typer.Option("--lang", help="Headers and labels: zh or en [POINTSHALL_DEFAULT_LANG]."),
]


def _lang(lang: str | None) -> None:
    if lang is not None and lang not in LANGS:
        err.print(f"--lang is zh or en, not {lang!r}")
        raise typer.Exit(2)


@report_app.command("reconcile")
def reconcile(
    month: Annotated[
        str, typer.Option("--month", "--period", help="The month, YYYY-MM (operator time zone).")
    ],
    out_path: Out,
    lang: Lang = None,
) -> None:
    """The month's points and money reconciled: rows sum to the ledger and the gateway."""
    _check_out(out_path)
    _lang(lang)

    async def job(services: Services) -> tuple[reconciliation.Reconciliation, str]:
        found = await services.db.read(
            partial(reconciliation.reconcile, period=month, tz=_zone(services))
        )
        return found, lang or services.settings.default_lang

    try:
        rec, chosen = run_with_services(job)
    except DomainError as exc:
        raise _refused(exc) from None
    report_files.write_reconciliation(out_path, rec, chosen)
    total = rec.total
    opening, closing = rec.check("balance_opening"), rec.check("balance_closing")
    unused = rec.check("vouchers_closing")
    out.print(
        f"{out_path}: points {total.points:+,} ({opening.points:,} → {closing.points:,}), "
        f"captured {yuan(total.captured_cents)} yuan, refunded {yuan(total.refunded_cents)} "
        f"yuan, {unused.count:,} voucher(s) unused at month end ({unused.points:,} points)",
        highlight=False,
    )


@report_app.command("merchant")
def merchant_statement(
    period: Period,
    out_path: Out,
    merchant: Annotated[str, typer.Option(help="Merchant code.")],
) -> None:
    """One merchant's statement of the month, line by line (progress bar on a terminal)."""
    _check_out(out_path)

    async def job(services: Services) -> int:
        found = await services.db.read(
            partial(settlement.statements, period=period, merchant_code=merchant)
        )
        if not found:
            err.print(f"no statement for {merchant} in {period}")
            raise typer.Exit(1)
        view = found[0]
        with Progress(
            TextColumn(f"statement {view.id}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
            disable=not sys.stderr.isatty(),
        ) as progress:
            task = progress.add_task("lines", total=view.lines)

            def unit(conn: Connection) -> int:
                return report_files.write_statement(
                    out_path,
                    view,
                    reports.statement_lines(conn, view.id),
                    _zone(services),
                    lambda n: progress.update(task, completed=n),
                )

            return await services.db.read(unit)

    n = run_with_services(job)
    out.print(f"{out_path}: {n:,} lines")


def install(app: typer.Typer) -> None:
    """Add ``settle``, ``statement`` and ``report`` (``merchant rate`` joins ``merchant``)."""
    app.command("settle")(settle)
    app.add_typer(statement_app, name="statement")
    app.add_typer(report_app, name="report")
