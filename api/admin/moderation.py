"""Moderation (§2.2.13/19 messages, §2.2.18 questions, §2.2.17 reviews): staff read the
messages subscribers left and reply (the reply goes back to the chat or number through the
outbox, as ``pointshall message reply`` does), answer questions about goods, and hide or
show reviews. Every change is audited by the ``core`` function it calls."""

from __future__ import annotations

from sqlalchemy import Connection

from api.admin.fields import body, flag, integer, text
from api.admin.registry import Call, Handler, Route
from core.backoffice import duties
from core.feedback import messages, questions, reviews
from core.feedback.messages import MessageView
from core.feedback.questions import QuestionView
from core.feedback.reviews import ReviewView
from core.platform.errors import NotFound
from core.platform.schema import REVIEW_STATUSES

STAFF = duties.DUTIES[duties.MESSAGE_REPLY] | duties.DUTIES[duties.QUESTION_ANSWER]
"""Read everything; reply to messages, answer questions."""
MODERATORS = duties.DUTIES[duties.REVIEW_MODERATE]
"""Hide and show reviews."""
ID = (integer("id", 1, 2**53 - 1),)
LIMIT = integer("limit", 1, 200, required=False)
ANSWER = body(text("text", 2000))


async def list_messages(call: Call) -> list[MessageView]:
    """List messages newest first, each with its replies."""
    return await call.read(
        messages.staff_list, status=call.query.get("status"), limit=call.query.get("limit", 50)
    )


async def get_message(call: Call) -> MessageView:
    """Show a message with its replies."""
    return await call.read(messages.get, message_id=call.path["id"])


async def reply_message(call: Call) -> MessageView:
    """Reply to a message; the reply is queued back to its chat or number."""

    def unit(conn: Connection, message_id: int) -> MessageView:
        messages.reply(
            conn, message_id=message_id, staff=call.staff.name, text=call.body["text"], now=call.now
        )
        return messages.get(conn, message_id)

    return await call.write(unit, message_id=call.path["id"])


async def list_questions(call: Call) -> list[QuestionView]:
    """List questions about goods, oldest first (only the unanswered ones if asked)."""
    return await call.read(
        questions.listing,
        unanswered=call.query.get("unanswered", False),
        limit=call.query.get("limit", 200),
    )


async def answer_question(call: Call) -> QuestionView:
    """Answer (or correct the answer to) a question."""
    return await call.write(
        questions.answer,
        question_id=call.path["id"],
        text=call.body["text"],
        by=call.staff.name,
        now=call.now,
    )


async def list_reviews(call: Call) -> list[ReviewView]:
    """List goods reviews newest first."""
    return await call.read(
        reviews.staff_list, status=call.query.get("status"), limit=call.query.get("limit", 50)
    )


def _visibility(status: str) -> Handler:
    async def handler(call: Call) -> ReviewView:
        def unit(conn: Connection, review_id: int) -> ReviewView:
            reviews.set_visibility(conn, review_id, status, call.staff.name, call.now)
            found = reviews.get(conn, review_id)
            if found is None:
                raise NotFound("review", str(review_id))
            return found

        return await call.write(unit, review_id=call.path["id"])

    handler.__doc__ = f"Make a review {status}."
    return handler


hide_review = _visibility("hidden")
show_review = _visibility("visible")

TAG = "moderation"
ROUTES = (
    Route(
        "GET",
        "/messages",
        list_messages,
        STAFF,
        "list messages",
        TAG,
        list[MessageView],
        query=(text("status", 8, enum=(messages.OPEN, messages.REPLIED), required=False), LIMIT),
    ),
    Route("GET", "/messages/{id}", get_message, STAFF, "show a message", TAG, MessageView, ID),
    Route(
        "POST",
        "/messages/{id}/reply",
        reply_message,
        STAFF,
        "reply to a message",
        TAG,
        MessageView,
        ID,
        body=body(text("text", messages.MAX_TEXT * 4)),
    ),
    Route(
        "GET",
        "/questions",
        list_questions,
        STAFF,
        "list questions about goods",
        TAG,
        list[QuestionView],
        query=(flag("unanswered", required=False), LIMIT),
    ),
    Route(
        "POST",
        "/questions/{id}/answer",
        answer_question,
        STAFF,
        "answer a question",
        TAG,
        QuestionView,
        ID,
        body=ANSWER,
    ),
    Route(
        "GET",
        "/reviews",
        list_reviews,
        STAFF,
        "list goods reviews",
        TAG,
        list[ReviewView],
        query=(text("status", 8, enum=REVIEW_STATUSES, required=False), LIMIT),
    ),
    Route(
        "POST", "/reviews/{id}/hide", hide_review, MODERATORS, "hide a review", TAG, ReviewView, ID
    ),
    Route(
        "POST", "/reviews/{id}/show", show_review, MODERATORS, "show a review", TAG, ReviewView, ID
    ),
)
