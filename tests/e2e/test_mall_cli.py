"""``pointshall question …`` and ``pointshall photo set`` as an operator uses them (§2.2.18,
§2.2.1): list the unanswered questions, answer one, give an item its picture."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Connection, select

from core.feedback import questions
from core.platform.clock import ManualClock, epoch
from core.platform.schema import item, photo
from core.subscribers.subscribers import get_or_create
from pointshall.bootstrap import bootstrap
from pointshall.demo_pictures import card
from tests.support.cli import pointshall
from tests.support.helpers import seed_catalog
from tests.support.settings import make_settings


async def test_list_and_answer_questions_and_set_a_picture(
    database_url: str, clock: ManualClock, tmp_path: Path
) -> None:
    services = await bootstrap(make_settings(database_url), clock=clock, upgrade=False)
    try:
        await seed_catalog(services)
        now = epoch(clock.now())

        def ask(conn: Connection) -> int:
            who = get_or_create(conn, "+8613800138000", now)
            flask = conn.execute(select(item.c.id).where(item.c.code == "2001")).scalar_one()
            return questions.ask(conn, who.id, int(flask), "能装热水吗?", now)

        asked = await services.db.write(ask)
    finally:
        await services.close()

    def ok(*args: str) -> str:
        done = pointshall(database_url, *args)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    ok("staff", "add", "ops-li", "--role", "support")
    waiting = ok("question", "list", "--unanswered")
    assert re.search(rf"#{asked} 2001 \+8613800138000 .*: 能装热水吗?", waiting), waiting
    assert f"question {asked} about 2001 answered" in ok(
        "question", "answer", str(asked), "可以,保温12小时。", "--by", "ops-li"
    )
    assert ok("question", "list", "--unanswered").strip() == "no questions"
    assert "answer (ops-li): 可以,保温12小时。" in ok("question", "list")
    missing = pointshall(database_url, "question", "answer", "999", "x", "--by", "ops-li")
    assert missing.returncode == 1 and "no question 999" in missing.stderr

    picture = tmp_path / "flask.png"
    picture.write_bytes(card("Flask", "2001"))
    assert "picture of item:" in ok("photo", "set", "item", "2001", str(picture))
    not_a_picture = tmp_path / "notes.txt"
    not_a_picture.write_text("hello")
    refused = pointshall(database_url, "photo", "set", "item", "2001", str(not_a_picture))
    assert refused.returncode == 1 and "not a PNG or JPEG" in refused.stderr

    services = await bootstrap(make_settings(database_url), clock=clock, upgrade=False)
    try:
        stored = await services.db.read(
            lambda conn: conn.execute(select(photo.c.subject, photo.c.data)).all()
        )
    finally:
        await services.close()
    assert [(s, bytes(d)) for s, d in stored] == [(stored[0][0], picture.read_bytes())]
