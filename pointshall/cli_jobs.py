"""``pointshall jobs …``: the scheduled jobs, listed or run once by hand."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from pointshall.bootstrap import Services
from pointshall.cli_support import err, out, run_with_services
from pointshall.scheduling import job_context
from scheduler.jobs import BY_NAME, JOBS
from scheduler.runner import JobResult, run_job

jobs_app = typer.Typer(help="Scheduled jobs (they also run inside `serve`).", no_args_is_help=True)


@jobs_app.command("list")
def list_jobs() -> None:
    """Print the jobs, their schedule and what they do."""
    table = Table()
    for column in ("name", "schedule", "does"):
        table.add_column(column)
    for job in JOBS:
        table.add_row(job.name, str(job.schedule), job.summary)
    out.print(table)


@jobs_app.command("run")
def run(name: Annotated[str, typer.Argument(help="Job name, see `pointshall jobs list`.")]) -> None:
    """Run one job once now; running it again changes nothing."""
    if name not in BY_NAME:
        err.print(f"[red]unknown job {name!r}[/red]; one of: {', '.join(BY_NAME)}")
        raise typer.Exit(2)

    async def job(services: Services) -> JobResult:
        return await run_job(job_context(services), name)

    result = run_with_services(job)
    if not result.ran:
        out.print(f"{name}: running in another process, skipped")
        return
    out.print(f"{name}: {result.changed} changed")
