"""``PaymentGateway`` over HTTP (aiohttp): the gateway's JSON API as the fake speaks it.

``POST /v1/charges`` (``Idempotency-Key`` header), ``GET /v1/charges/{id}``,
``POST /v1/charges/{id}/cancel``, ``POST /v1/charges/{id}/refunds`` (idempotent);
``Authorization: Bearer <secret>``. A network error, a timeout or a 5xx becomes
``GatewayUnavailable``; a 4xx ``GatewayRefused``.
"""

from __future__ import annotations

from typing import Any

import aiohttp

from core.payments.errors import GatewayRefused, GatewayUnavailable
from core.payments.gateway import IDEMPOTENCY_HEADER, Charge, Refund

TIMEOUT_SECONDS = 10


def charge_from(data: dict[str, Any]) -> Charge:
    return Charge(
        id=str(data["id"]),
        status=str(data["status"]),
        amount_cents=int(data["amount_cents"]),
        pay_url=str(data["pay_url"]),
        refunded_cents=int(data.get("refunded_cents", 0)),
    )


class HttpGateway:
    """A ``core.payments.gateway.PaymentGateway`` talking to ``base_url``."""

    def __init__(self, base_url: str, secret: str, callback_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.callback_url = callback_url
        self._secret = secret
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS),
                headers={"Authorization": f"Bearer {self._secret}"},
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None, key: str | None = None
    ) -> dict[str, Any]:
        headers = {IDEMPOTENCY_HEADER: key} if key else {}
        try:
            async with self._client().request(
                method, self.base_url + path, json=body, headers=headers
            ) as resp:
                if resp.status >= 500:
                    raise GatewayUnavailable(f"{method} {path}: HTTP {resp.status}")
                data: dict[str, Any] = await resp.json(content_type=None)
                if resp.status >= 400:
                    raise GatewayRefused(resp.status, str(data.get("error", "")))
                return data
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise GatewayUnavailable(f"{method} {path}: {exc or type(exc).__name__}") from exc

    async def create_charge(
        self, order_no: str, amount_cents: int, method: str, idempotency_key: str
    ) -> Charge:
        body = {
            "order_no": order_no,
            "amount_cents": amount_cents,
            "method": method,
            "callback_url": self.callback_url,
        }
        return charge_from(await self._call("POST", "/v1/charges", body, idempotency_key))

    async def query(self, charge_id: str) -> Charge:
        return charge_from(await self._call("GET", f"/v1/charges/{charge_id}"))

    async def cancel(self, charge_id: str) -> Charge:
        return charge_from(await self._call("POST", f"/v1/charges/{charge_id}/cancel", {}))

    async def refund(self, charge_id: str, amount_cents: int, idempotency_key: str) -> Refund:
        data = await self._call(
            "POST",
            f"/v1/charges/{charge_id}/refunds",
            {"amount_cents": amount_cents},
            idempotency_key,
        )
        return Refund(str(data["id"]), str(data["charge_id"]), int(data["amount_cents"]))
