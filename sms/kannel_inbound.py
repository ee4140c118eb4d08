"""``GET|POST /sms/kannel``: a Kannel sms-service (MO) delivering to us.

Configure the sms-service with
``get-url = "http://HOST/sms/kannel?secret=SECRET&from=%p&to=%P&text=%a&id=%I"``;
the reply is the response body, which smsbox sends back to the handset. Without
a configured secret every request is refused.
"""

from __future__ import annotations

import hmac
import logging
from functools import partial

from aiohttp import web

from core.db import Database
from handlers.hall import Hall, InboundMessage

log = logging.getLogger(__name__)


class KannelInbound:
    def __init__(self, db: Database, hall: Hall, *, secret: str | None) -> None:
        self._db = db
        self._hall = hall
        self._secret = secret.encode() if secret else None
        if self._secret is None:
            log.warning("Kannel webhook disabled: set POINTSHALL_KANNEL_SECRET to accept MO")

    async def handle(self, request: web.Request) -> web.Response:
        params = dict(request.query)
        if request.method == "POST":
            params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        given = params.get("secret", "").encode()
        if self._secret is None or not hmac.compare_digest(given, self._secret):
            return web.Response(status=403, text="forbidden")
        sender, message_id = params.get("from", ""), params.get("id", "")
        if not sender or not message_id:
            return web.Response(status=400, text="from and id are required")
        msg = InboundMessage(
            channel="kannel",
            external_id=message_id,
            sender=sender,
            text=params.get("text", ""),
            recipient=params.get("to", ""),
        )
        outcome = await self._db.write(partial(self._hall.receive, msg=msg))
        return web.Response(text=outcome.reply, content_type="text/plain", charset="utf-8")

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/sms/kannel", self.handle), web.post("/sms/kannel", self.handle)]
