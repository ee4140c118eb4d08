"""The command line never shows a traceback for an expected failure (issue 14 item 6).

Every command runs on a new database (no file yet), an empty one (migrated, no data) and
one not yet migrated (at the first revision), and with a missing file or a bad argument:
each either succeeds, or prints what went wrong on stderr (one line; click's usage errors
keep their short box) and exits non-zero. ``--debug`` shows the traceback. On PostgreSQL:
a database that does not exist, one with no tables, and an unreachable server.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from core.platform.db import open_database
from pointshall import migrate
from tests.conftest import PG_URL, run_blocking
from tests.support.cli import Ran, pointshall
from tests.support.pg import dsn

MISSING = "no-such-file.csv"
PHONE = "+8613800138000"
COMMANDS: list[tuple[str, ...]] = [
    ("db", "upgrade"),
    ("doctor",),
    ("sms", "--from", PHONE, "JF"),
    ("sms", "--from", "not-a-phone", "JF"),
    ("accrue", MISSING, "--period", "2026-10"),
    ("catalog", "import", MISSING),
    ("catalog", "list"),
    ("catalog", "category", "add", "9", "测试", "Test"),
    ("catalog", "brand", "add", "B9", "品牌", "Brand"),
    ("catalog", "merchant", "add", "M9", "商家", "Shop"),
    ("catalog", "activity", "add", "A9", "活动", "Act", "--start", "2026-12-01", "--end", "x"),
    ("catalog", "announce", "标题", "Title", "正文", "Body"),
    ("jobs", "list"),
    ("jobs", "run", "orders-timeout"),
    ("jobs", "run", "no-such-job"),
    ("jobs", "run", "feed-inbox"),
    ("merchant", "apply", "M8", "店", "Shop", "--phone", PHONE),
    ("merchant", "review", "999", "--by", "alice"),
    ("merchant", "approve", "999", "--by", "alice"),
    ("merchant", "reject", "999", "--by", "alice", "--reason", "no"),
    ("merchant", "review", "x", "--by", "alice"),
    ("merchant", "unlock", "261130000000", "--by", "alice"),
    ("merchant", "rate", "NOPE", "100", "--by", "alice"),
    ("merchant", "staff", "add", "NOPE", PHONE, "--by", "alice"),
    ("merchant", "staff", "remove", "NOPE", PHONE, "--by", "alice"),
    ("merchant", "terminal", "add", "NOPE", "T1", "--by", "alice"),
    ("merchant", "goods", "submit", "NOPE", "9001", "券", "Voucher", "100", "--by", PHONE),
    (
        "merchant",
        "goods",
        "submit",
        "NOPE",
        "9001",
        "券",
        "Voucher",
        "100",
        "--by",
        PHONE,
        "--category",
        "3",
    ),
    ("merchant", "goods", "pending"),
    ("merchant", "goods", "review", "9001", "--by", "alice", "--approve"),
    ("payments", "list"),
    ("payments", "reconcile"),
    ("recharge", "list"),
    ("recharge", "list", "--status", "nope"),
    ("recharge", "retry", "261130000000", "--by", "alice"),
    ("staff", "list"),
    ("staff", "add", "alice", "--role", "no-such-role"),
    ("staff", "disable", "nobody", "--by", "alice"),
    ("staff", "enable", "nobody", "--by", "alice"),
    ("staff", "role", "nobody", "admin", "--by", "alice"),
    ("staff", "changes"),
    ("staff", "approve", "999", "--by", "alice"),
    ("staff", "reject", "999", "--by", "alice"),
    ("adjustment", "list"),
    ("adjustment", "propose", PHONE, "--points", "5", "--reason", "x", "--by", "alice"),
    ("adjustment", "propose", "not-a-phone", "--points", "5", "--reason", "x", "--by", "alice"),
    ("adjustment", "approve", "999", "--by", "alice"),
    ("adjustment", "reject", "999", "--by", "alice"),
    ("question", "list"),
    ("question", "answer", "999", "答", "--by", "alice"),
    ("photo", "set", "item", "NOPE", MISSING),
    ("statement", "list"),
    ("statement", "confirm", "999", "--by", PHONE),
    ("statement", "dispute", "999", "--by", PHONE, "--reason", "x"),
    ("statement", "approve", "999", "--by", "alice"),
    ("statement", "pay", "999", "--by", "alice"),
    ("settle", "--period", "2026-13"),
    ("report", "points-cost", "--period", "2026-11", "--out", "out.pdf"),
    ("report", "merchant", "--period", "2026-11", "--out", "m.xlsx", "--merchant", "NOPE"),
    ("report", "reconcile", "--month", "2026-11", "--out", "r.csv"),
    ("report", "reconcile", "--month", "2026-11", "--out", "r.pdf"),
    ("report", "reconcile", "--month", "2026-13", "--out", "r.xlsx", "--lang", "fr"),
    ("message", "list"),
    ("message", "reply", "999", "好", "--by", "alice"),
    ("review", "list"),
    ("review", "hide", "999", "--by", "alice"),
    ("review", "show", "999", "--by", "alice"),
    ("order", "ship", "261130000000", "--carrier", "SF", "--tracking", "1", "--by", "alice"),
    ("order", "deliver", "261130000000", "--by", "alice"),
    ("outbox", "status"),
    ("outbox", "retry"),
    ("outbox", "list", "--to", "not-a-phone"),
    ("key", "new"),
    ("key", "new", "--out", "root.key"),
    ("key", "new", "--out", "root.key"),
    ("key", "rotate"),
    ("key", "rotate", "--key-file", MISSING),
    ("key", "adopt", "--out", "adopted.key"),
    ("key", "status"),
]


def _migrated(url: str, revision: str) -> None:
    async def run() -> None:
        db = open_database(url)
        try:
            await migrate.upgrade(db, revision)
        finally:
            await db.dispose()

    run_blocking(run())


def _first_revision() -> str:
    from alembic.script import ScriptDirectory

    base = ScriptDirectory.from_config(migrate.alembic_config()).get_base()
    assert base is not None
    return str(base)


def check(ran: Ran) -> None:
    """Success, or one clear line on stderr and a non-zero exit; never a traceback."""
    both = ran.stdout + ran.stderr
    assert "Traceback" not in both, (ran.args, both)
    assert ran.returncode in (0, 1, 2), (ran.args, ran.returncode, both)
    if ran.returncode != 0:
        lines = [line for line in ran.stderr.splitlines() if line.strip()]
        assert lines, (ran.args, "no reason given")
        usage_box = lines[0].startswith(("╭", "Usage:"))
        assert usage_box or len(lines) == 1, (ran.args, ran.stderr)


@pytest.fixture(params=["new", "empty", "not-migrated"])
def sqlite_in_state(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'state.db'}"
    if request.param == "empty":
        _migrated(url, "head")
    elif request.param == "not-migrated":
        _migrated(url, _first_revision())
    return url


def test_every_command_on_a_sqlite_database_in_each_state(
    sqlite_in_state: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for command in COMMANDS:
        check(pointshall(sqlite_in_state, *command))


def test_db_upgrade_on_a_new_database_only_upgrades(tmp_path: Path) -> None:
    """The field report: it built the keyring first and died on ``no such table``."""
    ran = pointshall(f"sqlite+aiosqlite:///{tmp_path / 'new.db'}", "db", "upgrade")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "database at head"


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_text("not a database")
    url = f"sqlite+aiosqlite:///{garbage}"
    plain = pointshall(url, "doctor")
    assert plain.returncode == 1
    assert plain.stderr.strip() == "cannot open the database: file is not a database"
    loud = pointshall(url, "--debug", "doctor")
    assert loud.returncode == 1 and "Traceback" in loud.stderr


@pytest.fixture
def pg_in_states() -> Iterator[dict[str, str]]:
    """PostgreSQL databases: one with no tables, one at the first revision, one missing."""
    admin = dsn(PG_URL)
    names = {state: f"pointshall_cli_{state}_{uuid.uuid4().hex[:8]}" for state in ("new", "old")}

    async def create() -> None:
        conn = await asyncpg.connect(admin, timeout=5)
        try:
            for name in names.values():
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(admin, timeout=5)
        try:
            for name in names.values():
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    try:
        run_blocking(create())
    except (OSError, asyncpg.PostgresError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL unreachable at {PG_URL} under CI=true: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}: {exc}")
    url = make_url(PG_URL)
    urls = {
        state: url.set(database=name).render_as_string(hide_password=False)
        for state, name in names.items()
    }
    _migrated(urls["old"], _first_revision())
    urls["missing"] = url.set(database="pointshall_no_such_db").render_as_string(
        hide_password=False
    )
    urls["unreachable"] = url.set(port=1).render_as_string(hide_password=False)
    try:
        yield urls
    finally:
        run_blocking(drop())


def test_commands_on_postgresql_databases_in_each_state(
    pg_in_states: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    sample = [("doctor",), ("staff", "list"), ("jobs", "run", "orders-timeout")]
    for state in ("missing", "unreachable"):
        for command in (("db", "upgrade"), *sample):
            ran = pointshall(pg_in_states[state], *command)
            check(ran)
            assert ran.returncode == 1
            assert ran.stderr.strip().startswith("cannot open the database:"), ran.stderr
    new = pointshall(pg_in_states["new"], "db", "upgrade")
    assert new.returncode == 0 and new.stdout.strip() == "database at head", new.stderr
    for state in ("new", "old"):
        for command in sample:
            check(pointshall(pg_in_states[state], *command))


def test_unreachable_sqlite_directory_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    ran = pointshall(f"sqlite+aiosqlite:///{blocker}/sub/db.sqlite", "doctor")
    check(ran)
    assert ran.returncode == 1


def test_bad_settings_and_a_bad_port_are_usage_errors_in_one_line(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cfg.db'}"
    ran = pointshall(url, "doctor", env={"POINTSHALL_PORT": "abc", "POINTSHALL_TIMEZONE": "Mars"})
    check(ran)
    assert ran.returncode == 2
    assert ran.stderr.strip() == (
        "configuration error: POINTSHALL_PORT: Input should be a valid integer, unable to parse "
        "string as an integer; POINTSHALL_TIMEZONE: unknown time zone 'Mars'"
    )
    port = pointshall(url, "serve", "--port", "70000")
    check(port)
    assert port.returncode == 2 and "--port" in port.stderr


@pytest.mark.parametrize(
    "command",
    [
        ("catalog", "category", "add", "", "分类", "Category"),
        ("catalog", "category", "add", "AB", " ", "Category"),
        ("catalog", "brand", "add", "A B", "品牌", "Brand"),
        ("catalog", "merchant", "add", "SHOP", "", "Shop"),
        ("catalog", "announce", "", "Title", "正文", "Body"),
        (
            "catalog",
            "activity",
            "add",
            "A9",
            "",
            "Act",
            "--start",
            "2026-12-01",
            "--end",
            "2027-01-01",
        ),
    ],
)
def test_catalogue_commands_refuse_blank_names_and_bad_codes(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """Issue 14: an empty code or name was stored, and SMS answers showed blanks."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cat.db'}"
    ran = pointshall(url, *command)
    check(ran)
    assert ran.returncode == 1
    assert ran.stderr.startswith("refused: ") and ("empty" in ran.stderr or "must be" in ran.stderr)
