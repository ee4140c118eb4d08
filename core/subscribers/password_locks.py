"""Wrong points passwords at a till, counted per terminal and subscriber (§3.6.3, issue 13 §4).

A lock-out must not be a denial-of-service tool: before, five wrong passwords at any
merchant's terminal refused the subscriber's payments everywhere. Now ``MAX_WRONG`` wrong
passwords in a row at one terminal pause that terminal only, for that subscriber, with a
back-off that doubles each time (``BACKOFF_SECONDS``, 15 minutes, up to ``MAX_BACKOFF``, a
day); every other till still takes the subscriber's payments. A right password at the
terminal starts its count again; the subscriber lifts every pause at once by setting new
passwords (``MM``, ``clear_all``), and is told by SMS of each pause (by the caller,
``core.payments.pos``). Guessing is still bounded: each terminal gets five tries, then
waits 15 minutes, 30, an hour… — about 35 guesses a day per terminal, where one password
is one of a million. Times are UTC epoch seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, delete, select, update

from core.platform.schema import pos_lockout
from core.platform.sql import insert_ignoring

MAX_WRONG = 5
BACKOFF_SECONDS = 15 * 60
MAX_BACKOFF = 24 * 3600


@dataclass(frozen=True)
class Wrong:
    """After one more wrong password: tries left before a pause, and the pause if one began."""

    tries_left: int
    paused_seconds: int = 0
    """How long this terminal is now paused for the subscriber (0: not paused)."""


def backoff(locks: int) -> int:
    """Seconds of the ``locks``-th pause (1-based): 15 minutes, doubling, at most a day."""
    return min(BACKOFF_SECONDS << max(locks - 1, 0), MAX_BACKOFF)


def paused_for(conn: Connection, terminal_ref: int, subscriber_id: int, now: int) -> int:
    """Seconds until terminal ``terminal_ref`` may take this subscriber's password again
    (0: it may now)."""
    until = conn.execute(
        select(pos_lockout.c.locked_until).where(
            and_(
                pos_lockout.c.terminal_ref == terminal_ref,
                pos_lockout.c.subscriber_id == subscriber_id,
            )
        )
    ).scalar_one_or_none()
    return max(0, int(until or 0) - now)


def count_wrong(conn: Connection, terminal_ref: int, subscriber_id: int, now: int) -> Wrong:
    """Count one wrong password at ``terminal_ref``; the ``MAX_WRONG``-th in a row pauses it."""
    conn.execute(
        insert_ignoring(conn, pos_lockout, "terminal_ref", "subscriber_id").values(
            terminal_ref=terminal_ref, subscriber_id=subscriber_id, updated_at=now
        )
    )
    where = and_(
        pos_lockout.c.terminal_ref == terminal_ref, pos_lockout.c.subscriber_id == subscriber_id
    )
    wrong, locks = conn.execute(
        update(pos_lockout)
        .where(where)
        .values(wrong=pos_lockout.c.wrong + 1, updated_at=now)
        .returning(pos_lockout.c.wrong, pos_lockout.c.locks)
    ).one()
    if int(wrong) < MAX_WRONG:
        return Wrong(MAX_WRONG - int(wrong))
    pause = backoff(int(locks) + 1)
    conn.execute(
        update(pos_lockout)
        .where(where)
        .values(wrong=0, locks=pos_lockout.c.locks + 1, locked_until=now + pause)
    )
    return Wrong(0, pause)


def clear(conn: Connection, terminal_ref: int, subscriber_id: int) -> None:
    """A right password at ``terminal_ref``: its count and back-off start again."""
    conn.execute(
        delete(pos_lockout).where(
            and_(
                pos_lockout.c.terminal_ref == terminal_ref,
                pos_lockout.c.subscriber_id == subscriber_id,
            )
        )
    )


def clear_all(conn: Connection, subscriber_id: int) -> int:
    """New passwords (``MM``): every terminal's count and pause for this subscriber end."""
    done = conn.execute(delete(pos_lockout).where(pos_lockout.c.subscriber_id == subscriber_id))
    return int(done.rowcount)
