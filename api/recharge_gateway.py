"""``RechargeGateway`` over HTTP (aiohttp): the recharge provider's JSON API.

``POST /v1/recharges`` with ``Idempotency-Key`` and ``{msisdn, amount_cents,
callback_url}`` → ``201``/``200 {id, idempotency_key, msisdn, amount_cents, status,
failure_code}``; ``GET /v1/recharges?idempotency_key=K`` → ``{"data": [recharge…]}``
(empty when the provider never took it); ``Authorization: Bearer <secret>``. The
provider's callbacks are ``{"id", "type": "recharge.succeeded"|"recharge.failed",
"data": recharge}`` signed with the same secret (``core.recharge.gateway``).

How answers are read, so that only a definite ``failed`` ever refunds:

| what happened | raised / returned |
|---|---|
| no connection, 503, 429, 401/403 or another 4xx | ``RechargeUnavailable`` (nothing done there) |
| time-out, dropped connection, other 5xx, not a recharge | ``RechargeOutcomeUnknown`` |
| 422 on submit (``{"error": {"code": …}}``) | ``RechargeRefused(code)`` |
| a recharge | ``Recharge`` (``pending``, ``succeeded`` or ``failed``) |
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from core.payments.gateway import verify
from core.platform import inputs
from core.recharge.errors import RechargeOutcomeUnknown, RechargeRefused, RechargeUnavailable
from core.recharge.gateway import (
    IDEMPOTENCY_HEADER,
    RECHARGE_STATUSES,
    BadCallback,
    BadSignature,
    Recharge,
)

TIMEOUT_SECONDS = 10.0
NOT_TAKEN = (401, 403, 429, 503)
"""Statuses by which the provider says it did nothing with the request."""
EVENTS = ("recharge.succeeded", "recharge.failed", "recharge.pending")
MAX_ID = 64
"""Characters of the provider's recharge id (``topup.provider_id``)."""
MAX_KEY = 160
MAX_MSISDN = 16
MAX_FAILURE = 200
"""Characters of a failure code (kept in ``topup.last_error``)."""
MAX_CENTS = 10**12


def _text(data: Any, name: str, most: int) -> str:
    """``data[name]`` as printable ASCII of 1 to ``most`` characters (what our columns and
    lookups take: PostgreSQL keeps no NUL), or ``ValueError``."""
    value = inputs.token(str(data[name]), most)
    if value is None:
        raise ValueError(f"{name} must be 1-{most} printable ASCII characters")
    return value


def recharge_from(data: Any) -> Recharge:
    """A ``Recharge`` from the provider's JSON object; ``ValueError`` if it is not one (a
    field missing, not printable ASCII or longer than we keep, an amount that is not a whole
    number of cents from 0 to ``MAX_CENTS``)."""
    try:
        status = str(data["status"])
        if status not in RECHARGE_STATUSES:
            raise ValueError(f"unknown recharge status {status!r}")
        amount = data["amount_cents"]
        if isinstance(amount, bool) or not isinstance(amount, int | str):
            raise ValueError("amount_cents must be a whole number")
        cents = int(amount)
        if not 0 <= cents <= MAX_CENTS:
            raise ValueError(f"amount_cents must be from 0 to {MAX_CENTS}")
        failure = data.get("failure_code") or ""
        return Recharge(
            id=_text(data, "id", MAX_ID),
            key=_text(data, "idempotency_key", MAX_KEY),
            msisdn=_text(data, "msisdn", MAX_MSISDN),
            amount_cents=cents,
            status=status,
            failure=_text({"failure_code": failure}, "failure_code", MAX_FAILURE)
            if failure
            else "",
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a recharge: {exc}") from exc


def _error_code(data: Any) -> str:
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        return str(error.get("code") or "refused")
    return str(error or "refused")


class HttpRecharge:
    """A ``core.recharge.gateway.RechargeGateway`` talking to ``base_url``."""

    def __init__(
        self,
        base_url: str,
        secret: str,
        callback_url: str,
        timeout_seconds: float = TIMEOUT_SECONDS,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.callback_url = callback_url
        self._secret = secret
        self._timeout = timeout_seconds
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                headers={"Authorization": f"Bearer {self._secret}"},
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _call(
        self, method: str, path: str, *, body: Any = None, key: str | None = None, **query: str
    ) -> tuple[int, Any]:
        what = f"{method} {path}"
        headers = {IDEMPOTENCY_HEADER: key} if key else {}
        try:
            async with self._client().request(
                method, self.base_url + path, json=body, headers=headers, params=query or None
            ) as resp:
                raw = await resp.read()
                status = resp.status
        except aiohttp.ClientConnectorError as exc:  # never connected: nothing was sent
            raise RechargeUnavailable(f"{what}: {exc}") from exc
        except (aiohttp.ClientError, TimeoutError) as exc:  # sent, answer lost
            raise RechargeOutcomeUnknown(f"{what}: {exc or type(exc).__name__}") from exc
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            data = {}
        if status in NOT_TAKEN:
            raise RechargeUnavailable(f"{what}: HTTP {status} {_error_code(data)}")
        if status >= 500:
            raise RechargeOutcomeUnknown(f"{what}: HTTP {status}")
        return status, data

    async def submit(self, *, key: str, msisdn: str, amount_cents: int) -> Recharge:
        body = {"msisdn": msisdn, "amount_cents": amount_cents, "callback_url": self.callback_url}
        status, data = await self._call("POST", "/v1/recharges", body=body, key=key)
        if status == 422:
            raise RechargeRefused(_error_code(data))
        if status >= 400:
            raise RechargeUnavailable(f"POST /v1/recharges: HTTP {status} {_error_code(data)}")
        try:
            return recharge_from(data)
        except ValueError as exc:
            raise RechargeOutcomeUnknown(f"POST /v1/recharges: {exc}") from exc

    async def query(self, key: str) -> Recharge | None:
        status, data = await self._call("GET", "/v1/recharges", idempotency_key=key)
        if status >= 400:
            raise RechargeUnavailable(f"GET /v1/recharges: HTTP {status} {_error_code(data)}")
        try:
            found = [recharge_from(r) for r in data["data"] if r.get("idempotency_key") == key]
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise RechargeOutcomeUnknown(f"GET /v1/recharges: not a list: {exc}") from exc
        return found[0] if found else None

    def read_callback(self, signature: str | None, body: bytes, now: int) -> Recharge:
        if not verify(self._secret.encode(), signature, body, now):
            raise BadSignature("bad or stale signature")
        try:
            event = inputs.json_body(body)
            if event["type"] not in EVENTS:
                raise ValueError(f"not a recharge event: {event['type']!r}")
            return recharge_from(event["data"])
        except (ValueError, KeyError, TypeError) as exc:
            raise BadCallback(str(exc)) from exc
