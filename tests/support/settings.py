"""The settings every test app runs with: known secrets and a public URL."""

from __future__ import annotations

from pointshall.config import Settings

TWILIO_TOKEN = "test-twilio-auth-token"
PUBLIC_URL = "https://hall.example.com"
KANNEL_SECRET = "kannel-shared-secret"
ROOT_KEY = "k1:cG9pbnRzaGFsbCB0ZXN0IHJvb3Qga2V5LCBrMSAuLi4"
"""The tests' root key (``pointshall key new`` makes real ones), never in the database."""


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "twilio_auth_token": TWILIO_TOKEN,
        "public_url": PUBLIC_URL,
        "kannel_secret": KANNEL_SECRET,
        "secret_key": ROOT_KEY,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]
