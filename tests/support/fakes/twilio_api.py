"""A fake Twilio REST API: the Messages resource as Twilio speaks it, and status callbacks.

``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` takes the form fields the
SDK sends (``To``, ``From``, ``Body``, ``StatusCallback``) with HTTP basic auth
(account SID, auth token) and answers 201 with the message JSON, or Twilio's
error JSON (``code``, ``message``, ``more_info``, ``status``). Tests script
answers per recipient: an int is an HTTP status to fail with (429, 500, 503),
``"ok"`` accepts; a number in ``unsubscribed`` is refused with 21610.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web
from twilio.request_validator import RequestValidator

UNSUBSCRIBED = 21610
ERRORS = {
    429: (20429, "Too Many Requests"),
    500: (20500, "Internal Server Error"),
    503: (20503, "Service Unavailable"),
}


@dataclass
class FakeMessage:
    sid: str
    to: str
    sender: str
    body: str
    status_callback: str | None


@dataclass
class FakeTwilio:
    account_sid: str
    auth_token: str
    unsubscribed: set[str] = field(default_factory=set)
    script: dict[str, list[int | str]] = field(default_factory=dict)
    accepted: list[FakeMessage] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self.create)
        return app

    def _authorised(self, request: web.Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {expected}"

    @staticmethod
    def _error(status: int, code: int, message: str) -> web.Response:
        return web.json_response(
            {
                "code": code,
                "message": message,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            },
            status=status,
        )

    async def create(self, request: web.Request) -> web.Response:
        if request.match_info["sid"] != self.account_sid or not self._authorised(request):
            return self._error(401, 20003, "Authenticate")
        form = await request.post()
        to, sender, body = str(form.get("To", "")), str(form.get("From", "")), form.get("Body")
        self.requests.append(to)
        if not to or not sender or body is None:
            return self._error(400, 21604, "A 'To' phone number is required.")
        planned = self.script.get(to)
        step = planned.pop(0) if planned else "ok"
        if isinstance(step, int):
            code, message = ERRORS.get(step, (step, "error"))
            return self._error(step, code, message)
        if to in self.unsubscribed:
            return self._error(400, UNSUBSCRIBED, "Attempt to send to unsubscribed recipient")
        sid = "SM" + uuid.uuid4().hex
        callback = form.get("StatusCallback")
        message = FakeMessage(
            sid, to, sender, str(body), str(callback) if callback is not None else None
        )
        self.accepted.append(message)
        now = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
        return web.json_response(
            {
                "account_sid": self.account_sid,
                "api_version": "2010-04-01",
                "body": message.body,
                "date_created": now,
                "date_sent": None,
                "date_updated": now,
                "direction": "outbound-api",
                "error_code": None,
                "error_message": None,
                "from": sender,
                "messaging_service_sid": None,
                "num_media": "0",
                "num_segments": "1",
                "price": None,
                "price_unit": "USD",
                "sid": sid,
                "status": "queued",
                "subresource_uris": {
                    "media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"
                },
                "to": to,
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            },
            status=201,
        )

    def callback(
        self, message: FakeMessage, status: str, error_code: str | None = None
    ) -> tuple[str, dict[str, str], dict[str, str]]:
        """The status callback Twilio would POST: (url, form, headers with the signature)."""
        assert message.status_callback is not None
        form = {
            "AccountSid": self.account_sid,
            "From": message.sender,
            "To": message.to,
            "MessageSid": message.sid,
            "SmsSid": message.sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "ApiVersion": "2010-04-01",
        }
        if error_code:
            form["ErrorCode"] = error_code
        signature = RequestValidator(self.auth_token).compute_signature(
            message.status_callback, form
        )
        return message.status_callback, form, {"X-Twilio-Signature": signature}
