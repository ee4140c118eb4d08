"""The one aiohttp application: SMS webhooks and delivery reports, health, metrics; the
outbox drain runs inside it, started and stopped with the app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

from aiohttp import web

from api.admin.app import BASE as ADMIN_BASE
from api.admin.app import build_admin_app
from api.admin.deps import AdminDeps
from api.health import Health
from api.metrics import Metrics
from api.payments import PaymentRoutes
from api.pos import PosApi
from api.recharge import RechargeRoutes
from api.unreadable import reject_unreadable
from bot.sender import TelegramTransport
from bot.webhook import TelegramWebhook
from console.web import PREFIX as CONSOLE_PREFIX
from console.web import build_console, settings_from
from core.messaging.drain import Drain
from core.messaging.ratelimit import SystemTimer
from pointshall.bootstrap import Services
from pointshall.transports import (
    build_transport,
    drain_policy,
    pacer,
    sms_rate_name,
    telegram_bot,
    telegram_drain_policy,
    telegram_rate_name,
)
from pointshall.weblog import request_log
from sms.delivery_reports import KannelDlr, TwilioStatus
from sms.kannel_inbound import KannelInbound
from sms.twilio_inbound import TwilioInbound

SERVICES_KEY = web.AppKey("services", Services)
DRAIN_KEY = web.AppKey("drain", Drain)
TELEGRAM_DRAIN_KEY = web.AppKey("telegram_drain", Drain)
log = logging.getLogger(__name__)


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return getter() if getter else None


async def _outbox_drain(app: web.Application) -> AsyncIterator[None]:
    """Run the drain for the configured transport while the app runs; finish sends on stop."""
    services = app[SERVICES_KEY]
    settings = services.settings
    transport = build_transport(settings)
    timer, policy = SystemTimer(), drain_policy(settings)
    limiter = pacer(services.db, sms_rate_name(settings), policy, timer, settings)
    drain = Drain(
        services.db,
        transport,
        services.clock,
        timer,
        policy,
        keyring=services.keyring,
        limiter=limiter,
    )
    app[DRAIN_KEY] = drain
    task = asyncio.create_task(drain.run(), name="outbox-drain")
    log.info("outbox drain started (%s)", transport.name)
    try:
        yield
    finally:
        drain.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await transport.close()


async def _telegram_drain(app: web.Application) -> AsyncIterator[None]:
    """Send the outbox's ``telegram`` rows (replies, vouchers) while the app runs."""
    services = app[SERVICES_KEY]
    bot = telegram_bot(services.settings)
    await bot.initialize()
    timer = SystemTimer()
    transport = TelegramTransport(bot, timer)
    settings = services.settings
    policy = telegram_drain_policy(settings)
    limiter = pacer(services.db, telegram_rate_name(settings), policy, timer, settings)
    drain = Drain(
        services.db,
        transport,
        services.clock,
        timer,
        policy,
        keyring=services.keyring,
        channel="telegram",
        limiter=limiter,
    )
    app[TELEGRAM_DRAIN_KEY] = drain
    task = asyncio.create_task(drain.run(), name="telegram-drain")
    try:
        yield
    finally:
        drain.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await transport.close()
        await bot.shutdown()


def build_app(services: Services, *, drain: bool | None = None) -> web.Application:
    """The web app; ``drain`` (default ``POINTSHALL_OUTBOX_DRAIN``) runs the outbox drain in it."""
    settings = services.settings
    app = web.Application(client_max_size=64 * 1024, middlewares=[request_log, reject_unreadable])
    app[SERVICES_KEY] = services
    auth_token, public_url = _secret(settings.twilio_auth_token), settings.public_url
    kannel_secret = _secret(settings.kannel_secret)
    twilio = TwilioInbound(services.db, services.hall, auth_token=auth_token, public_url=public_url)
    status = TwilioStatus(services.db, services.clock, auth_token=auth_token, public_url=public_url)
    kannel = KannelInbound(services.db, services.hall, secret=kannel_secret)
    dlr = KannelDlr(services.db, services.clock, secret=kannel_secret)
    app.add_routes(
        [
            *twilio.routes(),
            *status.routes(),
            *kannel.routes(),
            *dlr.routes(),
            *Health(services.db).routes(),
            *Metrics(services.db).routes(),
            *PosApi(
                services.db, services.clock, services.keyring, settings.default_region
            ).routes(),
        ]
    )
    console_settings = settings_from(
        settings.timezone,
        settings.default_region,
        settings.default_lang,
        settings.public_url,
        settings.staff_changes_per_day,
    )
    app.add_subapp(
        CONSOLE_PREFIX,
        build_console(
            services.db, services.clock, services.keyring, console_settings, services.rules
        ),
    )
    if services.payments is not None and settings.gateway_secret is not None:
        gateway_secret = settings.gateway_secret.get_secret_value()
        app.add_routes(PaymentRoutes(services.payments, services.clock, gateway_secret).routes())
    if services.recharge is not None:
        app.add_routes(RechargeRoutes(services.recharge, services.clock).routes())
    admin_deps = AdminDeps(
        services.db,
        services.clock,
        services.keyring,
        services.rules,
        ZoneInfo(settings.timezone),
        settings.default_region,
        settings.default_lang,
        settings.staff_changes_per_day,
    )
    app.add_subapp(ADMIN_BASE, build_admin_app(admin_deps))
    if settings.outbox_drain if drain is None else drain:
        app.cleanup_ctx.append(_outbox_drain)
    if services.telegram is not None:
        secret = _secret(settings.telegram_secret)
        webhook = TelegramWebhook(services.telegram, secret=secret, public_url=settings.public_url)
        webhook.attach(app)
        if settings.outbox_drain if drain is None else drain:
            app.cleanup_ctx.append(_telegram_drain)
    return app
