"""Migration 0014 masks the secrets older versions left in clear (issue 13 §1): codes and
passwords in inbound texts and replies, and in the texts and idempotency keys of the
outbound messages that carried them; everything else is left alone. Both databases."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import Connection, select
from sqlalchemy.engine import make_url

from core.platform.db import open_database
from core.platform.schema import inbound, outbox
from pointshall import migrate
from tests.conftest import PG_URL, run_blocking
from tests.support.pg import dsn

BEFORE = "0013m"


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each backend, not migrated at all."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    name = f"pointshall_scrub_{uuid.uuid4().hex[:8]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(dsn(PG_URL), timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    try:
        run_blocking(admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL unreachable at {PG_URL} under CI=true: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}: {exc}")
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        run_blocking(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _old_rows(conn: Connection) -> None:
    conn.execute(
        inbound.insert(),
        [
            {
                "channel": "sms",
                "external_id": "1",
                "sender": "+86138",
                "text": "MM 482913 730194 581026",
                "received_at": 1,
                "status": "answered",
                "reply": "积分密码已设置",
            },
            {
                "channel": "sms",
                "external_id": "2",
                "sender": "+86138",
                "text": "DH 3001",
                "received_at": 1,
                "status": "answered",
                "reply": "订单261120000001:咖啡券×1共800分已冻结。5分钟内回复482914确认兑换。",
            },
            {
                "channel": "sms",
                "external_id": "3",
                "sender": "+86138",
                "text": "DD 261120000001",
                "received_at": 1,
                "status": "answered",
                "reply": "订单261120000001:咖啡券×1,800分。",
            },
        ],
    )
    rows = [
        (
            "voucher:261120000001:ab12",
            "订单261120000001「咖啡券」电子券密码73019458,2026-12-31前到咖啡时光出示订单号和密码使用。",
        ),
        ("password-otp:5:1700000000:482915", "您正在设置积分密码,验证码482915,5分钟内有效。"),
        (
            "chat-login:42:1700000000:482916",
            "您正在登录积分商城Telegram机器人,验证码482916,5分钟内有效。",
        ),
        ("expiry:+86138:2026-12-31", "您有800积分将于2026-12-31到期,客服电话100860。"),
    ]
    conn.execute(
        outbox.insert(),
        [
            {
                "idempotency_key": key,
                "channel": "sms",
                "recipient": "+86138",
                "kind": "service",
                "text": text,
                "status": "sent",
                "attempts": 1,
                "next_attempt_at": 1,
                "created_at": 1,
            }
            for key, text in rows
        ],
    )


def _texts(conn: Connection) -> tuple[list[tuple[str, str | None]], list[tuple[str, str]]]:
    ins = conn.execute(select(inbound.c.text, inbound.c.reply).order_by(inbound.c.id)).all()
    out = conn.execute(select(outbox.c.idempotency_key, outbox.c.text).order_by(outbox.c.id))
    return [tuple(r) for r in ins], [tuple(r) for r in out.all()]  # type: ignore[misc]


def test_the_upgrade_masks_what_older_versions_kept_in_clear(fresh_url: str) -> None:
    async def run() -> tuple[list[tuple[str, str | None]], list[tuple[str, str]]]:
        db = open_database(fresh_url)
        try:
            await migrate.upgrade(db, BEFORE)
            await db.write(_old_rows)
            await migrate.upgrade(db)
            return await db.read(_texts)
        finally:
            await db.dispose()

    ins, out = run_blocking(run())
    assert ins == [
        ("MM ****** ****** ******", "积分密码已设置"),
        ("DH 3001", "订单261120000001:咖啡券×1共800分已冻结。5分钟内回复******确认兑换。"),
        ("DD 261120000001", "订单261120000001:咖啡券×1,800分。"),
    ]
    assert out[0] == (
        "voucher:261120000001:ab12",
        "订单261120000001「咖啡券」电子券密码********,2026-12-31前到咖啡时光出示订单号和密码使用。",
    )
    assert out[1] == (
        "password-otp:5:1700000000:#2",
        "您正在设置积分密码,验证码******,5分钟内有效。",
    )
    assert out[2][0] == "chat-login:42:1700000000:#3" and "验证码******," in out[2][1]
    assert out[3] == ("expiry:+86138:2026-12-31", "您有800积分将于2026-12-31到期,客服电话100860。")
