"""Settings from ``POINTSHALL_*`` environment variables (DESIGN.md §7)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.backoffice.staffing import DEFAULT_ALONE_PER_DAY
from core.platform.errors import ConfigurationError, InvalidPhoneNumber
from core.platform.phones import to_e164
from core.points.accrual import DEFAULT_TENURE_RATES, AccrualRules

TRANSPORT_NEEDS: dict[str, tuple[str, ...]] = {
    "console": (),
    "twilio": ("twilio_account_sid", "twilio_auth_token", "twilio_from", "public_url"),
    "kannel": ("kannel_url", "kannel_user", "kannel_pass", "kannel_secret"),
}


DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/pointshall.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="POINTSHALL_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    public_url: str | None = None
    secret_key: SecretStr | None = None
    """The root keys' text (``pointshall key new``); never kept in the database (issue 13 §2)."""
    secret_key_file: Path | None = None
    """A file holding the root keys, readable by its owner only (``pointshall.root_key``)."""

    sms_transport: Literal["console", "twilio", "kannel"] = "console"
    console_handset: Path | None = None
    """Where the console transport writes whole messages, secrets included (the demo's phone);
    ``serve``'s log shows them with their secrets masked."""
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
    outbox_lease: int = Field(default=300, ge=1)
    """Seconds a claimed message may stay ``sending`` before a drain calls its outcome unknown."""
    outbox_slack: float = Field(default=0.03, ge=0, lt=1)
    """PostgreSQL: seconds of margin per one-second window of the shared rate (send_rate)."""
    telegram_token: SecretStr | None = None
    telegram_secret: SecretStr | None = None
    telegram_api_url: str | None = None
    """Another Bot API server (a local one, or a fake in tests), e.g. ``http://host:8081/bot``."""
    telegram_file_url: str | None = None

    log_format: Literal["auto", "json", "text"] = "auto"
    """``serve``'s log lines: readable text on a terminal and JSON otherwise (``auto``)."""
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
    # the billing feed inbox (issue 16 §4): the feed-inbox job imports what is dropped here
    feed_inbox: Path | None = None
    feed_strict: bool = True
    """Refuse (move to ``rejected/``) a file with any bad row, as ``accrue --strict``."""
    feed_marker: bool = True
    """A file is complete once ``NAME.csv.done`` (or ``NAME.done``) exists; ``false``: the
    sender renames each finished file into the inbox (an atomic rename)."""
    feed_alert_phones: str = ""
    """Operators' phones, comma-separated, texted when a file is refused."""
    feed_lease_seconds: int = Field(default=3600, ge=60)
    """After this long a claim still ``importing`` (its process died) is taken over."""
    # phone credit (issue 16 §2): the recharge provider's API and the secret of its callbacks
    recharge_url: str | None = None
    recharge_secret: SecretStr | None = None
    recharge_grace_seconds: int = Field(default=300, ge=0)
    """How long a submitted top-up waits for the provider's callback before it is asked."""
    recharge_backoff_seconds: int = Field(default=60, ge=1)
    recharge_max_attempts: int = Field(default=10, ge=1)
    recharge_timeout_seconds: float = Field(default=10.0, gt=0)
    fake_recharge_port: int = 8082
    """``serve --demo`` runs the fake recharge provider here when none is configured."""

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

    def feed_alert_numbers(self) -> tuple[str, ...]:
        """``POINTSHALL_FEED_ALERT_PHONES`` in E.164; ``ConfigurationError`` naming a bad one."""
        numbers = []
        for raw in self.feed_alert_phones.split(","):
            if not raw.strip():
                continue
            try:
                numbers.append(to_e164(raw.strip(), self.default_region))
            except InvalidPhoneNumber:
                raise ConfigurationError(
                    f"POINTSHALL_FEED_ALERT_PHONES: {raw.strip()!r} is not a phone number"
                ) from None
        return tuple(numbers)

    def check_feed_inbox(self) -> None:
        """Fail start-up when the feed inbox is set but is not a folder, or a phone is bad."""
        if self.feed_inbox is not None and not self.feed_inbox.is_dir():
            raise ConfigurationError(f"POINTSHALL_FEED_INBOX: {self.feed_inbox} is not a folder")
        self.feed_alert_numbers()

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


def problems(exc: ValidationError) -> str:
    """Pydantic's report in one line, naming each setting by its environment variable:
    ``POINTSHALL_PORT: Input should be a valid integer…; POINTSHALL_TIMEZONE: …``."""
    prefix = str(Settings.model_config.get("env_prefix", "")).upper()
    found = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "settings"
        message = str(error["msg"]).removeprefix("Value error, ")
        found.append(f"{prefix}{field.upper()}: {message}")
    return "; ".join(found)
