"""What a subscriber's next message may continue: a MORE page, a pending confirmation."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, delete, insert, select

from core.schema import conversation


@dataclass(frozen=True)
class State:
    kind: str
    payload: str


def current(conn: Connection, subscriber_id: int, now: int) -> State | None:
    row = conn.execute(
        select(conversation.c.kind, conversation.c.payload).where(
            and_(conversation.c.subscriber_id == subscriber_id, conversation.c.expires_at > now)
        )
    ).first()
    return State(row.kind, row.payload) if row else None


def remember(conn: Connection, subscriber_id: int, state: State, expires_at: int) -> None:
    forget(conn, subscriber_id)
    conn.execute(
        insert(conversation).values(
            subscriber_id=subscriber_id,
            kind=state.kind,
            payload=state.payload,
            expires_at=expires_at,
        )
    )


def forget(conn: Connection, subscriber_id: int) -> None:
    conn.execute(delete(conversation).where(conversation.c.subscriber_id == subscriber_id))
