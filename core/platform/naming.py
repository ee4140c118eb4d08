"""What a code and a shown name in the catalogue (categories, brands, items, activities,
merchants, announcements) may be, for every way one is written: the catalogue file, the
CLI, the admin API, a merchant's submission.

A code is what a subscriber texts (``XQ 1024``, ``SP HF``), so it is what the SMS grammar
accepts: 1–16 upper-case letters, digits or ``-``, starting with a letter or digit. A
name is shown in replies and screens: not blank, at most ``MAX_NAME`` characters, no
control characters (they would break an SMS and a Telegram message alike).
"""

from __future__ import annotations

import re

from core.platform.errors import Invalid

MAX_CODE = 16
MAX_NAME = 64
CODE = re.compile(r"[0-9A-Z][0-9A-Z-]{0,15}")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class BadName(Invalid, ValueError):
    """A code or name that may not be written. An ``Invalid`` (a ``DomainError``), so every
    channel's table answers it (the admin API 422, not 500: issue 13 §6), and a
    ``ValueError`` for the callers that catch one (the catalogue file, the CLI)."""

    def __str__(self) -> str:
        return f"{self.field} {self.problem}"


def code(raw: str, what: str) -> str:
    """``raw`` upper-cased (SMS commands arrive upper-cased), or ``BadName`` naming
    ``what`` when it is not a code a subscriber could text."""
    found = raw.strip().upper()
    if not CODE.fullmatch(found):
        raise BadName(what, f"{raw[:40]!r} must be 1-{MAX_CODE} letters, digits or '-'")
    return found


def name(raw: str, what: str, limit: int = MAX_NAME) -> str:
    """``raw`` without surrounding blanks, or ``BadName`` naming ``what`` when it is blank,
    longer than ``limit`` characters or holds a control character."""
    found = raw.strip()
    if not found:
        raise BadName(what, "is empty")
    if len(found) > limit:
        raise BadName(what, f"is longer than {limit} characters")
    if CONTROL.search(found):
        raise BadName(what, "contains a control character")
    return found


MAX_BODY = 2000
BODY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def body(raw: str, what: str) -> str:
    """A longer text (an announcement's body): like ``name``, but line breaks are allowed
    and up to ``MAX_BODY`` characters."""
    found = raw.strip()
    if not found:
        raise BadName(what, "is empty")
    if len(found) > MAX_BODY:
        raise BadName(what, f"is longer than {MAX_BODY} characters")
    if BODY_CONTROL.search(found):
        raise BadName(what, "contains a control character")
    return found
