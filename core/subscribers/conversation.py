"""What a subscriber's next message may continue: a MORE page, a pending confirmation."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, bindparam, delete, insert, select

from core.platform.prepared import Prepared
from core.platform.schema import conversation


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


def current(conn: Connection, subscriber_id: int, now: int) -> State | None:
    row = _CURRENT.first(conn, sid=subscriber_id, now=now)
    return State(row[0], row[1]) if row else None


def remember(conn: Connection, subscriber_id: int, state: State, expires_at: int) -> None:
    forget(conn, subscriber_id)
    _REMEMBER.run(
        conn, sid=subscriber_id, kind=state.kind, payload=state.payload, expires_at=expires_at
    )


def forget(conn: Connection, subscriber_id: int) -> None:
    _FORGET.run(conn, sid=subscriber_id)
