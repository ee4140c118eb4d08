"""``pointshall bot --polling`` as a developer runs it: a real process polling a fake Bot API."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from aiohttp.test_utils import TestServer

from tests.support.cli import pointshall
from tests.support.settings import ROOT_KEY
from tests.support.telegram_fake import FakeTelegram, text_update

TOKEN = "123456:polling-token"
CHAT = 31337
WAIT_SECONDS = 60


async def test_polling_answers_a_chat(database_url: str) -> None:
    fake = FakeTelegram(TOKEN)
    fake.updates.append(text_update(1, CHAT, "BZ"))
    server = TestServer(fake.app())
    await server.start_server()
    env = {k: v for k, v in os.environ.items() if not k.startswith("POINTSHALL_")} | {
        "POINTSHALL_DATABASE_URL": database_url,
        "POINTSHALL_SECRET_KEY": ROOT_KEY,
        "POINTSHALL_TELEGRAM_TOKEN": TOKEN,
        "POINTSHALL_TELEGRAM_API_URL": str(server.make_url("/bot")),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pointshall",
        "bot",
        "--polling",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await asyncio.wait_for(fake.shown.wait(), WAIT_SECONDS)
        assert "JF" in fake.shown_to(CHAT)[0].text
        assert fake.called("deleteWebhook")
    finally:
        proc.send_signal(signal.SIGINT)
        await asyncio.wait_for(proc.wait(), WAIT_SECONDS)
        await server.close()
    logged = (await proc.stderr.read()).decode() if proc.stderr else ""
    assert proc.returncode == 0, logged[-2000:]
    assert "getUpdates" in logged and TOKEN not in logged  # issue 13 §1: httpx logs each URL


def test_bot_needs_polling_and_a_token(database_url: str) -> None:
    no_flag = pointshall(database_url, "bot")
    assert no_flag.returncode == 2
    assert "serve" in no_flag.stderr
    no_token = pointshall(database_url, "bot", "--polling")
    assert no_token.returncode == 2
    assert "POINTSHALL_TELEGRAM_TOKEN" in no_token.stderr
