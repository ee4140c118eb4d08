"""``pointshall staff add|list|disable`` (issue 8): the token is printed once, works against
the admin API's check, and stops working when the member is disabled."""

from __future__ import annotations

from core.backoffice import operator_staff
from pointshall.bootstrap import bootstrap
from tests.support.cli import pointshall
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


async def test_add_list_disable(database_url: str) -> None:
    made = pointshall(database_url, "staff", "add", "alice", "--role", "finance")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("psa_") and "shown only now" in made.stderr
    assert await authenticates(database_url, token) == "finance"
    twice = pointshall(database_url, "staff", "add", "alice", "--role", "admin")
    assert twice.returncode == 1 and "already exists" in twice.stderr
    wrong = pointshall(database_url, "staff", "add", "bob", "--role", "root")
    assert wrong.returncode == 1 and "unknown role" in wrong.stderr
    listed = pointshall(database_url, "staff", "list")
    assert "alice" in listed.stdout and "finance" in listed.stdout
    assert token not in listed.stdout
    assert pointshall(database_url, "staff", "disable", "alice").returncode == 0
    assert await authenticates(database_url, token) is None
