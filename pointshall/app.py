"""The one aiohttp application: SMS webhooks, health; later the bot, POS and admin."""

from __future__ import annotations

from aiohttp import web

from api.health import Health
from api.pos import PosApi
from bot.webhook import TelegramWebhook
from pointshall.bootstrap import Services
from sms.kannel_inbound import KannelInbound
from sms.twilio_inbound import TwilioInbound

SERVICES_KEY = web.AppKey("services", Services)


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return getter() if getter else None


def build_app(services: Services) -> web.Application:
    settings = services.settings
    app = web.Application(client_max_size=64 * 1024)
    app[SERVICES_KEY] = services
    twilio = TwilioInbound(
        services.db,
        services.hall,
        auth_token=_secret(settings.twilio_auth_token),
        public_url=settings.public_url,
    )
    kannel = KannelInbound(services.db, services.hall, secret=_secret(settings.kannel_secret))
    app.add_routes([*twilio.routes(), *kannel.routes(), *Health(services.db).routes()])
    pos = PosApi(services.db, services.clock, services.keyring, settings.default_region)
    app.add_routes(pos.routes())
    if services.telegram is not None:
        secret = _secret(settings.telegram_secret)
        webhook = TelegramWebhook(services.telegram, secret=secret, public_url=settings.public_url)
        webhook.attach(app)
    return app
