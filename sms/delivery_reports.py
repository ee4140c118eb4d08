"""Delivery reports: Twilio status callbacks and Kannel DLRs move outbox messages on.

Reports may come twice or out of order; ``core.messaging.outbox.record_report`` keeps each
once and never moves a message back (a late "sent" after "delivered" changes
nothing). Twilio error 21610 (the recipient texted STOP to the carrier) marks the
number opted out, as the subscriber's own ``TD`` would.
"""

from __future__ import annotations

import hmac
import logging
import re
from functools import partial

from aiohttp import web
from sqlalchemy import Connection
from twilio.request_validator import RequestValidator

from core.messaging import outbox
from core.platform import inputs, metrics
from core.platform.clock import Clock, epoch
from core.platform.db import Database
from sms.twilio_inbound import read_form, refusal, signed

log = logging.getLogger(__name__)

TWILIO_STATES = {
    "accepted": "sent",
    "scheduled": "sent",
    "queued": "sent",
    "sending": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "failed",
    "failed": "failed",
    "canceled": "failed",
}
TWILIO_OPTED_OUT = "21610"

# Kannel DLR types (the dlr-mask bits): 1 delivered to the phone, 2 not delivered to
# the phone, 4 queued at the SMSC, 8 accepted by the SMSC, 16 rejected by the SMSC.
KANNEL_STATES = {"1": "delivered", "2": "failed", "4": "sent", "8": "sent", "16": "failed"}


MAX_ID = 2**53
MAX_PARTS = 255
ERROR_CODE = re.compile(r"[0-9A-Za-z]{1,16}")


def _int(value: str | None, default: int, high: int) -> int | None:
    if value is None or value == "":
        return default
    return inputs.whole_number(value, 0, high)


class TwilioStatus:
    def __init__(
        self, db: Database, clock: Clock, *, auth_token: str | None, public_url: str | None
    ) -> None:
        self._db = db
        self._clock = clock
        self._validator = RequestValidator(auth_token) if auth_token else None
        self._public_url = public_url

    async def handle(self, request: web.Request) -> web.Response:
        """Record one Twilio status callback (signature-checked)."""
        try:
            params = await read_form(request)
        except inputs.MalformedInput as exc:
            return refusal(exc)
        if not signed(self._validator, self._public_url, request, params):
            return web.Response(status=403, text="invalid signature")
        sid, status = params.get("MessageSid"), params.get("MessageStatus")
        if not sid or status is None:
            return web.Response(status=400, text="MessageSid and MessageStatus are required")
        state = TWILIO_STATES.get(status.lower())
        if state is None:
            return web.Response(status=204)
        error_code = params.get("ErrorCode") or None
        if error_code is not None and not ERROR_CODE.fullmatch(error_code):
            return web.Response(
                status=400, text="ErrorCode: Twilio's codes are 1-16 letters or digits"
            )
        report = outbox.Report(
            provider="twilio",
            code=status.lower(),
            state=state,
            error_code=error_code,
            opted_out=error_code == TWILIO_OPTED_OUT,
        )
        ours = _int(request.query.get("o"), 0, MAX_ID) or None
        result = await self._db.write(partial(self._record, ours=ours, sid=sid, report=report))
        if result is None:
            log.warning("Twilio status for unknown message %s", sid)
        metrics.DELIVERY_REPORTS.labels("twilio", state).inc()
        return web.Response(status=204)

    def _record(
        self, conn: Connection, *, ours: int | None, sid: str, report: outbox.Report
    ) -> str | None:
        message_id = ours or outbox.find_by_provider_id(conn, sid)
        if message_id is None:
            return None
        return outbox.record_report(conn, message_id, report, now=epoch(self._clock.now()))

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/sms/twilio/status", self.handle)]


class KannelDlr:
    def __init__(self, db: Database, clock: Clock, *, secret: str | None) -> None:
        self._db = db
        self._clock = clock
        self._secret = secret.encode() if secret else None

    async def handle(self, request: web.Request) -> web.Response:
        """Record one Kannel delivery report (shared secret, our id in the dlr-url)."""
        query = request.query
        given = query.get("secret", "").encode("utf-8", "surrogateescape")
        if self._secret is None or not hmac.compare_digest(given, self._secret):
            return web.Response(status=403, text="forbidden")
        message_id = _int(query.get("id"), 0, MAX_ID)
        part, parts = _int(query.get("part"), 0, MAX_PARTS), _int(query.get("parts"), 1, MAX_PARTS)
        kind = query.get("type", "")
        state = KANNEL_STATES.get(kind)
        if not message_id or part is None or not parts or state is None:
            return web.Response(status=400, text="id, part, parts and a known type are required")
        report = outbox.Report(provider="kannel", code=kind, state=state, part=part, parts=parts)
        result = await self._db.write(
            partial(
                outbox.record_report,
                message_id=message_id,
                report=report,
                now=epoch(self._clock.now()),
            )
        )
        if result is None:
            return web.Response(status=404, text="unknown message")
        metrics.DELIVERY_REPORTS.labels("kannel", state).inc()
        return web.Response(text="ok")

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/sms/kannel/dlr", self.handle)]
