"""Build everything once, from settings, and hand it in (cosmicpython's bootstrap)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from api.payment_gateway import HttpGateway
from api.recharge_gateway import HttpRecharge
from core.orders.orders import OrderPolicy
from core.payments.saga import PaymentContext
from core.platform.clock import Clock, SystemClock
from core.platform.codes import Keyring
from core.platform.db import Database, open_database
from core.points.accrual import AccrualRules
from core.recharge.delivery import RechargeContext
from core.recharge.topups import RechargePolicy
from handlers.context import HallPolicy
from handlers.hall import Hall
from pointshall import migrate, root_key
from pointshall.config import Settings

if TYPE_CHECKING:  # python-telegram-bot is imported only when a bot is configured
    from bot.types import TelegramApp


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock
    hall: Hall
    rules: AccrualRules
    keyring: Keyring
    telegram: TelegramApp | None = None
    """The bot, when ``POINTSHALL_TELEGRAM_TOKEN`` is set; started by the web app or ``bot``."""
    payments: PaymentContext | None = None
    """The payment saga's gateway, when ``POINTSHALL_GATEWAY_URL`` and ``_SECRET`` are set."""
    recharge: RechargeContext | None = None
    """The recharge provider, when ``POINTSHALL_RECHARGE_URL`` and ``_SECRET`` are set."""

    async def close(self) -> None:
        if self.payments is not None:
            await self.payments.gateway.close()
        if self.recharge is not None:
            await self.recharge.gateway.close()
        await self.db.dispose()


def policy_from(settings: Settings) -> HallPolicy:
    zone = ZoneInfo(settings.timezone)
    return HallPolicy(
        segment_budget=settings.segment_budget,
        rate_limit_per_minute=settings.rate_limit_per_minute,
        home_lang=settings.default_lang,
        region=settings.default_region,
        timezone=zone,
        pay_base_url=base_url(settings),
        orders=OrderPolicy(
            pay_seconds=settings.order_timeout_minutes * 60,
            max_qty=settings.max_quantity,
            timezone=zone,
        ),
    )


async def bootstrap(
    settings: Settings,
    *,
    clock: Clock | None = None,
    upgrade: bool = True,
    demo_key: Path | None = None,
) -> Services:
    """Open the database (migrating it to head unless told not to) and wire the hall.

    Refuses (``ConfigurationError``) before touching the database when no root key is
    configured outside it; ``demo_key`` is the key file the demo may make and use instead
    (``pointshall.root_key``)."""
    clock = clock or SystemClock()
    held = root_key.load(settings, demo_key)
    db = open_database(settings.database_url, pool_size=settings.db_pool_size)
    try:
        if upgrade:
            await migrate.upgrade(db)
        keyring = await root_key.keyring_for(settings, db, held, demo_key)
    except BaseException:
        await db.dispose()
        raise
    hall = Hall(policy_from(settings), clock, keyring)
    telegram = None
    if settings.telegram_token is not None:
        from bot.build import build_application

        telegram = build_application(
            settings.telegram_token.get_secret_value(),
            db=db,
            hall=hall,
            keyring=keyring,
            clock=clock,
            api_url=settings.telegram_api_url,
            file_url=settings.telegram_file_url,
        )
    services = Services(settings, db, clock, hall, settings.accrual_rules(), keyring, telegram)
    services.payments = payment_context(settings, db, keyring)
    services.recharge = recharge_context(settings, db)
    return services


def base_url(settings: Settings) -> str:
    """Where the outside world reaches us: ``POINTSHALL_PUBLIC_URL`` or host:port."""
    return settings.public_url or f"http://{settings.host}:{settings.port}"


def payment_context(settings: Settings, db: Database, keyring: Keyring) -> PaymentContext | None:
    if settings.gateway_url is None or settings.gateway_secret is None:
        return None
    gateway = HttpGateway(
        settings.gateway_url,
        settings.gateway_secret.get_secret_value(),
        callback_url=f"{base_url(settings)}/payments/callback",
    )
    return PaymentContext(
        db, gateway, keyring, ZoneInfo(settings.timezone), settings.payment_grace_seconds
    )


def recharge_context(settings: Settings, db: Database) -> RechargeContext | None:
    """Phone-credit delivery (issue 16 §2), when the recharge provider is configured."""
    if settings.recharge_url is None or settings.recharge_secret is None:
        return None
    gateway = HttpRecharge(
        settings.recharge_url,
        settings.recharge_secret.get_secret_value(),
        callback_url=f"{base_url(settings)}/recharge/callback",
        timeout_seconds=settings.recharge_timeout_seconds,
    )
    policy = RechargePolicy(
        grace=settings.recharge_grace_seconds,
        first_backoff=settings.recharge_backoff_seconds,
        max_attempts=settings.recharge_max_attempts,
    )
    return RechargeContext(db, gateway, policy)
