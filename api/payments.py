"""``POST /payments/callback`` (the gateway's signed callbacks) and ``GET /pay/{no}`` (pay links).

A callback with a missing, stale, wrong or non-ASCII signature gets 403 and changes
nothing; a good one is answered 200 once its effect is stored, however many times it
comes; a signed body that is not a gateway event (a string ``type``, ``data.id`` 1-64
printable ASCII) gets 400, and a well-formed event of another type than
``charge.succeeded`` is acknowledged 200 and ignored (the gateway retries what is not).
The pay link checks its keyed token (any bytes in ``k`` are a wrong token: 404), makes
the charge (once) and redirects to the gateway's page; with the gateway away it
answers 503.
"""

from __future__ import annotations

import logging

from aiohttp import web

from core.payments import saga as payments
from core.payments.errors import GatewayUnavailable
from core.payments.gateway import SIGNATURE_HEADER, verify
from core.payments.saga import PaymentContext
from core.platform import inputs
from core.platform.clock import Clock, epoch
from core.platform.errors import DomainError

log = logging.getLogger(__name__)
MAX_CHARGE_ID = 64
"""The gateway's charge ids are kept in ``payment_saga.charge_id`` (64 characters)."""


PAGE_TEXTS = {
    "zh": {
        "busy": "支付服务繁忙,请一分钟后再试。",
        "closed": "订单{no}已不在等待付款。回复DD查看订单。",
    },
    "en": {
        "busy": "The payment service is busy; please try again in a minute.",
        "closed": "Order {no} no longer waits for payment. Reply DD for your orders.",
    },
}
UNKNOWN = "没有这笔付款。 No such payment."
"""A link that is not ours: whose it would be is unknown, so both languages."""


def _page(status: int, text: str) -> web.Response:
    return web.Response(
        status=status,
        text=f"<!doctype html><meta charset=utf-8><title>pointshall</title><p>{text}</p>",
        content_type="text/html",
    )


class PaymentRoutes:
    def __init__(self, ctx: PaymentContext, clock: Clock, secret: str) -> None:
        self._ctx = ctx
        self._clock = clock
        self._secret = secret.encode()

    async def callback(self, request: web.Request) -> web.Response:
        body = await request.read()
        now = epoch(self._clock.now())
        if not verify(self._secret, request.headers.get(SIGNATURE_HEADER), body, now):
            return web.json_response({"error": "bad signature"}, status=403)
        try:
            event = inputs.json_body(body)
            kind, charge_id = event["type"], event["data"]["id"]
        except (inputs.MalformedInput, KeyError, TypeError):
            return web.json_response({"error": "not a charge event"}, status=400)
        charge_id = inputs.token(charge_id, MAX_CHARGE_ID)
        if not isinstance(kind, str) or charge_id is None:
            return web.json_response(
                {"error": f"type must be a string, data.id 1-{MAX_CHARGE_ID} ASCII characters"},
                status=400,
            )
        if kind != "charge.succeeded":
            return web.json_response({"ok": True, "ignored": kind})
        try:
            saga = await payments.cash_arrived(self._ctx, charge_id, now)
        except GatewayUnavailable as exc:  # the refund is retried by reconciliation
            log.warning("payment callback %s: %s", charge_id, exc)
            return web.json_response({"ok": True, "status": "refunding"})
        return web.json_response({"ok": True, "status": saga.status if saga else "unknown"})

    async def pay(self, request: web.Request) -> web.Response:
        no = request.match_info["no"]
        token = request.query.get("k", "")
        if not payments.pay_token_ok(self._ctx.keyring, no, token):
            return _page(404, UNKNOWN)
        texts = PAGE_TEXTS[await payments.lang_of(self._ctx, no)]
        try:
            url = await payments.pay_url(self._ctx, no, epoch(self._clock.now()))
        except GatewayUnavailable:
            return _page(503, texts["busy"])
        except DomainError:
            return _page(409, texts["closed"].format(no=no))
        raise web.HTTPFound(url)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/payments/callback", self.callback),
            web.get("/pay/{no}", self.pay),
        ]
