"""The two languages the product speaks, and picking one for a web request."""

from __future__ import annotations

LANGS = ("zh", "en")


def accept_lang(header: str | None, default: str) -> str:
    """The first of zh/en named in an ``Accept-Language`` header, else ``default``."""
    for part in (header or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return default
