"""``POST /recharge/callback``: the recharge provider's signed callbacks (issue 16 §2).

A callback with a missing, stale or wrong signature, or that is not a recharge event
(``api.recharge_gateway.recharge_from``: UTF-8 JSON, printable ASCII ids of the length we
keep, an amount in range), gets 403/400 and changes nothing; a good one is answered 200
once its effect is stored, however many times it comes (a duplicate finds the top-up
already final).
"""

from __future__ import annotations

import logging

from aiohttp import web

from core.platform.clock import Clock, epoch
from core.recharge import delivery
from core.recharge.delivery import RechargeContext
from core.recharge.gateway import SIGNATURE_HEADER, BadCallback, BadSignature

log = logging.getLogger(__name__)


class RechargeRoutes:
    def __init__(self, ctx: RechargeContext, clock: Clock) -> None:
        self._ctx = ctx
        self._clock = clock

    async def callback(self, request: web.Request) -> web.Response:
        body = await request.read()
        now = epoch(self._clock.now())
        try:
            answer = self._ctx.gateway.read_callback(
                request.headers.get(SIGNATURE_HEADER), body, now
            )
        except BadSignature as exc:
            log.warning("recharge callback refused: %s", exc)
            return web.json_response({"error": str(exc)}, status=403)
        except BadCallback as exc:
            return web.json_response({"error": str(exc)}, status=400)
        found = await delivery.callback(self._ctx, answer, now)
        if found is None:
            log.warning("recharge callback for an unknown top-up: %s", answer.key)
            return web.json_response({"ok": True, "status": "unknown"})
        return web.json_response({"ok": True, "status": found.status})

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/recharge/callback", self.callback)]
