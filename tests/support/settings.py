"""The settings every test app runs with: known secrets and a public URL."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

from pointshall.bootstrap import Services
from pointshall.config import Settings

TWILIO_TOKEN = "test-twilio-auth-token"
PUBLIC_URL = "https://hall.example.com"
KANNEL_SECRET = "kannel-shared-secret"
ROOT_KEY = "k1:cG9pbnRzaGFsbCB0ZXN0IHJvb3Qga2V5LCBrMSAuLi4"
"""The tests' root key (``pointshall key new`` makes real ones), never in the database."""


def make_settings(database_url: str, **overrides: object) -> Settings:
    """Settings for a test app; SMS sent by the console transport reach a handset file of
    their own (``tests.support.helpers.received``)."""
    handset = Path(tempfile.gettempdir()) / f"pointshall-handset-{uuid.uuid4().hex}.txt"
    values: dict[str, object] = {
        "console_handset": handset,
        "database_url": database_url,
        "twilio_auth_token": TWILIO_TOKEN,
        "public_url": PUBLIC_URL,
        "kannel_secret": KANNEL_SECRET,
        "secret_key": ROOT_KEY,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def forget_handset(services: Services) -> None:
    """Delete the handset file of ``services``' settings, if anything was delivered to it."""
    if services.settings.console_handset is not None:
        services.settings.console_handset.unlink(missing_ok=True)
