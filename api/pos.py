"""POS terminals (DESIGN §7): ``POST /pos/v1/vouchers/verify`` and ``POST /pos/v1/payments``.

Every request is signed by the terminal's key (``core.merchants.merchants.terminal_secret``):

    X-Terminal-Id: T-0001
    X-Timestamp:   Unix seconds, within 5 minutes of our clock
    X-Nonce:       16-64 characters [A-Za-z0-9_-], never reused by this terminal
    X-Signature:   hex HMAC-SHA256(key, METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nsha256_hex(body))

A missing or bad signature, an old timestamp or a nonce seen before is answered
401 with a reason and has no effect. The nonce is recorded in the same
transaction as the request's effect. Answers are JSON: ``{"ok": true, ...}`` or
``{"ok": false, "reason": "..."}`` (``api.pos_errors``).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy import Connection

from api.pos_errors import error_body
from core.merchants import merchants
from core.merchants.merchants import TerminalView
from core.payments import pos
from core.payments.pos import Checked, PaymentDone, PaymentRequest
from core.platform.clock import Clock, epoch
from core.platform.codes import Keyring, UnknownKey
from core.platform.db import Database
from core.platform.errors import DomainError
from core.platform.phones import to_e164
from core.vouchers import verification
from core.vouchers.verification import Refused

MAX_SKEW_SECONDS = 300
NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")
KEY = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
HEADERS = ("X-Terminal-Id", "X-Timestamp", "X-Nonce", "X-Signature")


def string_to_sign(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return "\n".join((method.upper(), path, timestamp, nonce, digest)).encode()


def sign(key: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = string_to_sign(method, path, timestamp, nonce, body)
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


class Unauthorized(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BadRequest(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Signed:
    terminal_id: str
    timestamp: str
    nonce: str
    signature: str
    method: str
    path: str
    body: bytes


Effect = Callable[[Connection, TerminalView, dict[str, Any], int, Any], tuple[int, dict[str, Any]]]
Prepare = Callable[[bytes], Awaitable[Any]]


class PosApi:
    def __init__(self, db: Database, clock: Clock, keyring: Keyring, region: str = "CN") -> None:
        self._db = db
        self._clock = clock
        self._keyring = keyring
        self._region = region

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/pos/v1/vouchers/verify", self.verify),
            web.post("/pos/v1/payments", self.payments),
        ]

    async def verify(self, request: web.Request) -> web.Response:
        """Verify a voucher by order number + password or by QR token."""
        return await self._handle(request, self._verify)

    async def payments(self, request: web.Request) -> web.Response:
        """Pay with points: phone number, points password, second password, amount, key."""
        return await self._handle(request, self._pay, self._check_passwords)

    async def _handle(
        self, request: web.Request, effect: Effect, prepare: Prepare | None = None
    ) -> web.Response:
        body = await request.read()
        try:
            signed = self._signed(request, body)
            now = epoch(self._clock.now())
            if abs(now - int(signed.timestamp)) > MAX_SKEW_SECONDS:
                raise Unauthorized("stale_timestamp")
            prepared = None
            if prepare is not None:
                # Slow work (password hashes) runs outside the unit of work, and only
                # for a correctly signed request.
                await self._db.read(lambda conn: self._fresh(conn, signed))
                prepared = await prepare(body)
            status, answer = await self._db.write(
                lambda conn: self._authorised(conn, signed, now, effect, prepared)
            )
        except Unauthorized as exc:
            return web.json_response({"ok": False, "reason": exc.reason}, status=401)
        return web.json_response(answer, status=status)

    @staticmethod
    def _signed(request: web.Request, body: bytes) -> Signed:
        values = [request.headers.get(h, "") for h in HEADERS]
        if not all(values):
            raise Unauthorized("missing_signature")
        terminal_id, timestamp, nonce, signature = values
        if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
            raise Unauthorized("bad_timestamp")
        if not NONCE.fullmatch(nonce):
            raise Unauthorized("bad_nonce")
        return Signed(terminal_id, timestamp, nonce, signature, request.method, request.path, body)

    def _terminal(self, conn: Connection, signed: Signed) -> TerminalView:
        """The signing terminal, or ``Unauthorized``."""
        terminal = merchants.find_terminal(conn, signed.terminal_id)
        # An unknown terminal (or one whose root key is gone) is checked against a
        # throwaway key, so every refusal costs the same.
        try:
            key = merchants.terminal_secret(
                self._keyring,
                signed.terminal_id,
                terminal.secret_version if terminal else 0,
                terminal.key_id if terminal else self._keyring.current_id,
            )
        except UnknownKey:
            terminal = None
            key = merchants.terminal_secret(
                self._keyring, signed.terminal_id, 0, self._keyring.current_id
            )
        expected = sign(
            key, signed.method, signed.path, signed.timestamp, signed.nonce, signed.body
        )
        if not hmac.compare_digest(expected, signed.signature.lower()) or terminal is None:
            raise Unauthorized("bad_signature")
        return terminal

    def _fresh(self, conn: Connection, signed: Signed) -> None:
        """A read-only look ahead: signed, and its nonce not seen before."""
        terminal = self._terminal(conn, signed)
        if merchants.nonce_seen(conn, terminal.id, signed.nonce):
            raise Unauthorized("replayed_nonce")

    def _authorised(
        self, conn: Connection, signed: Signed, now: int, effect: Effect, prepared: Any
    ) -> tuple[int, dict[str, Any]]:
        terminal = self._terminal(conn, signed)
        if not merchants.claim_nonce(conn, terminal.id, signed.nonce, now):
            raise Unauthorized("replayed_nonce")
        try:
            payload = json.loads(signed.body or b"{}")
            if not isinstance(payload, dict):
                raise BadRequest("body_not_object")
            return effect(conn, terminal, payload, now, prepared)
        except (ValueError, BadRequest) as exc:
            reason = exc.reason if isinstance(exc, BadRequest) else "bad_json"
            return 400, {"ok": False, "reason": reason}
        except DomainError as exc:
            return error_body(exc)

    def _verify(
        self,
        conn: Connection,
        terminal: TerminalView,
        payload: dict[str, Any],
        now: int,
        _prepared: Any,
    ) -> tuple[int, dict[str, Any]]:
        actor = merchants.terminal_actor(terminal)
        token, no, password = (payload.get(k) for k in ("qr_token", "order_no", "password"))
        if isinstance(token, str) and token:
            outcome = verification.verify_by_token(
                conn, actor, token[:200], now, keyring=self._keyring
            )
        elif isinstance(no, str) and isinstance(password, str) and no and password:
            outcome = verification.verify_by_password(
                conn, actor, no[:20], password[:20], now, keyring=self._keyring
            )
        else:
            raise BadRequest("need_qr_token_or_order_no_and_password")
        if isinstance(outcome, Refused):
            return error_body(outcome.error)
        found = outcome.voucher
        return 200, {
            "ok": True,
            "order_no": found.no,
            "item": {"zh": found.item_zh, "en": found.item_en},
            "qty": found.qty,
            "verified_at": outcome.at,
        }

    def _payment(self, payload: dict[str, Any]) -> PaymentRequest:
        fields = ("msisdn", "points_password", "second_password", "idempotency_key")
        texts = [payload.get(f) for f in fields]
        points = payload.get("points")
        if not all(isinstance(v, str) and v for v in texts):
            raise BadRequest("missing_field")
        if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
            raise BadRequest("bad_points")
        msisdn, points_password, second_password, key = (str(v) for v in texts)
        if not KEY.fullmatch(key):
            raise BadRequest("bad_idempotency_key")
        return PaymentRequest(
            to_e164(msisdn, self._region), points_password[:20], second_password[:20], points, key
        )

    async def _check_passwords(self, body: bytes) -> Checked | None:
        """Run the slow password hashes in a worker thread, before the unit of work."""
        try:
            payload = json.loads(body or b"{}")
            request = self._payment(payload) if isinstance(payload, dict) else None
        except (ValueError, BadRequest, DomainError):
            return None  # the unit of work answers it
        if request is None:
            return None
        stored = await self._db.read(lambda conn: pos.load(conn, request.msisdn))
        if stored is None:
            return None
        return await asyncio.to_thread(pos.check, self._keyring, stored, request)

    def _pay(
        self,
        conn: Connection,
        terminal: TerminalView,
        payload: dict[str, Any],
        now: int,
        prepared: Any,
    ) -> tuple[int, dict[str, Any]]:
        request = self._payment(payload)
        checked = prepared if isinstance(prepared, Checked) else None
        outcome = pos.pay(conn, terminal, request, now, self._keyring, checked)
        if not isinstance(outcome, PaymentDone):
            return error_body(outcome.error)
        done = outcome.deduction
        return 200, {
            "ok": True,
            "points": done.points,
            "balance": done.balance_after,
            "entry_id": done.entry_id,
            "repeated": done.repeated,
        }
