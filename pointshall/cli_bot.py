"""``pointshall bot --polling``: the Telegram bot without a public URL, for development."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Annotated

import typer

from pointshall import log_filter, root_key
from pointshall.bootstrap import bootstrap
from pointshall.cli_support import err, load_settings, out


def bot(
    polling: Annotated[
        bool, typer.Option("--polling", help="Fetch updates with getUpdates (development).")
    ] = False,
) -> None:
    """Run the Telegram bot by polling; in production `serve` takes the webhook."""
    from bot.webhook import ALLOWED_UPDATES  # python-telegram-bot loads only for the bot

    if not polling:
        err.print("The webhook runs inside `pointshall serve`; use `pointshall bot --polling`.")
        raise typer.Exit(2)
    settings = load_settings()
    if settings.telegram_token is None:
        err.print("[red]cannot start:[/red] POINTSHALL_TELEGRAM_TOKEN must be set")
        raise typer.Exit(2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    log_filter.install(log_filter.configured_secrets(settings))

    async def main() -> None:
        services = await bootstrap(settings, demo_key=root_key.demo_fallback(settings))
        application = services.telegram
        assert application is not None and application.updater is not None
        try:
            await application.initialize()
            await application.bot.delete_webhook()
            await application.updater.start_polling(allowed_updates=list(ALLOWED_UPDATES))
            await application.start()
            out.print("pointshall bot polling Telegram (Ctrl-C to stop)")
            try:
                await asyncio.Event().wait()
            finally:
                await application.updater.stop()
                await application.stop()
                await application.shutdown()
        finally:
            await services.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
