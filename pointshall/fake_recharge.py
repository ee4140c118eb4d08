"""A fake recharge provider for tests and ``serve --demo``: a small aiohttp app speaking the
JSON API ``api.recharge_gateway`` expects, with faults on demand.

``POST /v1/recharges`` (``Idempotency-Key``; the same key again answers the first
recharge, another body under it is 409) → ``201 {id, idempotency_key, msisdn,
amount_cents, status: pending, failure_code}``; ``GET /v1/recharges?idempotency_key=K``
→ ``{"data": [...]}``; ``GET /v1/recharges/{id}``. A pending recharge completes
(``succeeded``, or ``failed`` under the ``fail`` fault) after ``complete_delay`` seconds
when ``auto_complete`` is on, or when a test calls ``complete``; then a signed callback
goes to its ``callback_url``.

Faults (attributes, or ``POST /_control`` with the same names as JSON):
``down`` (every API call answers 503, nothing done), ``timeout`` (the recharge is made,
then the answer hangs until ``release()`` — the caller times out not knowing),
``blackhole`` (the request hangs and is never processed), ``fail`` (recharges complete
as ``failed``, ``carrier_rejected``), ``refuse`` (numbers answered 422
``number_not_rechargeable``), ``callback_copies`` (each callback N times),
``drop_callbacks``.
"""

from __future__ import annotations

import asyncio
import contextlib
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

from core.payments.gateway import sign
from core.recharge.gateway import IDEMPOTENCY_HEADER, SIGNATURE_HEADER

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
HANG_LIMIT_SECONDS = 60.0


@dataclass
class FakeRecharge:
    id: str
    idempotency_key: str
    msisdn: str
    amount_cents: int
    callback_url: str
    status: str = "pending"
    failure_code: str | None = None

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        del data["callback_url"]
        return data


@dataclass
class FakeRechargeService:
    """The provider's state; ``app()`` serves it. Every recharge made is in ``recharges``
    (by id); ``credited`` is what reached each number, in cents."""

    secret: str
    clock: Callable[[], int] = field(default=lambda: int(time.time()))
    auto_complete: bool = True
    complete_delay: float = 0.0
    down: bool = False
    timeout: bool = False
    blackhole: bool = False
    fail: bool = False
    refuse: set[str] = field(default_factory=set)
    callback_copies: int = 1
    drop_callbacks: bool = False
    recharges: dict[str, FakeRecharge] = field(default_factory=dict)
    credited: dict[str, int] = field(default_factory=dict)
    callback_statuses: list[int] = field(default_factory=list)
    requests: int = 0
    _keys: dict[str, str] = field(default_factory=dict)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _released: asyncio.Event | None = None

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._faults])
        app.add_routes(
            [
                web.post("/v1/recharges", self._create),
                web.get("/v1/recharges", self._find),
                web.get("/v1/recharges/{id}", self._get),
                web.post("/_control", self._control),
            ]
        )
        return app

    # ------------------------------------------------------------ for tests

    def by_key(self, key: str) -> FakeRecharge | None:
        found = self._keys.get(key)
        return self.recharges[found] if found else None

    async def complete(self, recharge_id: str, *, ok: bool = True) -> None:
        """The carrier answers: the recharge succeeds (the number is credited) or fails; its
        callback is sent. A recharge already complete stays as it is."""
        found = self.recharges[recharge_id]
        if found.status != "pending":
            return
        if ok:
            found.status = "succeeded"
            self.credited[found.msisdn] = self.credited.get(found.msisdn, 0) + found.amount_cents
        else:
            found.status, found.failure_code = "failed", "carrier_rejected"
        self._send_callback(found)

    def release(self) -> None:
        """Let every hanging request (``timeout``, ``blackhole``) end."""
        if self._released is not None:
            self._released.set()

    async def flush(self) -> None:
        """Wait until every completion and callback started so far has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # ------------------------------------------------------------ the API

    @web.middleware
    async def _faults(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/v1/"):
            return await handler(request)
        self.requests += 1
        if self.down:
            return _error(503, "service_unavailable")
        if request.headers.get("Authorization") != f"Bearer {self.secret}":
            return _error(401, "bad_api_key")
        if self.blackhole:
            await self._hang()
            return _error(504, "gateway_timeout")
        response = await handler(request)
        if self.timeout:
            await self._hang()
        return response

    async def _hang(self) -> None:
        if self._released is None or self._released.is_set():
            self._released = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._released.wait(), HANG_LIMIT_SECONDS)

    async def _create(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            msisdn, amount = str(body["msisdn"]), int(body["amount_cents"])
            callback_url = str(body.get("callback_url", ""))
        except (ValueError, KeyError, TypeError):
            return _error(400, "bad_request")
        key = request.headers.get(IDEMPOTENCY_HEADER, "")
        if not key:
            return _error(400, "idempotency_key_required")
        existing = self.by_key(key)
        if existing is not None:
            if (existing.msisdn, existing.amount_cents) != (msisdn, amount):
                return _error(409, "idempotency_key_reused")
            return web.json_response(existing.public())
        if amount <= 0:
            return _error(400, "bad_amount")
        if msisdn in self.refuse:
            return _error(422, "number_not_rechargeable")
        made = FakeRecharge(
            f"rc_{next(self._ids):06d}{secrets.token_hex(3)}", key, msisdn, amount, callback_url
        )
        self.recharges[made.id] = made
        self._keys[key] = made.id
        if self.auto_complete:
            self._spawn(self._complete_later(made.id))
        return web.json_response(made.public(), status=201)

    async def _find(self, request: web.Request) -> web.Response:
        found = self.by_key(request.query.get("idempotency_key", ""))
        return web.json_response({"data": [found.public()] if found else []})

    async def _get(self, request: web.Request) -> web.Response:
        found = self.recharges.get(request.match_info["id"])
        if found is None:
            return _error(404, "no_such_recharge")
        return web.json_response(found.public())

    async def _control(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        for name in (
            "down",
            "timeout",
            "blackhole",
            "fail",
            "auto_complete",
            "complete_delay",
            "callback_copies",
            "drop_callbacks",
        ):
            if name in body:
                setattr(self, name, type(getattr(self, name))(body[name]))
        if "refuse" in body:
            self.refuse = {str(n) for n in body["refuse"]}
        if not (self.timeout or self.blackhole):
            self.release()
        return web.json_response({"ok": True})

    # ------------------------------------------------------------ completion, callbacks

    def _spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _complete_later(self, recharge_id: str) -> None:
        await asyncio.sleep(self.complete_delay)
        await self.complete(recharge_id, ok=not self.fail)

    def _send_callback(self, found: FakeRecharge) -> None:
        if self.drop_callbacks or not found.callback_url:
            return
        event = {
            "id": f"evt_{next(self._ids):06d}",
            "type": f"recharge.{found.status}",
            "data": found.public(),
        }
        body = json.dumps(event).encode()
        for _ in range(max(1, self.callback_copies)):
            self._spawn(self._deliver(found.callback_url, body))

    async def _deliver(self, url: str, body: bytes) -> None:
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
            log.warning("recharge callback to %s failed: %s", url, exc)
            self.callback_statuses.append(0)


def _error(status: int, code: str) -> web.Response:
    return web.json_response({"error": {"code": code}}, status=status)
