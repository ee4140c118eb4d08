"""No token or secret in any log line (issue 13 §1).

One ``logging.Filter`` on the handlers ``serve`` and ``bot --polling`` log through, so it
sees every record of every library (httpx logs each Bot API URL, which carries the bot's
token; a path ``/tg/{secret}`` carries the webhook's secret). It rewrites the message and
any traceback: the configured secrets wherever they appear, and by their shape a
Telegram bot token (``123456789:AA…``), the secret of a ``/tg/…`` path and every query
string of a URL or request line.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterable

from pydantic import SecretStr

from pointshall.config import Settings

HIDDEN = "[redacted]"
_SHAPES = (
    (re.compile(r"(?<![0-9])[0-9]{5,16}:[A-Za-z0-9_-]{30,}"), HIDDEN),  # a bot token
    (re.compile(r"/tg/[^/\s?\"']+"), f"/tg/{HIDDEN}"),
    # a query string: Kannel's MO carries the shared secret and the text (a code, a
    # password) there, a pay link its token; aiohttp's own access log shows it
    (re.compile(r"(/[^\s?\"']*)\?[^\s\"']+"), rf"\g<1>?{HIDDEN}"),
)
MIN_SECRET = 4
"""Shorter configured values are not searched for (they would mask ordinary words)."""


def configured_secrets(settings: Settings) -> list[str]:
    """Every secret value among ``settings`` (tokens, shared secrets, the root keys)."""
    found: list[str] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr) and value.get_secret_value():
            found.extend(v for v in value.get_secret_value().split() if v)
    return found


class SecretFilter(logging.Filter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if len(s) >= MIN_SECRET}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, HIDDEN)
        for pattern, replacement in _SHAPES:
            text = pattern.sub(replacement, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = self.redact("".join(traceback.format_exception(*record.exc_info)))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def install(secrets: Iterable[str] = ()) -> SecretFilter:
    """Put a ``SecretFilter`` on every handler of the root logger (call after configuring)."""
    found = SecretFilter(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(found)
    return found
