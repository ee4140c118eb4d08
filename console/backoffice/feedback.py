"""Moderation pages (§2.2.13/19 messages, §2.2.18 questions, §2.2.17 reviews; issue 16 §1):
staff read what subscribers left and reply (the reply goes back to the chat or number through
the outbox), answer questions about goods, and hide or show reviews — through
``core.feedback`` (the admin API's functions), audited there."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from aiohttp import web
from aiohttp_session import Session
from sqlalchemy import Connection

from console.backoffice.access import CAN
from console.backoffice.desk import (
    Desk,
    Fields,
    Operator,
    attempt,
    bad_fields,
    done,
    offset_of,
    page_number,
    windowed,
)
from console.backoffice.refusals import Refusal
from core.feedback import messages, questions, reviews
from core.platform.errors import NotFound
from core.platform.schema import REVIEW_STATUSES

READ = CAN["feedback.read"]
REPLY = CAN["feedback.reply"]
MODERATE = CAN["feedback.moderate"]
ID = r"/{id:\d{1,12}}"
MESSAGE_STATUSES = (messages.OPEN, messages.REPLIED)


class FeedbackPages:
    """``/messages``, ``/questions`` and ``/ratings`` (reviews of goods) under ``/console/ops``."""

    def __init__(self, desk: Desk, ops: str) -> None:
        self.desk = desk
        self.ops = ops

    def routes(self) -> list[web.RouteDef]:
        page, ops = self.desk.page, self.ops
        return [
            web.get(f"{ops}/messages", page(self.messages, roles=READ)),
            web.post(f"{ops}/messages" + ID + "/reply", page(self.reply, roles=REPLY)),
            web.get(f"{ops}/questions", page(self.questions, roles=READ)),
            web.post(f"{ops}/questions" + ID + "/answer", page(self.answer, roles=REPLY)),
            web.get(f"{ops}/ratings", page(self.ratings, roles=READ)),
            web.post(
                f"{ops}/ratings" + ID + "/{action:hide|show}", page(self.visibility, roles=MODERATE)
            ),
        ]

    async def messages(
        self,
        request: web.Request,
        session: Session,
        op: Operator,
        *,
        status: int = 200,
        error: str | None = None,
        args: dict[str, Any] | None = None,
    ) -> web.Response:
        """Messages newest first (open or replied), each with its replies and a reply form."""
        chosen = request.query.get("status", "")
        chosen = chosen if chosen in MESSAGE_STATUSES else ""
        number = page_number(request.query)
        rows = await self.desk.db.read(
            partial(
                messages.staff_list,
                status=chosen or None,
                limit=21,
                offset=offset_of(number),
            )
        )
        return self.desk.render(
            request,
            session,
            "ops_messages.html",
            op=op,
            status=status,
            found=windowed(rows, number),
            statuses=MESSAGE_STATUSES,
            chosen=chosen,
            error=error,
            args=args or {},
        )

    async def questions(
        self,
        request: web.Request,
        session: Session,
        op: Operator,
        *,
        status: int = 200,
        error: str | None = None,
        args: dict[str, Any] | None = None,
    ) -> web.Response:
        """Questions about goods, oldest first (only the unanswered ones if asked)."""
        unanswered = request.query.get("unanswered") == "1"
        number = page_number(request.query)
        rows = await self.desk.db.read(
            partial(questions.listing, unanswered=unanswered, limit=21, offset=offset_of(number))
        )
        return self.desk.render(
            request,
            session,
            "ops_questions.html",
            op=op,
            status=status,
            found=windowed(rows, number),
            unanswered=unanswered,
            error=error,
            args=args or {},
        )

    async def ratings(
        self,
        request: web.Request,
        session: Session,
        op: Operator,
        *,
        status: int = 200,
        error: str | None = None,
        args: dict[str, Any] | None = None,
    ) -> web.Response:
        """Reviews of goods newest first (visible or hidden), with hide and show."""
        chosen = request.query.get("status", "")
        chosen = chosen if chosen in REVIEW_STATUSES else ""
        number = page_number(request.query)
        rows = await self.desk.db.read(
            partial(reviews.staff_list, status=chosen or None, limit=21, offset=offset_of(number))
        )
        return self.desk.render(
            request,
            session,
            "ops_ratings.html",
            op=op,
            status=status,
            found=windowed(rows, number),
            statuses=REVIEW_STATUSES,
            chosen=chosen,
            error=error,
            args=args or {},
        )

    async def _act(
        self,
        request: web.Request,
        session: Session,
        op: Operator,
        again: Callable[..., Any],
        unit: Callable[..., Any],
        where: str,
        key: str,
        **args: object,
    ) -> web.StreamResponse:
        outcome = await attempt(self.desk, unit)
        if isinstance(outcome, Refusal):
            response: web.Response = await again(
                request, session, op, status=outcome.status, error=outcome.key, args=outcome.args
            )
            return response
        raise done(session, f"{self.desk.prefix}/{where}", key, **args)

    async def reply(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Reply to a message; the reply is queued back to its chat or number."""
        f = Fields(await request.post())
        text = f.text("text", messages.MAX_TEXT)
        message_id = int(request.match_info["id"])
        if not f.ok:
            t = self.desk.words(request, session)
            return await self.messages(
                request, session, op, status=400, error="bo_bad_fields", args=bad_fields(t, f)
            )
        unit = partial(
            messages.reply,
            message_id=message_id,
            staff=op.member.name,
            text=text,
            now=self.desk.now(),
        )
        return await self._act(
            request, session, op, self.messages, unit, "messages", "bo_replied", id=message_id
        )

    async def answer(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Answer (or correct the answer to) a question about goods."""
        f = Fields(await request.post())
        text = f.text("text", 2000)
        question_id = int(request.match_info["id"])
        if not f.ok:
            t = self.desk.words(request, session)
            return await self.questions(
                request, session, op, status=400, error="bo_bad_fields", args=bad_fields(t, f)
            )
        unit = partial(
            questions.answer,
            question_id=question_id,
            text=text,
            by=op.member.name,
            now=self.desk.now(),
        )
        return await self._act(
            request, session, op, self.questions, unit, "questions", "bo_answered", id=question_id
        )

    async def visibility(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Hide a review from the mall, or show it again."""
        review_id = int(request.match_info["id"])
        wanted = "hidden" if request.match_info["action"] == "hide" else "visible"
        by, now = op.member.name, self.desk.now()

        def unit(conn: Connection) -> bool:
            if not reviews.set_visibility(conn, review_id, wanted, by, now):
                raise NotFound("review", str(review_id))
            return True

        return await self._act(
            request, session, op, self.ratings, unit, "ratings", f"bo_review_{wanted}", id=review_id
        )
