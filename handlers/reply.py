"""What a handler answers; each channel renders it (TwiML, plain text, a chat message)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reply:
    text: str
    more: str | None = None
    """The command that ``MORE`` continues with, when the answer has another page."""
