"""The fake Twilio REST API as a process of its own, for tests that run real replicas.

``python -m tests.support.fakes.twilio_server --port P --account AC… --token T --log F``
serves ``FakeTwilio`` (the Messages resource) and, like Twilio, then POSTs a signed
``delivered`` status callback to each accepted message's ``StatusCallback`` URL (through
the load balancer, to whichever replica), trying again while it cannot get a 2xx.

It appends one JSON line per event to ``--log`` (flushed at once, so a reader sees every
line written so far):

* ``{"event": "accepted", "at": <epoch seconds when the request arrived>, "sid", "to",
  "body", "outbox_id"}``: a message taken (the ``at`` of these is the provider's view of
  the send rate);
* ``{"event": "callback", "sid", "outbox_id", "status": <HTTP status>, "tries"}``: the
  status callback answered (2xx) or given up (after ``CALLBACK_TRIES``).

It prints ``listening`` on stdout when it accepts requests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from typing import TextIO
from urllib.parse import parse_qs, urlparse

import aiohttp
from aiohttp import web

from tests.support.fakes.twilio_api import FakeMessage, FakeTwilio

CALLBACK_TRIES = 120
CALLBACK_PAUSE = 0.25


class RecordingTwilio(FakeTwilio):
    def __init__(self, account_sid: str, auth_token: str, log: TextIO) -> None:
        super().__init__(account_sid, auth_token)
        self._log = log
        self._callbacks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None

    def _write(self, entry: dict[str, object]) -> None:
        self._log.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self._log.flush()

    async def create(self, request: web.Request) -> web.Response:
        arrived = time.time()
        taken = len(self.accepted)
        response = await super().create(request)
        if len(self.accepted) > taken:
            message = self.accepted[-1]
            self._write(
                {
                    "event": "accepted",
                    "at": arrived,
                    "sid": message.sid,
                    "to": message.to,
                    "body": message.body,
                    "outbox_id": _outbox_id(message),
                }
            )
            task = asyncio.create_task(self._report(message))
            self._callbacks.add(task)
            task.add_done_callback(self._callbacks.discard)
        return response

    async def _report(self, message: FakeMessage) -> None:
        if message.status_callback is None:
            return
        url, form, headers = self.callback(message, "delivered")
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        status = tries = 0
        while tries < CALLBACK_TRIES:
            tries += 1
            try:
                async with self._session.post(url, data=form, headers=headers) as resp:
                    status = resp.status
            except (aiohttp.ClientError, TimeoutError):
                status = 0
            if 200 <= status < 300:
                break
            await asyncio.sleep(CALLBACK_PAUSE)
        self._write(
            {
                "event": "callback",
                "sid": message.sid,
                "outbox_id": _outbox_id(message),
                "status": status,
                "tries": tries,
            }
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


def _outbox_id(message: FakeMessage) -> int | None:
    if message.status_callback is None:
        return None
    values = parse_qs(urlparse(message.status_callback).query).get("o")
    return int(values[0]) if values else None


async def main(args: argparse.Namespace, log: TextIO) -> None:
    fake = RecordingTwilio(args.account, args.token, log)
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", args.port).start()
    print("listening", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        await fake.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--account", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--log", required=True)
    arguments = parser.parse_args()
    with Path(arguments.log).open("a", encoding="utf-8") as out:
        asyncio.run(main(arguments, out))
