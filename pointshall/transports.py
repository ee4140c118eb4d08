"""Build the outbound SMS transport and the drain from settings (the composition root)."""

from __future__ import annotations

from telegram import Bot

from bot.sender import GLOBAL_RATE
from core.messaging.drain import DrainPolicy
from core.messaging.ratelimit import Pacer, RateLimiter, WallTimer
from core.messaging.send_rate import SharedRateLimiter
from core.messaging.transport import Transport
from core.platform.db import Database
from core.platform.errors import ConfigurationError
from pointshall.config import Settings
from sms.console_outbound import ConsoleTransport
from sms.kannel_outbound import KannelTransport
from sms.twilio_outbound import TwilioTransport


def _secret(value: object) -> str:
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if getter else ""


def drain_policy(settings: Settings) -> DrainPolicy:
    return DrainPolicy(
        rate=settings.outbox_rate,
        burst=settings.outbox_burst,
        max_attempts=settings.outbox_max_attempts,
        backoff=settings.outbox_backoff,
        max_in_flight=settings.outbox_max_in_flight,
        lease=settings.outbox_lease,
    )


def pacer(
    db: Database, name: str, policy: DrainPolicy, timer: WallTimer, settings: Settings
) -> Pacer:
    """The rate limiter of one outbound rate (issue 15 §4).

    On PostgreSQL the rate is the deployment's: every replica draws its send slots from
    the row ``send_rate(name)``, so ``POINTSHALL_OUTBOX_RATE`` is what all replicas send
    together. On SQLite one process is assumed (as for the job locks): it paces itself.
    """
    if db.dialect == "postgresql":
        return SharedRateLimiter(db, name, policy.rate, timer, slack=settings.outbox_slack)
    return RateLimiter(policy.rate, policy.burst, timer)


def sms_rate_name(settings: Settings) -> str:
    """The shared rate of the SMS sender: one per provider and sending number or code."""
    sender = {
        "twilio": settings.twilio_from,
        "kannel": settings.kannel_from,
    }.get(settings.sms_transport)
    return f"sms:{settings.sms_transport}:{sender or '-'}"[:80]


def telegram_rate_name(settings: Settings) -> str:
    """The shared rate of the Telegram bot: its numeric id (the token's public half)."""
    assert settings.telegram_token is not None
    bot_id = settings.telegram_token.get_secret_value().partition(":")[0]
    return f"telegram:{bot_id}"[:80]


def build_transport(settings: Settings) -> Transport:
    """The transport ``POINTSHALL_SMS_TRANSPORT`` names; call inside the running event loop."""
    settings.check_transport()
    if settings.sms_transport == "twilio":
        assert settings.twilio_account_sid and settings.twilio_from and settings.public_url
        return TwilioTransport(
            account_sid=settings.twilio_account_sid,
            auth_token=_secret(settings.twilio_auth_token),
            sender=settings.twilio_from,
            public_url=settings.public_url,
            api_base=settings.twilio_api_base,
        )
    if settings.sms_transport == "kannel":
        assert settings.kannel_url and settings.kannel_user
        callback = settings.kannel_dlr_base or settings.public_url
        if not callback:
            callback = f"http://{settings.host}:{settings.port}"
        return KannelTransport(
            url=settings.kannel_url,
            username=settings.kannel_user,
            password=_secret(settings.kannel_pass),
            callback_url=callback,
            secret=_secret(settings.kannel_secret),
            sender=settings.kannel_from,
        )
    if settings.sms_transport == "console":
        return ConsoleTransport(handset=settings.console_handset)
    raise ConfigurationError(f"unknown POINTSHALL_SMS_TRANSPORT {settings.sms_transport!r}")


# ---------------------------------------------------------------- Telegram outbox (§10)


def telegram_drain_policy(settings: Settings) -> DrainPolicy:
    """About 30 messages a second overall; the per-chat second is kept by the transport."""
    return DrainPolicy(
        rate=GLOBAL_RATE,
        burst=int(GLOBAL_RATE),
        max_attempts=settings.outbox_max_attempts,
        backoff=settings.outbox_backoff,
        max_in_flight=settings.outbox_max_in_flight,
        lease=settings.outbox_lease,
    )


def telegram_bot(settings: Settings) -> Bot:
    """A Bot for the outbox's sends, with its own connection pool (needs a token)."""
    assert settings.telegram_token is not None
    token = settings.telegram_token.get_secret_value()
    if settings.telegram_api_url:
        file_url = settings.telegram_file_url or settings.telegram_api_url
        return Bot(token, base_url=settings.telegram_api_url, base_file_url=file_url)
    return Bot(token)
