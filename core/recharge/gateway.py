"""The recharge provider as the domain sees it (issue 16 §2): submit, query, callback.

A top-up is submitted with an idempotency key (``topup:{order no}``), so submitting it
again — after a time-out, a crash, a retry by staff — makes at most one recharge at the
provider. The provider answers ``pending`` (it credits the number later and tells us
by a signed callback), ``succeeded`` or ``failed`` (a definite failure: the number was
not credited and never will be for this key). Only a definite ``failed`` refunds the
subscriber; no answer at all (``RechargeNoAnswer``) is asked about again.

Callbacks are signed like the payment gateway's (``core.payments.gateway.sign``):
header ``Recharge-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">``
with the shared secret, within 5 minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

SIGNATURE_HEADER = "Recharge-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"
RECHARGE_STATUSES = (PENDING, SUCCEEDED, FAILED)


@dataclass(frozen=True)
class Recharge:
    """One recharge at the provider: ``amount_cents`` credited (or to be) to ``msisdn``
    (E.164); ``key`` is our idempotency key; ``failure`` the provider's code when failed."""

    id: str
    key: str
    msisdn: str
    amount_cents: int
    status: str  # one of RECHARGE_STATUSES
    failure: str = ""

    @property
    def final(self) -> bool:
        return self.status in (SUCCEEDED, FAILED)


class BadCallback(Exception):
    """A callback that is not a recharge event; it changes nothing."""


class BadSignature(BadCallback):
    """A callback not signed by the provider with our secret, or signed too long ago."""


class RechargeGateway(Protocol):
    """What delivery needs from a provider. ``submit`` and ``query`` raise
    ``core.recharge.errors.RechargeUnavailable`` (not taken), ``RechargeOutcomeUnknown``
    (maybe taken, answer lost); ``submit`` raises ``RechargeRefused`` for a definite no."""

    async def submit(self, *, key: str, msisdn: str, amount_cents: int) -> Recharge:
        """Ask for ``amount_cents`` (cents) of credit to ``msisdn``; the same ``key`` again
        returns the first recharge."""
        ...

    async def query(self, key: str) -> Recharge | None:
        """The recharge submitted with ``key``, or None when the provider never took it."""
        ...

    def read_callback(self, signature: str | None, body: bytes, now: int) -> Recharge:
        """The recharge a callback reports (``now``: UTC epoch seconds); raises
        ``BadSignature`` or ``BadCallback``."""
        ...

    async def close(self) -> None: ...
