"""Counting guesses and code requests in sliding windows (issue 13 §4).

A ``Cap`` says at most ``count`` events in any ``seconds``; a ``Limit`` names a kind of
event (a login code sent, a login code tried) and its caps. ``allowed`` says whether one
more event of that kind against a subject (a phone number, a chat) stays within every
cap; ``record`` counts it. Both run in the caller's unit of work, so a counted try is
committed with the refusal it caused.

The counts are rows of ``throttle_event`` (kind, subject, UTC epoch second), read over an
index; ``record`` drops the rows older than a day and a half, so the table holds only
what a window can still see. What a subject is must not let one person exhaust another's
allowance on a path that person needs (no cross-user lock-out): the callers choose
subjects so that a cap bounds what an attacker can try, and document what it costs the
owner (README, "Guessing limits").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, and_, case, delete, func, select

from core.platform.schema import throttle_event

MINUTE = 60
HOUR = 3600
DAY = 24 * HOUR
KEEP_SECONDS = DAY + DAY // 2


@dataclass(frozen=True)
class Cap:
    """At most ``count`` events in any ``seconds``."""

    count: int
    seconds: int


@dataclass(frozen=True)
class Limit:
    kind: str
    """Names the events counted (``chat-code-number``…); at most 24 characters."""
    caps: tuple[Cap, ...]

    def describe(self) -> str:
        """``"3 an hour, 10 a day"``: for the README and the logs."""
        words = {MINUTE: "a minute", HOUR: "an hour", DAY: "a day"}
        return ", ".join(
            f"{c.count} {words.get(c.seconds, f'per {c.seconds} s')}" for c in self.caps
        )


def counts(conn: Connection, limit: Limit, subject: str, now: int) -> list[int]:
    """How many events of ``limit.kind`` against ``subject`` each cap's window holds now."""
    longest = max(c.seconds for c in limit.caps)
    columns = [
        func.coalesce(func.sum(case((throttle_event.c.at > now - c.seconds, 1), else_=0)), 0)
        for c in limit.caps
    ]
    row = conn.execute(
        select(*columns).where(
            and_(
                throttle_event.c.kind == limit.kind,
                throttle_event.c.subject == subject,
                throttle_event.c.at > now - longest,
            )
        )
    ).one()
    return [int(n) for n in row]


def allowed(conn: Connection, limit: Limit, subject: str, now: int) -> bool:
    """Whether one more event against ``subject`` keeps every cap of ``limit``."""
    found = counts(conn, limit, subject, now)
    return all(n < c.count for n, c in zip(found, limit.caps, strict=True))


def all_allowed(conn: Connection, checks: Sequence[tuple[Limit, str]], now: int) -> bool:
    """``allowed`` for every ``(limit, subject)``."""
    return all(allowed(conn, limit, subject, now) for limit, subject in checks)


def record(conn: Connection, limit: Limit, subject: str, now: int) -> None:
    """Count one event of ``limit.kind`` against ``subject`` at ``now``."""
    conn.execute(delete(throttle_event).where(throttle_event.c.at < now - KEEP_SECONDS))
    conn.execute(throttle_event.insert().values(kind=limit.kind, subject=subject[:64], at=now))


def record_all(conn: Connection, checks: Sequence[tuple[Limit, str]], now: int) -> None:
    """``record`` for every ``(limit, subject)``."""
    for limit, subject in checks:
        record(conn, limit, subject, now)
