"""The report written next to each billing file the feed inbox took (issue 16 §4).

Plain UTF-8 text an operator reads: the file (name, SHA-256, size), the period, who took
it and when, the rules, the outcome and why, the import's counts, and the bad rows with
their line numbers (the first ``MAX_BAD_IN_REPORT``). It is written under a hidden
``.NAME.report.txt.part`` name first and published (renamed) only once the outcome is
recorded, so a report is never half written and never speaks for a run that lost its
claim.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from core.points.feed import BadRow
from core.points.feed_import import ImportResult

REPORT_SUFFIX = ".report.txt"
MAX_BAD_IN_REPORT = 1000


@dataclass(frozen=True)
class FileFacts:
    """What is known of a file before it is read: name, content hash, size, period."""

    name: str
    sha256: str
    size: int
    period: str | None
    claimed_at: int
    claimed_by: str


@dataclass
class FeedReport:
    """What an import of one file said: its result and its bad rows (the first ones)."""

    result: ImportResult | None = None
    bad: list[BadRow] = field(default_factory=list)
    bad_count: int = 0

    def add(self, row: BadRow) -> None:
        self.bad_count += 1
        if len(self.bad) < MAX_BAD_IN_REPORT:
            self.bad.append(row)


def _when(moment: int, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(moment, tz).strftime("%Y-%m-%d %H:%M:%S %Z")


def report_lines(
    facts: FileFacts,
    *,
    status: str,
    detail: str,
    report: FeedReport,
    strict: bool,
    finished_at: int,
    tz: ZoneInfo,
) -> Iterator[str]:
    """The report's lines (times in ``tz``)."""
    yield "pointshall billing feed report"
    yield f"file:      {facts.name}"
    yield f"sha256:    {facts.sha256}"
    yield f"size:      {facts.size:,} bytes"
    yield f"period:    {facts.period or '-'}"
    yield f"claimed:   {_when(facts.claimed_at, tz)} by {facts.claimed_by}"
    yield f"finished:  {_when(finished_at, tz)}"
    yield f"rules:     {'strict (any bad row refuses the file)' if strict else 'lenient'}"
    yield f"result:    {status}"
    if detail:
        yield f"reason:    {detail}"
    result = report.result
    if result is not None:
        yield f"import:    {result.import_id}"
        yield (
            f"rows:      {result.rows_ok:,} posted ({result.points:,} points), "
            f"{result.rows_skipped:,} already imported, {result.rows_bad:,} bad"
        )
    if report.bad_count:
        yield f"bad rows ({len(report.bad):,} of {report.bad_count:,} shown):"
        for bad in report.bad:
            yield f"  {bad}"


def report_path(target: Path) -> Path:
    """Where the report of a file moved to ``target`` lives."""
    return target.with_name(target.name + REPORT_SUFFIX)


def _staged(target: Path) -> Path:
    return target.with_name("." + report_path(target).name + ".part")


def stage(target: Path, lines: Iterable[str]) -> None:
    """Write the report of ``target`` under its hidden staging name."""
    target.parent.mkdir(exist_ok=True)
    with _staged(target).open("w", encoding="utf-8") as out:
        for line in lines:
            out.write(line + "\n")


def publish(target: Path) -> None:
    """Give the staged report its name (nothing to do if it was published already)."""
    staged = _staged(target)
    if staged.exists():
        os.replace(staged, report_path(target))


def discard(target: Path) -> None:
    _staged(target).unlink(missing_ok=True)
