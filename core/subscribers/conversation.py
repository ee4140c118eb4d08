"""What a subscriber's next message may continue: a MORE page, a pending confirmation."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    and_,
    bindparam,
    delete,
    exists,
    insert,
    select,
)

from core.platform.db import unit_memo
from core.platform.prepared import Prepared
from core.platform.schema import conversation, subscriber


@dataclass(frozen=True)
class State:
    kind: str
    payload: str


_CURRENT = Prepared(
    select(conversation.c.kind, conversation.c.payload).where(
        and_(
            conversation.c.subscriber_id == bindparam("sid"),
            conversation.c.expires_at > bindparam("now"),
        )
    )
)
_FORGET = Prepared(delete(conversation).where(conversation.c.subscriber_id == bindparam("sid")))
_REMEMBER = Prepared(
    insert(conversation).values(
        subscriber_id=bindparam("sid"),
        kind=bindparam("kind"),
        payload=bindparam("payload"),
        expires_at=bindparam("expires_at"),
    )
)


def exists_column(msisdn: BindParameter[str]) -> ColumnElement[bool]:
    """A peek column (``core.messaging.inbound.Claimer``): whether the subscriber of
    ``msisdn`` has a conversation row (expired or not); ``note_absent`` takes its answer."""
    return exists().where(
        and_(conversation.c.subscriber_id == subscriber.c.id, subscriber.c.msisdn == msisdn)
    )


_ABSENT = "conversation.absent"


def note_absent(conn: Connection, subscriber_id: int) -> None:
    """The subscriber has no conversation row now (read in this unit of work): ``forget``
    need not delete one until ``remember`` makes one (issue 15 §2: a JF made a ``DELETE``
    that found nothing)."""
    unit_memo(conn).setdefault(_ABSENT, set()).add(subscriber_id)


def current(conn: Connection, subscriber_id: int, now: int) -> State | None:
    row = _CURRENT.first(conn, sid=subscriber_id, now=now)
    return State(row[0], row[1]) if row else None


def remember(conn: Connection, subscriber_id: int, state: State, expires_at: int) -> None:
    forget(conn, subscriber_id)
    unit_memo(conn).get(_ABSENT, set()).discard(subscriber_id)
    _REMEMBER.run(
        conn, sid=subscriber_id, kind=state.kind, payload=state.payload, expires_at=expires_at
    )


def forget(conn: Connection, subscriber_id: int) -> None:
    if subscriber_id in unit_memo(conn).get(_ABSENT, ()):
        return
    _FORGET.run(conn, sid=subscriber_id)
