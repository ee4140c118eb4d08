"""What a handler answers; each channel renders it (TwiML, plain text, a chat message)."""

from __future__ import annotations

from dataclasses import dataclass

from core.platform.codes import mask


@dataclass(frozen=True)
class Reply:
    text: str
    more: str | None = None
    """The command that ``MORE`` continues with, when the answer has another page."""
    secrets: tuple[str, ...] = ()
    """What in ``text`` is a secret (a confirm code): sent, but recorded masked (issue 13 §1)."""

    @property
    def recorded(self) -> str:
        """The text as it may be stored and logged."""
        return mask(self.text, self.secrets)
