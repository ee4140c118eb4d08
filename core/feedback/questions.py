"""Questions about goods (§2.2.18): a customer asks, operator staff answer, everyone reads.

An item's screen shows its answered questions; the asker sees their own with or
without an answer ("my questions"). Staff list the unanswered ones and answer
from the command line; every answer is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, func, select, update

from core.feedback.errors import BadQuestion, UnknownQuestion
from core.platform import audit
from core.platform.schema import item, question, subscriber

MAX_TEXT = 500
MIN_TEXT = 2


@dataclass(frozen=True)
class QuestionView:
    id: int
    item_code: str
    item_zh: str
    item_en: str
    asker: str
    text: str
    asked_at: int
    answer: str | None
    answered_by: str | None
    answered_at: int | None

    def item_name(self, lang: str) -> str:
        return self.item_en if lang == "en" else self.item_zh


def _query() -> Any:
    return select(
        question.c.id,
        item.c.code,
        item.c.name_zh,
        item.c.name_en,
        subscriber.c.msisdn,
        question.c.text,
        question.c.asked_at,
        question.c.answer,
        question.c.answered_by,
        question.c.answered_at,
    ).select_from(
        question.join(item, item.c.id == question.c.item_id).join(
            subscriber, subscriber.c.id == question.c.subscriber_id
        )
    )


def _views(conn: Connection, query: Any) -> list[QuestionView]:
    return [QuestionView(*row) for row in conn.execute(query)]


def ask(conn: Connection, subscriber_id: int, item_id: int, text: str, now: int) -> int:
    """Store a question about ``item_id``; staff see it in ``question list --unanswered``."""
    clean = " ".join(text.split())
    if not MIN_TEXT <= len(clean) <= MAX_TEXT:
        raise BadQuestion(len(clean), MIN_TEXT, MAX_TEXT)
    return int(
        conn.execute(
            question.insert()
            .values(item_id=item_id, subscriber_id=subscriber_id, text=clean, asked_at=now)
            .returning(question.c.id)
        ).scalar_one()
    )


def answer(conn: Connection, question_id: int, text: str, by: str, now: int) -> QuestionView:
    """Answer (or correct the answer to) a question; audited."""
    clean = text.strip()
    if not clean:
        raise BadQuestion(0, MIN_TEXT, MAX_TEXT)
    changed = conn.execute(
        update(question)
        .where(question.c.id == question_id)
        .values(answer=clean[: MAX_TEXT * 4], answered_by=by, answered_at=now)
    ).rowcount
    if changed != 1:
        raise UnknownQuestion(question_id)
    audit.record(
        conn,
        actor_kind="operator",
        actor=by,
        action="question_answer",
        subject=f"question:{question_id}",
        result="ok",
        now=now,
    )
    [found] = _views(conn, _query().where(question.c.id == question_id))
    return found


def for_item(
    conn: Connection, item_id: int, *, offset: int = 0, limit: int = 5
) -> tuple[list[QuestionView], int]:
    """The answered questions about an item, latest answer first; also how many there are."""
    where = and_(question.c.item_id == item_id, question.c.answered_at.is_not(None))
    total = conn.execute(select(func.count()).select_from(question).where(where)).scalar_one()
    rows = _views(
        conn,
        _query()
        .where(where)
        .order_by(question.c.answered_at.desc(), question.c.id.desc())
        .offset(offset)
        .limit(limit),
    )
    return rows, int(total)


def mine(
    conn: Connection, subscriber_id: int, *, offset: int = 0, limit: int = 5
) -> tuple[list[QuestionView], int]:
    """A subscriber's own questions, newest first, answered or not."""
    where = question.c.subscriber_id == subscriber_id
    total = conn.execute(select(func.count()).select_from(question).where(where)).scalar_one()
    rows = _views(
        conn, _query().where(where).order_by(question.c.id.desc()).offset(offset).limit(limit)
    )
    return rows, int(total)


def listing(
    conn: Connection, *, unanswered: bool = False, limit: int = 200, offset: int = 0
) -> list[QuestionView]:
    """For staff: questions oldest first (only the unanswered ones if asked), ``limit`` of
    them from ``offset``."""
    query = _query()
    if unanswered:
        query = query.where(question.c.answered_at.is_(None))
    return _views(conn, query.order_by(question.c.id).offset(offset).limit(limit))
