"""Build the python-telegram-bot ``Application`` (called by the composition root only)."""

from __future__ import annotations

from telegram.ext import ApplicationBuilder

from bot.adapter import HallBot
from bot.callbacks import CallbackCodec
from bot.chat import ChatDesk
from bot.types import TelegramApp
from core.platform.clock import Clock
from core.platform.codes import Keyring
from core.platform.db import Database
from handlers.hall import Hall


def build_application(
    token: str,
    *,
    db: Database,
    hall: Hall,
    keyring: Keyring,
    clock: Clock,
    api_url: str | None = None,
    file_url: str | None = None,
) -> TelegramApp:
    """The bot with its handlers; ``api_url`` points it at another Bot API server (or a fake)."""
    builder = ApplicationBuilder().token(token)
    if api_url:
        builder = builder.base_url(api_url).base_file_url(file_url or api_url)
    application = builder.build()
    HallBot(db, ChatDesk(hall), CallbackCodec(keyring, clock), clock).register(application)
    return application
