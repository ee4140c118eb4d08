"""A fake payment gateway for tests and ``serve --demo``: a small aiohttp app, real-looking API.

``POST /v1/charges`` (``Idempotency-Key``) → ``{id, status: pending, pay_url}``;
``GET /v1/charges/{id}``; ``POST /v1/charges/{id}/cancel``;
``POST /v1/charges/{id}/refunds`` (idempotent by key). ``GET /pay/{id}`` is the
page a customer opens, with a Pay button; paying marks the charge succeeded and
sends a signed callback (``core.payments.gateway.sign``) to the charge's ``callback_url``.

Faults for tests (attributes, or ``POST /_control`` with the same names as JSON):
``down`` (every API call answers 503), ``drop_callbacks``, ``callback_copies``
(send each callback N times at once), ``callback_delay`` (seconds).
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from core.payments.gateway import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, sign

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class FakeCharge:
    id: str
    order_no: str
    amount_cents: int
    method: str
    callback_url: str
    pay_url: str
    status: str = "pending"
    refunded_cents: int = 0


@dataclass
class FakeRefund:
    id: str
    charge_id: str
    amount_cents: int


@dataclass
class FakeGateway:
    """The gateway's state; ``app()`` serves it. ``public_url`` is where customers reach it."""

    secret: str
    public_url: str = "http://127.0.0.1:8081"
    clock: Callable[[], int] = field(default=lambda: int(time.time()))
    down: bool = False
    drop_callbacks: bool = False
    callback_copies: int = 1
    callback_delay: float = 0.0
    charges: dict[str, FakeCharge] = field(default_factory=dict)
    refunds: list[FakeRefund] = field(default_factory=list)
    callback_statuses: list[int] = field(default_factory=list)
    _charge_keys: dict[str, str] = field(default_factory=dict)
    _refund_keys: dict[str, FakeRefund] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._faults])
        app.add_routes(
            [
                web.post("/v1/charges", self._create),
                web.get("/v1/charges/{id}", self._get),
                web.post("/v1/charges/{id}/cancel", self._cancel),
                web.post("/v1/charges/{id}/refunds", self._refund),
                web.get("/pay/{id}", self._page),
                web.post("/pay/{id}", self._pay_form),
                web.post("/_control", self._control),
            ]
        )
        return app

    # ------------------------------------------------------------ for tests

    async def pay(self, charge_id: str) -> None:
        """What pressing Pay does: the charge succeeds and its callback is sent."""
        charge = self.charges[charge_id]
        if charge.status == "pending":
            charge.status = "succeeded"
            self._send_callback(charge)

    async def flush(self) -> None:
        """Wait until every callback sent so far has been delivered (or given up)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def refunds_of(self, charge_id: str) -> list[FakeRefund]:
        return [r for r in self.refunds if r.charge_id == charge_id]

    # ------------------------------------------------------------ the API

    @web.middleware
    async def _faults(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.down and request.path.startswith("/v1/"):
            return web.json_response({"error": "service unavailable"}, status=503)
        if (
            request.path.startswith("/v1/")
            and request.headers.get("Authorization") != f"Bearer {self.secret}"
        ):
            return web.json_response({"error": "bad api key"}, status=401)
        return await handler(request)

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):06d}{secrets.token_hex(4)}"

    def _charge(self, request: web.Request) -> FakeCharge:
        charge = self.charges.get(request.match_info["id"])
        if charge is None:
            raise web.HTTPNotFound(
                text=json.dumps({"error": "no such charge"}), content_type="application/json"
            )
        return charge

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()  # read first: no await between the key check and the insert
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if not key:
            return web.json_response({"error": "Idempotency-Key required"}, status=400)
        if key in self._charge_keys:
            return web.json_response(asdict(self.charges[self._charge_keys[key]]))
        amount = int(body.get("amount_cents", 0))
        if amount <= 0:
            return web.json_response({"error": "amount_cents must be positive"}, status=400)
        charge_id = self._new_id("ch")
        charge = FakeCharge(
            id=charge_id,
            order_no=str(body.get("order_no", "")),
            amount_cents=amount,
            method=str(body.get("method", "cash")),
            callback_url=str(body.get("callback_url", "")),
            pay_url=f"{self.public_url}/pay/{charge_id}",
        )
        self.charges[charge_id] = charge
        self._charge_keys[key] = charge_id
        return web.json_response(asdict(charge), status=201)

    async def _get(self, request: web.Request) -> web.Response:
        return web.json_response(asdict(self._charge(request)))

    async def _cancel(self, request: web.Request) -> web.Response:
        charge = self._charge(request)
        if charge.status == "pending":
            charge.status = "cancelled"
        elif charge.status != "cancelled":
            return web.json_response({"error": f"charge is {charge.status}"}, status=409)
        return web.json_response(asdict(charge))

    async def _refund(self, request: web.Request) -> web.Response:
        charge = self._charge(request)
        amount = int((await request.json()).get("amount_cents", 0))
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if not key:
            return web.json_response({"error": "Idempotency-Key required"}, status=400)
        if key in self._refund_keys:
            return web.json_response(asdict(self._refund_keys[key]))
        if charge.status not in ("succeeded", "refunded"):
            return web.json_response({"error": f"charge is {charge.status}"}, status=409)
        if amount <= 0 or charge.refunded_cents + amount > charge.amount_cents:
            return web.json_response({"error": "refund exceeds the charge"}, status=400)
        refund = FakeRefund(self._new_id("re"), charge.id, amount)
        charge.refunded_cents += amount
        if charge.refunded_cents == charge.amount_cents:
            charge.status = "refunded"
        self.refunds.append(refund)
        self._refund_keys[key] = refund
        return web.json_response(asdict(refund), status=201)

    async def _page(self, request: web.Request) -> web.Response:
        charge = self._charge(request)
        yuan = f"{charge.amount_cents / 100:.2f}"
        button = (
            '<form method="post"><button type="submit">Pay</button></form>'
            if charge.status == "pending"
            else f"<p>Status: {html.escape(charge.status)}</p>"
        )
        body = (
            "<!doctype html><meta charset=utf-8><title>Fake gateway</title>"
            f"<h1>Order {html.escape(charge.order_no)}</h1>"
            f"<p>Amount: ¥{yuan} ({html.escape(charge.method)})</p>{button}"
        )
        return web.Response(text=body, content_type="text/html")

    async def _pay_form(self, request: web.Request) -> web.Response:
        await self.pay(self._charge(request).id)
        raise web.HTTPSeeOther(f"/pay/{request.match_info['id']}")

    async def _control(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        for name in ("down", "drop_callbacks", "callback_copies", "callback_delay"):
            if name in body:
                setattr(self, name, type(getattr(self, name))(body[name]))
        return web.json_response({"ok": True})

    # ------------------------------------------------------------ callbacks

    def _send_callback(self, charge: FakeCharge) -> None:
        if self.drop_callbacks or not charge.callback_url:
            return
        event = {
            "id": self._new_id("evt"),
            "type": f"charge.{charge.status}",
            "data": asdict(charge),
        }
        body = json.dumps(event).encode()
        for _ in range(max(1, self.callback_copies)):
            task = asyncio.create_task(self._deliver(charge.callback_url, body))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, url: str, body: bytes) -> None:
        if self.callback_delay:
            await asyncio.sleep(self.callback_delay)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self.secret.encode(), self.clock(), body),
        }
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.post(url, data=body, headers=headers) as resp,
            ):
                self.callback_statuses.append(resp.status)
        except aiohttp.ClientError as exc:
            log.warning("callback to %s failed: %s", url, exc)
            self.callback_statuses.append(0)
