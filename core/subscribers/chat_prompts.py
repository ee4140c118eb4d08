"""What a chat's next text answers: the bot asked for a search keyword or a question.

One pending prompt per chat, short-lived; taking it deletes it in the same unit
of work as the answer, so a redelivered update cannot answer it twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, select

from core.platform.schema import chat_prompt
from core.platform.sql import insert_ignoring

PROMPT_SECONDS = 10 * 60


@dataclass(frozen=True)
class Prompt:
    kind: str
    arg: str


def ask(conn: Connection, chat_id: int, kind: str, arg: str, now: int) -> None:
    conn.execute(delete(chat_prompt).where(chat_prompt.c.chat_id == chat_id))
    conn.execute(
        insert_ignoring(conn, chat_prompt, "chat_id").values(
            chat_id=chat_id, kind=kind, arg=arg, expires_at=now + PROMPT_SECONDS
        )
    )


def take(conn: Connection, chat_id: int, now: int) -> Prompt | None:
    """The live prompt of ``chat_id``, removed; None when there is none."""
    row = conn.execute(
        select(chat_prompt.c.kind, chat_prompt.c.arg, chat_prompt.c.expires_at).where(
            chat_prompt.c.chat_id == chat_id
        )
    ).first()
    if row is None:
        return None
    conn.execute(delete(chat_prompt).where(chat_prompt.c.chat_id == chat_id))
    return Prompt(row[0], row[1]) if now < row[2] else None


def pending(conn: Connection, chat_id: int, now: int) -> bool:
    row = conn.execute(
        select(chat_prompt.c.expires_at).where(chat_prompt.c.chat_id == chat_id)
    ).first()
    return row is not None and now < row[0]
