"""The root key is not kept with the data (issue 13 §2): ``serve`` refuses to start without
one outside the database, saying how to make one; ``pointshall key new|rotate|adopt|status``
as an operator runs them."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from pathlib import Path

import pytest

from core.platform import keys
from core.platform.db import open_database
from core.platform.schema import app_secret
from pointshall import migrate
from tests.conftest import run_blocking
from tests.support.cli import pointshall, pointshall_process

NO_KEY = {"POINTSHALL_SECRET_KEY": ""}


def sqlite(tmp_path: Path, name: str = "keys.db") -> str:
    return f"sqlite+aiosqlite:///{tmp_path / name}"


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


def test_serve_without_a_key_outside_the_database_refuses_to_start(tmp_path: Path) -> None:
    database = tmp_path / "prod.db"
    ran = pointshall_process(f"sqlite+aiosqlite:///{database}", "serve", env=NO_KEY)
    assert ran.returncode == 2, ran.stderr
    line = one_line(ran.stderr)
    assert line.startswith("cannot start: no root key outside the database")
    assert "pointshall key new" in line and "POINTSHALL_SECRET_KEY_FILE" in line
    assert "Traceback" not in ran.stderr + ran.stdout
    assert not database.exists(), "refused before touching the database"


def test_serve_refuses_a_key_file_others_may_read(tmp_path: Path) -> None:
    key_file = tmp_path / "root.key"
    made = pointshall(sqlite(tmp_path), "key", "new", "--out", str(key_file), env=NO_KEY)
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key_file.chmod(0o644)
    env = {**NO_KEY, "POINTSHALL_SECRET_KEY_FILE": str(key_file)}
    ran = pointshall(sqlite(tmp_path), "serve", env=env)
    assert ran.returncode == 2
    assert one_line(ran.stderr) == (
        f"cannot start: key file {key_file} may be read by others (mode 0644): "
        f"run `chmod 600 {key_file}`"
    )
    key_file.chmod(0o600)
    assert pointshall(sqlite(tmp_path), "doctor", env=env).returncode == 0


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("not a key", "holds a key from before key ids"),
        ("k1:AAAA", "is 3 bytes, not 32"),
        ("k0:" + "A" * 43, "only k0"),
    ],
)
def test_a_bad_key_in_the_environment_is_one_clear_line(
    tmp_path: Path, value: str, says: str
) -> None:
    ran = pointshall(sqlite(tmp_path), "doctor", env={"POINTSHALL_SECRET_KEY": value})
    assert ran.returncode == 2
    line = one_line(ran.stderr)
    assert line.startswith("configuration error:") and says in line, line
    assert value not in line or value == "not a key"


def test_key_new_prints_a_key_or_refuses_to_overwrite_a_file(tmp_path: Path) -> None:
    printed = pointshall(sqlite(tmp_path), "key", "new", env=NO_KEY)
    assert printed.returncode == 0
    [made] = keys.parse(printed.stdout)
    assert made.kid == "k1" and len(made.secret) == 32
    key_file = tmp_path / "root.key"
    key_file.write_text("keep me")
    again = pointshall(sqlite(tmp_path), "key", "new", "--out", str(key_file), env=NO_KEY)
    assert again.returncode == 2 and "not writing over a key file" in one_line(again.stderr)
    assert key_file.read_text() == "keep me"


def test_key_rotate_adds_a_current_key_to_the_file(tmp_path: Path) -> None:
    key_file = tmp_path / "root.key"
    pointshall(sqlite(tmp_path), "key", "new", "--out", str(key_file), env=NO_KEY)
    [k1] = keys.parse(key_file.read_text())
    env = {**NO_KEY, "POINTSHALL_SECRET_KEY_FILE": str(key_file)}
    ran = pointshall(sqlite(tmp_path), "key", "rotate", env=env)
    assert ran.returncode == 0, ran.stderr
    assert "k2 is now the current key; k1 still verify" in ran.stderr
    held = keys.parse(key_file.read_text())
    assert [k.kid for k in held] == ["k1", "k2"] and held[0] == k1
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    status = pointshall(sqlite(tmp_path), "key", "status", env=env)
    assert status.returncode == 0, status.stderr
    assert status.stdout.splitlines() == ["k1: nothing", "k2 (current): nothing"]


def test_key_rotate_with_the_key_in_the_environment_prints_the_new_value(tmp_path: Path) -> None:
    first = keys.render((keys.new_key(1),)).strip()
    ran = pointshall(sqlite(tmp_path), "key", "rotate", env={"POINTSHALL_SECRET_KEY": first})
    assert ran.returncode == 0, ran.stderr
    held = keys.parse(ran.stdout)
    assert keys.render(held).splitlines()[0] == first and held[-1].kid == "k2"


def _old_installation(url: str, secret: bytes) -> None:
    """A database as an older pointshall left it: its key in ``app_secret``."""

    async def run() -> None:
        db = open_database(url)
        try:
            await migrate.upgrade(db)
            await db.write(
                lambda conn: conn.execute(
                    app_secret.insert().values(name="hash_key", value=secret.hex())
                )
            )
        finally:
            await db.dispose()

    run_blocking(run())


def test_a_database_holding_its_key_is_refused_until_the_key_is_adopted(tmp_path: Path) -> None:
    url = sqlite(tmp_path)
    old = os.urandom(32)
    _old_installation(url, old)
    refused = pointshall(url, "doctor")
    assert refused.returncode == 2
    assert "pointshall key adopt" in one_line(refused.stderr)
    key_file = tmp_path / "root.key"
    adopted = pointshall(url, "key", "adopt", "--out", str(key_file), env=NO_KEY)
    assert adopted.returncode == 0, adopted.stderr
    k0, k1 = keys.parse(key_file.read_text())
    assert (k0.kid, k0.secret, k1.kid) == ("k0", old, "k1")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    env = {**NO_KEY, "POINTSHALL_SECRET_KEY_FILE": str(key_file)}
    assert pointshall(url, "doctor", env=env).returncode == 0
    status = pointshall(url, "key", "status", env=env)
    assert status.stdout.splitlines()[:2] == ["k0: nothing", "k1 (current): nothing"]

    def rows() -> int:
        async def count() -> int:
            db = open_database(url)
            try:
                return len(await db.read(lambda c: c.execute(app_secret.select()).all()))
            finally:
                await db.dispose()

        return run_blocking(count())

    assert rows() == 0, "the key left the database"
    nothing = pointshall(url, "key", "adopt", "--out", str(tmp_path / "again.key"), env=NO_KEY)
    assert nothing.returncode == 1 and "nothing to adopt" in one_line(nothing.stderr)


def test_a_raw_key_from_before_key_ids_is_adopted_as_k0(tmp_path: Path) -> None:
    url = sqlite(tmp_path)
    raw = "an-old-style-secret-key-of-32-chars!"
    key_file = tmp_path / "root.key"
    ran = pointshall(
        url, "key", "adopt", "--out", str(key_file), env={"POINTSHALL_SECRET_KEY": raw}
    )
    assert ran.returncode == 0, ran.stderr
    k0, _ = keys.parse(key_file.read_text())
    before = hmac.new(raw.encode(), b"qr\x1ftoken", hashlib.sha256).hexdigest()
    assert hmac.new(k0.secret, b"qr\x1ftoken", hashlib.sha256).hexdigest() == before


def test_the_demo_makes_its_own_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    url = "sqlite+aiosqlite:///var/pointshall.db"
    (tmp_path / "var").mkdir()
    _old_installation(url, os.urandom(32))  # an old demo database: its key moves out
    ran = pointshall(url, "demo", env=NO_KEY)
    assert ran.returncode == 0, ran.stderr
    demo_key = tmp_path / "var" / "demo.key"
    assert stat.S_IMODE(demo_key.stat().st_mode) == 0o600
    assert [k.kid for k in keys.parse(demo_key.read_text())] == ["k0", "k1"]
    typed = pointshall(url, "sms", "--from", "+8613800138000", "JF", env=NO_KEY)
    assert typed.returncode == 0, typed.stderr  # commands typed at the demo use its key
    other = pointshall(sqlite(tmp_path, "other.db"), "doctor", env=NO_KEY)
    assert other.returncode == 2 and "no root key" in other.stderr  # but no other database
