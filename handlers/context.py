"""What a handler gets: the open unit of work, who is asking, the time, the policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from core.orders.orders import OrderPolicy
from core.platform.codes import Keyring
from core.subscribers.subscribers import Subscriber
from handlers.i18n import t


@dataclass(frozen=True)
class HallPolicy:
    """Settings of the command language, built once by the composition root."""

    segment_budget: int = 2
    rate_limit_per_minute: int = 20
    home_lang: str = "zh"
    region: str = "CN"
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    more_ttl_seconds: int = 600
    orders: OrderPolicy = field(default_factory=OrderPolicy)
    pay_base_url: str = "http://127.0.0.1:8080"
    """Where pay links point (``GET /pay/{no}``): our public URL."""


@dataclass
class Context:
    conn: Connection
    subscriber: Subscriber
    now: int
    policy: HallPolicy
    lang: str
    keyring: Keyring
    request_key: str
    """``channel:message id`` of the message being answered: the idempotency key of its effects."""
    channel: str = "sms"

    def t(self, key: str, **args: Any) -> str:
        return t(self.lang, key, **args)
