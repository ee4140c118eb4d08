"""``GET|POST /sms/kannel``: a Kannel sms-service (MO) delivering to us.

Configure the sms-service with (see ``deploy/kannel/kannel.conf``)
``get-url = "http://HOST/sms/kannel?secret=SECRET&from=%p&to=%P&text=%a&id=%I&coding=%c&charset=%C"``;
the reply is the response body, which smsbox sends back to the handset. Without
a configured secret every request is refused.

Text arrives in whatever Kannel holds, percent-encoded byte for byte:

* ``mo-recode = false`` (the default): a UCS-2 message (Chinese) comes as
  UTF-16BE bytes with ``coding=2`` (``charset=UTF-16BE``);
* ``mo-recode = true``: smsbox recodes it to UTF-8 first and says ``coding=0``,
  ``charset=UTF-8``;
* GSM-7 text comes as UTF-8 (``coding=0``).

So the query is parsed from its raw bytes and decoded by ``coding``/``charset``;
an older get-url without them is still understood (UTF-16BE when the octets hold
NULs or are not UTF-8, else UTF-8). A reply GSM-7 cannot carry goes back with
``X-Kannel-Coding: 2`` and a UTF-8 body, which smsbox turns into UCS-2; without
the header it would send ``?`` for every Chinese character.
"""

from __future__ import annotations

import hmac
import logging
from functools import partial
from urllib.parse import parse_qsl

from aiohttp import web

from core.messaging import inbound, segments
from core.platform import inputs, metrics
from core.platform.db import Database
from handlers.hall import Hall, InboundMessage

log = logging.getLogger(__name__)

UCS2_CODING = "2"
CODING_HEADER = "X-Kannel-Coding"
FORM = "application/x-www-form-urlencoded"


def _raw_params(raw: str) -> dict[str, bytes]:
    """Query or form pairs as undecoded bytes (Kannel percent-encodes raw octets)."""
    return {
        k: v.encode("latin-1")
        for k, v in parse_qsl(raw, keep_blank_values=True, encoding="latin-1")
    }


def decode_text(data: bytes, coding: str, charset: str) -> str:
    """The text of an MO as Kannel sent it (see the module docstring); a ``charset`` that
    names no character set (``base64``, ``rot13``…) is treated as absent."""
    named = inputs.charset(charset) if charset else None
    if coding == UCS2_CODING:
        return data.decode(named or "utf-16-be", "replace")
    if named:
        return data.decode(named, "replace")
    looks_ucs2 = len(data) % 2 == 0 and b"\x00" in data  # UTF-8 text has no NUL
    if not looks_ucs2:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            looks_ucs2 = len(data) % 2 == 0
    return data.decode("utf-16-be" if looks_ucs2 else "utf-8", "replace")


def _field(params: dict[str, bytes], name: str) -> str:
    return params.get(name, b"").decode("utf-8", "replace")


class KannelInbound:
    def __init__(self, db: Database, hall: Hall, *, secret: str | None) -> None:
        self._db = db
        self._hall = hall
        self._secret = secret.encode() if secret else None
        if self._secret is None:
            log.warning("Kannel webhook disabled: set POINTSHALL_KANNEL_SECRET to accept MO")

    async def handle(self, request: web.Request) -> web.Response:
        """Answer one MO from smsbox; the body is the reply to the handset."""
        metrics.INBOUND.labels("kannel").inc()
        params = _raw_params(request.rel_url.raw_query_string)
        if request.method == "POST" and request.content_type == FORM:
            params.update(_raw_params((await request.read()).decode("latin-1")))
        given = params.get("secret", b"")
        if self._secret is None or not hmac.compare_digest(given, self._secret):
            return web.Response(status=403, text="forbidden")
        sender, message_id = _field(params, "from"), _field(params, "id")
        if not sender or not message_id:
            return web.Response(status=400, text="from and id are required")
        recipient = _field(params, "to")
        try:
            inbound.check_envelope(message_id, sender, recipient)
        except inputs.MalformedInput as exc:
            return web.Response(status=400, text=str(exc))
        text = decode_text(
            params.get("text", b""), _field(params, "coding"), _field(params, "charset")
        )
        msg = InboundMessage(
            channel="kannel",
            external_id=message_id,
            sender=sender,
            text=text,
            recipient=recipient,
        )
        outcome = await self._db.write(partial(self._hall.receive, msg=msg))
        headers = {}
        if outcome.reply and segments.encoding(outcome.reply) == "UCS-2":
            headers[CODING_HEADER] = UCS2_CODING
        return web.Response(
            text=outcome.reply, content_type="text/plain", charset="utf-8", headers=headers
        )

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/sms/kannel", self.handle), web.post("/sms/kannel", self.handle)]
