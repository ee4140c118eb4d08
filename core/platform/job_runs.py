"""One run of each scheduled job per period, however many replicas schedule it (issue 15 §4).

Every replica runs the scheduler, and each fires every job on its own clock: three
replicas started a few seconds apart each fire ``orders-timeout`` once a minute. The job
lock (``core.platform.job_lock``) keeps two runs from overlapping; this record keeps a
second replica from running the job again in the same period: the first run of a period
writes ``job_run(job, period_start)``, and a run that finds the period finished skips.

A run that died (a crash, ``kill -9``) leaves its row unfinished; the next replica to fire
in the same period runs the job again (the jobs are idempotent, so that is safe) and
takes the row over. Callers hold the job lock, so no two processes write one row at once.
A run by hand (``pointshall jobs run``) does not look here: the operator asked for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from core.platform.schema import job_run
from core.platform.sql import insert_ignoring


@dataclass(frozen=True)
class JobRun:
    job: str
    period_start: int
    started_at: int
    finished_at: int | None
    changed: int | None
    runner: str


def begin(conn: Connection, *, job: str, period_start: int, now: int, runner: str) -> bool:
    """Claim job ``job``'s run for the period starting at ``period_start``.

    Times are UTC epoch seconds; ``runner`` names the process (``host:pid``). Returns
    False when a run of this period has already finished (skip it), True otherwise (run
    it, then call ``finish``). The caller holds the job's lock.
    """
    claimed = conn.execute(
        insert_ignoring(conn, job_run, "job", "period_start")
        .values(job=job, period_start=period_start, started_at=now, runner=runner)
        .returning(job_run.c.job)
    ).scalar_one_or_none()
    if claimed is not None:
        return True
    finished = conn.execute(
        select(job_run.c.finished_at).where(
            job_run.c.job == job, job_run.c.period_start == period_start
        )
    ).scalar_one()
    if finished is not None:
        return False
    conn.execute(  # a run of this period died unfinished: this one takes over
        update(job_run)
        .where(job_run.c.job == job, job_run.c.period_start == period_start)
        .values(started_at=now, runner=runner)
    )
    return True


def finish(conn: Connection, *, job: str, period_start: int, now: int, changed: int) -> None:
    """Record that the claimed run of the period ended at ``now`` having changed ``changed``."""
    conn.execute(
        update(job_run)
        .where(job_run.c.job == job, job_run.c.period_start == period_start)
        .values(finished_at=now, changed=changed)
    )


def history(conn: Connection, job: str) -> list[JobRun]:
    """The recorded runs of ``job``, oldest period first."""
    rows = conn.execute(
        select(job_run).where(job_run.c.job == job).order_by(job_run.c.period_start)
    ).all()
    return [
        JobRun(r.job, int(r.period_start), int(r.started_at), r.finished_at, r.changed, r.runner)
        for r in rows
    ]
