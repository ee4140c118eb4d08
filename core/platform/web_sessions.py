"""Console sessions kept server-side, so that ending one really ends it (issue 13 §4).

The console's cookie is encrypted and signed, but a cookie alone cannot be taken back:
a copy made before logout would still open the pages. So each login also starts a row
here; the cookie carries a random session id (32 bytes, URL-safe) and the row only its
keyed hash. A page is served only while the row is live. Logout ends the row; removing
a phone from a merchant's staff ends every merchant session of that phone; disabling an
operator staff member ends every operator session of that member.

``kind`` is ``merchant`` (``who`` is the staff phone, E.164) or ``operator`` (``who`` is
the staff member's id). Times are UTC epoch seconds.
"""

from __future__ import annotations

import secrets

from sqlalchemy import Connection, and_, delete, or_, select, update

from core.platform.codes import Keyring
from core.platform.schema import web_session

PURPOSE = "web-session"
TOKEN_BYTES = 32
KEEP_SECONDS = 2 * 24 * 3600
"""Rows older than this (longer than any session may live) are dropped at the next login."""
KINDS = ("merchant", "operator")


def start(conn: Connection, keyring: Keyring, *, kind: str, who: str, now: int) -> str:
    """Start a session for ``who`` and return its id, for the cookie only (never stored)."""
    if kind not in KINDS:
        raise ValueError(f"unknown session kind {kind!r}")
    conn.execute(
        delete(web_session).where(
            and_(
                web_session.c.kind == kind,
                web_session.c.who == who,
                or_(
                    web_session.c.ended_at.is_not(None),
                    web_session.c.started_at < now - KEEP_SECONDS,
                ),
            )
        )
    )
    session_id = secrets.token_urlsafe(TOKEN_BYTES)
    conn.execute(
        web_session.insert().values(
            id_hash=keyring.digest(PURPOSE, session_id), kind=kind, who=who, started_at=now
        )
    )
    return session_id


def alive(conn: Connection, keyring: Keyring, session_id: str, *, kind: str, who: str) -> bool:
    """Whether ``session_id`` is a live session of ``who`` (not ended, not someone else's)."""
    if not session_id or len(session_id) > 2 * TOKEN_BYTES:
        return False
    row = conn.execute(
        select(web_session.c.kind, web_session.c.who).where(
            and_(
                web_session.c.id_hash == keyring.digest(PURPOSE, session_id),
                web_session.c.ended_at.is_(None),
            )
        )
    ).first()
    return row is not None and row[0] == kind and row[1] == who


def end(conn: Connection, keyring: Keyring, session_id: str, now: int) -> bool:
    """End one session (logout); False when it was not live."""
    if not session_id or len(session_id) > 2 * TOKEN_BYTES:
        return False
    done = conn.execute(
        update(web_session)
        .where(
            and_(
                web_session.c.id_hash == keyring.digest(PURPOSE, session_id),
                web_session.c.ended_at.is_(None),
            )
        )
        .values(ended_at=now)
    )
    return int(done.rowcount) == 1


def end_all(conn: Connection, *, kind: str, who: str, now: int) -> int:
    """End every live session of ``who`` (removed from staff, disabled); how many."""
    done = conn.execute(
        update(web_session)
        .where(
            and_(
                web_session.c.kind == kind,
                web_session.c.who == who,
                web_session.c.ended_at.is_(None),
            )
        )
        .values(ended_at=now)
    )
    return int(done.rowcount)
