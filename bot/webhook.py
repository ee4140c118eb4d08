"""``POST /tg/{secret}``: Telegram's webhook inside our one aiohttp app (DESIGN.md §7).

Both the path secret and the ``X-Telegram-Bot-Api-Secret-Token`` header must
match the configured secret, otherwise 403 and nothing happens. A body that is not a
Telegram update (not UTF-8 JSON, a required field missing or of the wrong type, an integer
past what Telegram sends: ``bot.updates``) is answered 400 and nothing happens either. The update is
processed before we answer, so Telegram's retries back off while we are slow,
and an update whose unit of work failed gets a 500 so Telegram delivers it again
(the ``update_id`` claim makes that safe).
The application starts and stops with the web app (python-telegram-bot's
``customwebhookbot`` example); with a public URL the webhook is registered at start.
"""

from __future__ import annotations

import hmac
import logging
import re

from aiohttp import web
from telegram import Update

from bot.adapter import update_failures
from bot.types import TelegramApp
from bot.updates import read_update
from core.platform import inputs
from core.platform.errors import ConfigurationError

log = logging.getLogger(__name__)

HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ("message", "callback_query")
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
"""What Telegram accepts as ``secret_token``."""


class TelegramWebhook:
    def __init__(self, application: TelegramApp, *, secret: str | None, public_url: str | None):
        if not secret or not _SECRET.fullmatch(secret):
            raise ConfigurationError(
                "POINTSHALL_TELEGRAM_SECRET must be set (1-256 of A-Z a-z 0-9 _ -) "
                "when POINTSHALL_TELEGRAM_TOKEN is"
            )
        self.application = application
        self._secret = secret.encode()
        self._public_url = public_url

    @property
    def path(self) -> str:
        return f"/tg/{self._secret.decode()}"

    def _allowed(self, request: web.Request) -> bool:
        # What arrives may hold any bytes (lone surrogates in the str): compare them as sent.
        in_path = request.match_info.get("secret", "").encode("utf-8", "surrogateescape")
        in_header = request.headers.get(HEADER, "").encode("utf-8", "surrogateescape")
        return hmac.compare_digest(in_path, self._secret) & hmac.compare_digest(
            in_header, self._secret
        )

    async def handle(self, request: web.Request) -> web.Response:
        if not self._allowed(request):
            return web.Response(status=403, text="forbidden")
        try:
            data = read_update(await request.read())
            update = Update.de_json(data, self.application.bot)
        except inputs.MalformedInput as exc:
            return web.Response(status=400, text=f"not an update: {exc}")
        except (ValueError, TypeError, KeyError, AttributeError):
            return web.Response(status=400, text="not an update")
        failures: list[BaseException] = []
        token = update_failures.set(failures)
        try:
            await self.application.process_update(update)
        finally:
            update_failures.reset(token)
        if failures:  # nothing was committed: Telegram delivers it again later
            return web.Response(status=500, text="failed, deliver again")
        return web.Response(text="ok")

    async def _startup(self, _app: web.Application) -> None:
        await self.application.initialize()
        await self.application.start()
        if self._public_url:
            await self.application.bot.set_webhook(
                url=self._public_url + self.path,
                secret_token=self._secret.decode(),
                allowed_updates=list(ALLOWED_UPDATES),
            )
            log.info("telegram webhook set to %s/tg/…", self._public_url)

    async def _cleanup(self, _app: web.Application) -> None:
        await self.application.stop()
        await self.application.shutdown()

    def attach(self, app: web.Application) -> None:
        app.add_routes([web.post("/tg/{secret}", self.handle)])
        app.on_startup.append(self._startup)
        app.on_cleanup.append(self._cleanup)
