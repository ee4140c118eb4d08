"""Settings from ``POINTSHALL_*`` environment variables (DESIGN.md §7)."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.backoffice.staffing import DEFAULT_ALONE_PER_DAY
from core.platform.errors import ConfigurationError
from core.points.accrual import DEFAULT_TENURE_RATES, AccrualRules

TRANSPORT_NEEDS: dict[str, tuple[str, ...]] = {
    "console": (),
    "twilio": ("twilio_account_sid", "twilio_auth_token", "twilio_from", "public_url"),
    "kannel": ("kannel_url", "kannel_user", "kannel_pass", "kannel_secret"),
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POINTSHALL_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///var/pointshall.db"
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str | None = None
    secret_key: SecretStr | None = None

    sms_transport: Literal["console", "twilio", "kannel"] = "console"
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from: str | None = None
    kannel_url: str | None = None
    kannel_user: str | None = None
    kannel_pass: SecretStr | None = None
    kannel_secret: SecretStr | None = None
    kannel_from: str | None = None
    kannel_dlr_base: str | None = None
    twilio_api_base: str | None = None

    outbox_rate: float = Field(default=1.0, gt=0)
    outbox_burst: int = Field(default=1, ge=1)
    outbox_max_attempts: int = Field(default=8, ge=1)
    outbox_backoff: float = Field(default=30.0, gt=0)
    outbox_max_in_flight: int = Field(default=16, ge=1)
    outbox_drain: bool = True
    telegram_token: SecretStr | None = None
    telegram_secret: SecretStr | None = None
    telegram_api_url: str | None = None
    """Another Bot API server (a local one, or a fake in tests), e.g. ``http://host:8081/bot``."""
    telegram_file_url: str | None = None

    timezone: str = "Asia/Shanghai"
    default_region: str = "CN"
    default_lang: Literal["zh", "en"] = "zh"
    tenure_rates: str = DEFAULT_TENURE_RATES
    expiry_years: int = 1
    rate_limit_per_minute: int = 20
    segment_budget: int = 2
    db_pool_size: int = 10
    order_timeout_minutes: int = 15
    max_quantity: int = 10
    expiry_notice_days: int = 30
    # payments (§3.5.6): the gateway's API, the shared secret signing its callbacks
    gateway_url: str | None = None
    gateway_secret: SecretStr | None = None
    payment_grace_seconds: int = Field(default=300, ge=0)
    staff_changes_per_day: int = Field(default=DEFAULT_ALONE_PER_DAY, ge=0)
    """Operator staff changes (creations, role changes, re-enablings) an admin makes alone
    in 24 hours; beyond it each waits for a second admin (issue 13 §3). 0: every one."""
    fake_gateway_port: int = 8081
    """``serve --demo`` runs the fake gateway on this port when no gateway is configured."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    def check_payments(self, money_items: int) -> None:
        """Fail start-up when items are sold for money but no gateway is configured, or no
        public URL for the pay links and the gateway's callbacks (issue 14 item 5)."""
        if money_items and (self.gateway_url is None or self.gateway_secret is None):
            raise ConfigurationError(
                f"{money_items} item(s) take cash, phone_bill or online_bank: "
                "POINTSHALL_GATEWAY_URL and POINTSHALL_GATEWAY_SECRET must be set"
            )
        if money_items and not self.public_url:
            raise ConfigurationError(
                f"{money_items} item(s) take cash, phone_bill or online_bank: "
                "POINTSHALL_PUBLIC_URL must be set (pay links and gateway callbacks use it)"
            )

    def accrual_rules(self) -> AccrualRules:
        return AccrualRules.parse(
            self.tenure_rates, expiry_years=self.expiry_years, timezone=self.timezone
        )

    def check_transport(self) -> None:
        """Fail start-up, naming the variable, when the chosen SMS transport lacks a setting."""
        for name in TRANSPORT_NEEDS[self.sms_transport]:
            value = getattr(self, name)
            if value is None or (isinstance(value, SecretStr) and not value.get_secret_value()):
                raise ConfigurationError(
                    f"POINTSHALL_{name.upper()} must be set when "
                    f"POINTSHALL_SMS_TRANSPORT={self.sms_transport}"
                )
        if self.telegram_token is not None and self.telegram_secret is None:
            raise ConfigurationError(
                "POINTSHALL_TELEGRAM_SECRET must be set when POINTSHALL_TELEGRAM_TOKEN is"
            )
        try:
            self.accrual_rules()
        except ValueError as exc:
            raise ConfigurationError(f"POINTSHALL_TENURE_RATES: {exc}") from None
