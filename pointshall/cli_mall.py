"""``pointshall question …`` and ``pointshall photo …``: the mall's questions and pictures
(§2.2.18, §2.2.1, §2.2.9)."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Connection, select

from core.backoffice import duties
from core.catalogue import photos
from core.feedback import questions
from core.feedback.errors import QuestionError
from core.platform.clock import epoch
from core.platform.schema import activity, banner, item
from pointshall.bootstrap import Services
from pointshall.cli_support import err, out, run_with_services

question_app = typer.Typer(help="Questions customers asked about goods.", no_args_is_help=True)
photo_app = typer.Typer(help="Pictures of items and banners.", no_args_is_help=True)

By = Annotated[
    str, typer.Option("--by", help="The operator staff member answering (their role is checked).")
]


@question_app.command("list")
def question_list(
    unanswered: Annotated[bool, typer.Option(help="Only those waiting for an answer.")] = False,
) -> None:
    """List questions, oldest first: id, item, asker, question, answer."""

    async def job(services: Services) -> list[questions.QuestionView]:
        return await services.db.read(partial(questions.listing, unanswered=unanswered))

    found = run_with_services(job)
    for q in found:
        asked = datetime.fromtimestamp(q.asked_at).strftime("%Y-%m-%d %H:%M")
        out.print(f"#{q.id} {q.item_code} {q.asker} {asked}: {q.text}", markup=False)
        if q.answer is not None:
            out.print(f"    answer ({q.answered_by}): {q.answer}", markup=False)
    if not found:
        out.print("no questions")


@question_app.command("answer")
def question_answer(
    question_id: Annotated[int, typer.Argument(help="The question's id (see question list).")],
    text: Annotated[str, typer.Argument(help="The answer, shown with the item.")],
    by: By,
) -> None:
    """Answer a question; the answer shows on the item and in the asker's "my questions"."""

    async def job(services: Services) -> questions.QuestionView:
        now = epoch(services.clock.now())

        def unit(conn: Connection) -> questions.QuestionView:
            answerer = duties.acting(conn, by, duties.QUESTION_ANSWER)
            return questions.answer(
                conn, question_id=question_id, text=text, by=answerer.name, now=now
            )

        return await services.db.write(unit)

    try:
        done = run_with_services(job)
    except QuestionError as exc:
        err.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(1) from None
    out.print(f"question {done.id} about {done.item_code} answered", markup=False)


def _put(conn: Connection, kind: str, code: str, data: bytes, now: int) -> str:
    if kind == "item":
        found = conn.execute(select(item.c.id).where(item.c.code == code.upper())).scalar()
        subject = None if found is None else photos.item_subject(int(found))
    else:
        found = conn.execute(
            select(banner.c.id)
            .join(activity, activity.c.id == banner.c.activity_id)
            .where(activity.c.code == code.upper())
        ).scalar()
        subject = None if found is None else photos.banner_subject(int(found))
    if subject is None:
        raise LookupError(f"no {kind} {code}")
    photos.put(conn, subject, data, now)
    return subject


@photo_app.command("set")
def photo_set(
    kind: Annotated[str, typer.Argument(help="item or banner")],
    code: Annotated[str, typer.Argument(help="The item's code, or the banner's activity code.")],
    picture: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="PNG or JPEG.")],
) -> None:
    """Give an item or a banner its picture (shown in the chat)."""
    if kind not in ("item", "banner"):
        err.print("kind is item or banner")
        raise typer.Exit(2)
    data = picture.read_bytes()

    async def job(services: Services) -> str:
        now = epoch(services.clock.now())
        return await services.db.write(partial(_put, kind=kind, code=code, data=data, now=now))

    try:
        subject = run_with_services(job)
    except (LookupError, photos.NotAPicture) as exc:
        err.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(1) from None
    out.print(f"picture of {subject} stored ({len(data):,} bytes)")
