"""The payment gateway as the domain sees it (DESIGN.md §5), and its signed callbacks.

A charge is made with an idempotency key, so asking twice makes one charge; a
refund likewise. The gateway tells us a charge succeeded with a callback signed
like Stripe's: header ``Pointshall-Signature: t=<unix seconds>,v1=<hex>`` where
``v1 = HMAC-SHA256(secret, "<t>.<raw body>")``.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Protocol

SIGNATURE_HEADER = "Pointshall-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
SIGNATURE_TOLERANCE = 300
CHARGE_STATUSES = ("pending", "succeeded", "cancelled", "refunded")


@dataclass(frozen=True)
class Charge:
    id: str
    status: str  # one of CHARGE_STATUSES
    amount_cents: int
    pay_url: str
    refunded_cents: int = 0


@dataclass(frozen=True)
class Refund:
    id: str
    charge_id: str
    amount_cents: int


class PaymentGateway(Protocol):
    """What the saga needs from a gateway; every call may raise ``GatewayUnavailable``."""

    async def create_charge(
        self, order_no: str, amount_cents: int, method: str, idempotency_key: str
    ) -> Charge: ...

    async def query(self, charge_id: str) -> Charge: ...

    async def cancel(self, charge_id: str) -> Charge: ...

    async def refund(self, charge_id: str, amount_cents: int, idempotency_key: str) -> Refund: ...

    async def close(self) -> None: ...


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The value of the signature header for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: bytes, header: str | None, body: bytes, now: int) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` within the tolerance of ``now``.

    A header that is not printable ASCII (what a web server hands over for other bytes) is
    no signature: False, never an error.
    """
    if not header or not header.isascii() or not header.isprintable():
        return False
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > SIGNATURE_TOLERANCE or "v1" not in parts:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), f"t={timestamp},v1={parts['v1']}")
