"""What the outbox drain needs of an SMS gateway (DESIGN.md §10).

A ``Transport`` hands one message to a provider and says how it went: it returns
``Accepted`` once the provider has taken the message, or raises one of the
errors below. Which error matters, because it decides whether the drain may try
again without risking a second copy on the handset:

* ``RetryableSendError``: the provider certainly did not take the message
  (refused the connection, answered 429 or 5xx). Tried again after a back-off.
* ``RejectedSendError``: the provider refused this message for good (bad
  number, opted out at the carrier). Never tried again.
* ``UnknownOutcome``: the request may have reached the provider (a time-out or a
  dropped connection after sending). Not tried again automatically: an operator
  decides (``pointshall outbox retry``), or a delivery report settles it.

Any other exception is treated like ``UnknownOutcome``.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class OutboundMessage:
    id: int
    key: str
    recipient: str
    text: str
    kind: str
    attempt: int
    attachment: str | None = None
    """``qr:<token>``: a voucher's QR code to send as a photo (Telegram)."""
    redacted: str | None = None
    """The text with its secrets masked, when it carries any: what a log may show."""

    @property
    def printable(self) -> str:
        """What may be logged of the text: never a code or a password (issue 13 §1)."""
        return self.text if self.redacted is None else self.redacted


@dataclass(frozen=True)
class Accepted:
    provider_id: str | None
    parts: int = 1


class SendError(Exception):
    def __init__(self, reason: str, *, code: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class RetryableSendError(SendError):
    def __init__(
        self, reason: str, *, code: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(reason, code=code)
        self.retry_after = retry_after


class RejectedSendError(SendError):
    def __init__(self, reason: str, *, code: str | None = None, opted_out: bool = False) -> None:
        super().__init__(reason, code=code)
        self.opted_out = opted_out


class UnknownOutcome(SendError):
    pass


class Transport(Protocol):
    name: str

    async def send(self, message: OutboundMessage) -> Accepted: ...

    async def close(self) -> None: ...


@runtime_checkable
class RecipientTurns(Protocol):
    """A transport whose provider also limits each recipient (Telegram: a chat a second).

    The drain enters ``turn(message)`` *before* it waits for the rate's send slot and
    sends inside it, so waiting for the recipient never pushes a send past its slot.
    """

    def turn(self, message: OutboundMessage) -> AbstractAsyncContextManager[None]: ...
