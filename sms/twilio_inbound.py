"""``POST /sms/twilio``: Twilio's incoming-message webhook.

The signature is checked with the twilio SDK against our public URL
(``POINTSHALL_PUBLIC_URL`` + path), which is what Twilio signed even behind a
proxy. Like the SDK's ``RequestValidator.validate()``, it accepts the URL as
configured or with the port added or removed (Twilio signs either way): the
configured form first, at most one more HMAC, each compared in constant time.
No auth token, no public URL, or a bad signature: 403 and nothing is stored. A body that is
not a UTF-8 urlencoded form (Twilio sends no other) is answered 400, or 415 for another
content type, before the signature is checked (``core.platform.inputs``).
"""

from __future__ import annotations

import hmac
import logging
import re
from functools import partial
from urllib.parse import urlparse

from aiohttp import web
from multidict import MultiDict
from twilio.request_validator import RequestValidator, add_port, remove_port
from twilio.twiml.messaging_response import MessagingResponse

from core.messaging import inbound
from core.platform import inputs, metrics
from core.platform.db import Database
from handlers.hall import Hall, InboundMessage

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"
TWIML = "text/xml"
EMPTY_TWIML = str(MessagingResponse())


async def read_form(request: web.Request) -> MultiDict[str]:
    """The posted form as Twilio sends it, or ``inputs.MalformedInput``."""
    body = await request.read()
    return MultiDict(inputs.form_pairs(body, request.content_type, request.charset))


def refusal(exc: inputs.MalformedInput) -> web.Response:
    """The 400 (or 415) answer to a body Twilio would never send."""
    status = 415 if isinstance(exc, inputs.UnsupportedContent) else 400
    return web.Response(status=status, text=str(exc))


def signed(
    validator: RequestValidator | None,
    public_url: str | None,
    request: web.Request,
    params: object,
) -> bool:
    """Whether ``X-Twilio-Signature`` is Twilio's HMAC of our public URL and ``params``."""
    if validator is None or not public_url:
        return False
    signature = inputs.header(request.headers.get(SIGNATURE_HEADER))
    if not signature:
        return False
    uri = urlparse(public_url + request.path_qs)
    first = uri.geturl()
    if _matches(validator, first, params, signature):
        return True
    other = remove_port(uri) if uri.port else add_port(uri)
    return other != first and _matches(validator, other, params, signature)


def _matches(validator: RequestValidator, url: str, params: object, signature: str) -> bool:
    expected = validator.compute_signature(url, params)
    return hmac.compare_digest(expected.encode(), signature.encode())


def _around(marker: str) -> tuple[str, str]:
    response = MessagingResponse()
    response.message(marker)
    head, tail = str(response).split(marker)
    return head, tail


_MESSAGE_HEAD, _MESSAGE_TAIL = _around("pointshall-marker")
_PLAIN_XML = re.compile(r"[^&<>\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]*")


def twiml(text: str) -> str:
    """The TwiML answer holding ``text`` as one message (none for ``""``), as the twilio
    SDK's ``MessagingResponse`` writes it: the SDK's own head and tail around the text,
    which needs no escaping on this path (``tests/unit/test_twiml.py`` holds the two equal);
    any other text goes through the SDK."""
    if not text:
        return EMPTY_TWIML
    if _PLAIN_XML.fullmatch(text):
        return _MESSAGE_HEAD + text + _MESSAGE_TAIL
    response = MessagingResponse()
    response.message(text)
    return str(response)


class TwilioInbound:
    def __init__(
        self, db: Database, hall: Hall, *, auth_token: str | None, public_url: str | None
    ) -> None:
        self._db = db
        self._hall = hall
        self._validator = RequestValidator(auth_token) if auth_token else None
        self._public_url = public_url
        if self._validator is None or not public_url:
            log.warning(
                "Twilio webhook disabled: set POINTSHALL_TWILIO_AUTH_TOKEN and "
                "POINTSHALL_PUBLIC_URL to accept signed requests"
            )

    def _signed(self, request: web.Request, params: object) -> bool:
        return signed(self._validator, self._public_url, request, params)

    async def handle(self, request: web.Request) -> web.Response:
        metrics.INBOUND.labels("twilio").inc()
        try:
            params = await read_form(request)
        except inputs.MalformedInput as exc:
            return refusal(exc)
        if not self._signed(request, params):
            return web.Response(status=403, text="invalid signature")
        sid = params.get("MessageSid") or params.get("SmsSid")
        sender = params.get("From")
        if not sid or not sender:
            return web.Response(status=400, text="MessageSid and From are required")
        recipient = params.get("To", "")
        try:
            inbound.check_envelope(sid, sender, recipient)
        except inputs.MalformedInput as exc:
            return refusal(exc)
        msg = InboundMessage(
            channel="twilio",
            external_id=sid,
            sender=sender,
            text=params.get("Body", ""),
            recipient=recipient,
        )
        outcome = await self._db.write(partial(self._hall.receive, msg=msg))
        return web.Response(text=twiml(outcome.reply), content_type=TWIML, charset="utf-8")

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/sms/twilio", self.handle)]
