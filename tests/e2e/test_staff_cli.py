"""``pointshall staff …`` (issue 8, issue 13 §3): the token is printed once, works against the
admin API's check and stops working when the member is disabled; an installation's first two
admins are set up without ``--by``, every other change names the admin making it, and beyond
``POINTSHALL_STAFF_CHANGES_PER_DAY`` a change waits for a second, independent admin."""

from __future__ import annotations

import re

from core.backoffice import operator_staff
from pointshall.bootstrap import bootstrap
from tests.support.cli import Ran, pointshall
from tests.support.settings import make_settings


async def authenticates(database_url: str, token: str) -> str | None:
    services = await bootstrap(make_settings(database_url), upgrade=False)
    try:
        member = await services.db.read(
            lambda conn: operator_staff.authenticate(conn, services.keyring, token)
        )
    finally:
        await services.close()
    return None if member is None else member.role


def refused(ran: Ran, words: str) -> None:
    assert ran.returncode == 1, (ran.args, ran.stdout, ran.stderr)
    assert "refused" in ran.stderr and words in ran.stderr, (ran.args, ran.stderr)


async def test_add_list_disable_enable_role(database_url: str) -> None:
    root = pointshall(database_url, "staff", "add", "root", "--role", "admin")
    assert root.returncode == 0, root.stderr
    assert pointshall(database_url, "staff", "add", "boss", "--role", "admin").returncode == 0
    refused(pointshall(database_url, "staff", "add", "third", "--role", "admin"), "--by")

    made = pointshall(database_url, "staff", "add", "alice", "--role", "finance", "--by", "root")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("psa_") and "shown only now" in made.stderr
    assert await authenticates(database_url, token) == "finance"
    twice = pointshall(database_url, "staff", "add", "alice", "--role", "admin", "--by", "root")
    refused(twice, "already exists")
    wrong = pointshall(database_url, "staff", "add", "bob", "--role", "root", "--by", "root")
    refused(wrong, "unknown role")
    not_admin = pointshall(database_url, "staff", "add", "eve", "--role", "admin", "--by", "alice")
    refused(not_admin, "alice (finance) may not staff manage")
    listed = pointshall(database_url, "staff", "list")
    assert "alice" in listed.stdout and "finance" in listed.stdout
    assert token not in listed.stdout

    assert pointshall(database_url, "staff", "disable", "alice").returncode == 2  # --by needed
    refused(pointshall(database_url, "staff", "disable", "root", "--by", "root"), "own")
    off = pointshall(database_url, "staff", "disable", "alice", "--by", "root")
    assert off.returncode == 0 and "disabled" in off.stdout, off.stderr
    assert await authenticates(database_url, token) is None
    on = pointshall(database_url, "staff", "enable", "alice", "--by", "boss")
    assert on.returncode == 0 and "active" in on.stdout, on.stderr
    assert await authenticates(database_url, token) == "finance"
    moved = pointshall(database_url, "staff", "role", "alice", "support", "--by", "boss")
    assert moved.returncode == 0 and "support" in moved.stdout, moved.stderr
    assert await authenticates(database_url, token) == "support"
    history = pointshall(database_url, "staff", "changes", "--all")
    rows = [line.split() for line in history.stdout.splitlines()]
    assert any({"alice", "role", "support", "done", "boss"} <= set(row) for row in rows), rows


async def test_beyond_the_daily_limit_a_second_admin_approves(database_url: str) -> None:
    env = {"POINTSHALL_STAFF_CHANGES_PER_DAY": "1"}
    for name in ("root", "boss"):
        assert pointshall(database_url, "staff", "add", name, "--role", "admin").returncode == 0
    first = pointshall(
        database_url, "staff", "add", "f1", "--role", "finance", "--by", "root", env=env
    )
    assert first.returncode == 0 and "created" in first.stderr
    second = pointshall(
        database_url, "staff", "add", "f2", "--role", "finance", "--by", "root", env=env
    )
    assert second.returncode == 0, second.stderr
    assert "waits for a second admin" in second.stdout and "works once approved" in second.stderr
    token = second.stdout.strip().splitlines()[-1]
    assert await authenticates(database_url, token) is None
    change = re.search(r"staff change (\d+)", second.stdout)
    assert change is not None
    waiting = pointshall(database_url, "staff", "changes")
    assert "f2" in waiting.stdout and "pending" in waiting.stdout
    refused(pointshall(database_url, "staff", "approve", change[1], "--by", "root"), "same person")
    refused(pointshall(database_url, "staff", "approve", change[1], "--by", "f1"), "may not")
    approved = pointshall(database_url, "staff", "approve", change[1], "--by", "boss")
    assert approved.returncode == 0 and "f2: finance, active" in approved.stdout
    assert await authenticates(database_url, token) == "finance"
    again = pointshall(database_url, "staff", "approve", change[1], "--by", "boss")
    refused(again, "not pending")
