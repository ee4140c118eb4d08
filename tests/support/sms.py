"""Posting texts to the Twilio webhook as Twilio does: signed form posts, TwiML answers."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

from aiohttp.test_utils import TestClient
from twilio.request_validator import RequestValidator

from tests.support.settings import PUBLIC_URL, TWILIO_TOKEN

SUBSCRIBER = "+8613800138000"


def signed(
    params: dict[str, str], *, token: str = TWILIO_TOKEN, url: str = PUBLIC_URL + "/sms/twilio"
) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, params)}


def sms_params(body: str, sid: str | None = None, sender: str = SUBSCRIBER) -> dict[str, str]:
    return {
        "MessageSid": sid or "SM" + uuid.uuid4().hex,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": "+10000000000",
        "Body": body,
        "NumMedia": "0",
    }


def message_text(twiml: str) -> str:
    root = ET.fromstring(twiml)
    assert root.tag == "Response"
    messages = root.findall("Message")
    return messages[0].text or "" if messages else ""


async def post_twilio(
    client: TestClient, params: dict[str, str], headers: dict[str, str]
) -> tuple[int, str]:
    resp = await client.post(
        "/sms/twilio",
        data=urlencode(params),
        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    return resp.status, await resp.text()
