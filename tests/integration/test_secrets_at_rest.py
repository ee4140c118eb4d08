"""A day of use leaves no secret in clear (issue 13 §1, seed §2.2.8, §2.2.12, §3.4.3, §3.6).

Every command that handles a secret runs through every channel it has: SMS by Twilio and
Kannel and the command line, the Telegram chat, the merchant console, the POS API and the
admin API. Every secret handed out or typed is collected (confirm, login, console and
password codes; voucher passwords and QR tokens; points passwords; a terminal's key; a
bearer token; the root key), the drains send everything, and then the whole SQLite file
with its WAL, every text column (on both databases), the log lines ``serve`` would write
and what the console transport printed are searched for each: none is found. The SMS a
subscriber receives (the console transport's handset file) does hold them: that is the
phone.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import logging
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Connection, String, Text, inspect, text
from sqlalchemy.engine import make_url

from api.pos import sign
from core.backoffice import operator_staff
from core.platform.clock import ManualClock, epoch
from core.platform.schema import outbox
from handlers.hall import InboundMessage
from pointshall import log_filter, weblog
from pointshall.bootstrap import Services
from tests.support.console_helpers import csrf_of
from tests.support.helpers import received, texts_of
from tests.support.merchant_helpers import ALICE, STAFF_A, merchant_mall
from tests.support.settings import KANNEL_SECRET, ROOT_KEY
from tests.support.sms import message_text, post_twilio, signed, sms_params
from tests.support.tg import SECRET, TOKEN, Chat, open_chat, settled

PUBLIC_URL = "http://hall.example.com"
CODE = re.compile(r"(?<![0-9])([0-9]{6})(?![0-9])")
PASSWORD = re.compile(r"(?<![0-9])([0-9]{8})(?![0-9])")
MARKER = "secrets-at-rest-marker-4c1e"
WAIT = 60.0


@dataclass
class Day:
    chat: Chat
    stdout: io.StringIO
    logs: io.StringIO
    found: dict[str, str] = field(default_factory=dict)
    """Every secret of the day, by what it is."""

    @property
    def services(self) -> Services:
        return self.chat.services

    def keep(self, what: str, value: str) -> str:
        assert value, what
        self.found[what] = value
        return value

    async def twilio(self, sender: str, body: str) -> str:
        params = sms_params(body, sender=sender)
        status, twiml = await post_twilio(self.chat.client, params, twilio_signed(params))
        assert status == 200, twiml
        return message_text(twiml)

    async def kannel(self, sender: str, body: str) -> str:
        query = {"secret": KANNEL_SECRET, "from": sender, "text": body, "id": secrets.token_hex(8)}
        resp = await self.chat.client.get("/sms/kannel", params=query)
        assert resp.status == 200
        return await resp.text()

    async def cli(self, sender: str, body: str) -> str:
        msg = InboundMessage("cli", secrets.token_hex(8), sender, body)
        outcome = await self.services.db.write(lambda conn: self.services.hall.receive(conn, msg))
        return outcome.reply

    async def last_sms(self, to: str, pattern: re.Pattern[str] = CODE) -> str:
        """The secret in the newest SMS to ``to``, as the phone reads it."""
        query = texts_of(outbox.c.recipient == to, outbox.c.channel == "sms")
        newest = (await self.services.db.read(received(self.services, query)))[-1]
        found = pattern.search(newest)
        assert found, newest
        return found.group(1)


@pytest.fixture
async def day(database_url: str, clock: ManualClock) -> AsyncIterator[Day]:
    """The whole app as ``serve`` runs it: its log lines and what the console transport
    prints are kept. Plain http, so the console's cookie comes back to the test client."""
    logs, printed = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(printed):
        async with open_chat(
            database_url, clock, public_url=PUBLIC_URL, outbox_rate=50.0, outbox_burst=10
        ) as chat:
            secrets_ = log_filter.configured_secrets(chat.services.settings)
            handler = weblog.json_handler(logs, secrets_)
            root = logging.getLogger()
            level = root.level
            root.addHandler(handler)
            root.setLevel(logging.INFO)
            try:
                yield Day(chat, printed, logs)
            finally:
                root.removeHandler(handler)
                root.setLevel(level)


async def live_a_day(day: Day, tmp_path: Path) -> None:
    services, client = day.services, day.chat.client
    terminal_keys = await merchant_mall(services, tmp_path)
    day.keep("terminal key", terminal_keys["T-A"])

    # SMS by Twilio (§2.2.12): redeem, the code in the reply, typed back; the voucher by SMS.
    pending = await day.twilio(ALICE, "DH 3001")
    no = re.search(r"订单(\d{12})", pending)
    assert no, pending
    await day.twilio(ALICE, day.keep("DH confirm code", CODE.findall(pending)[-1]))
    first_password = day.keep("voucher password", await day.last_sms(ALICE, PASSWORD))

    # SMS by Kannel: a new password for the voucher (CF), a second voucher.
    await day.kannel(ALICE, f"CF {no.group(1)}")
    resent = day.keep("resent voucher password", await day.last_sms(ALICE, PASSWORD))
    assert resent != first_password
    second = await day.kannel(ALICE, "DH 3001")
    second_no = re.search(r"订单(\d{12})", second)
    assert second_no, second
    await day.kannel(ALICE, day.keep("Kannel confirm code", CODE.findall(second)[-1]))
    second_password = day.keep("second voucher password", await day.last_sms(ALICE, PASSWORD))

    # The merchant's phone verifies both: YZ and a bare "order password" (§3.6.2).
    verified = await day.twilio(STAFF_A, f"YZ {no.group(1)} {resent}")
    assert "核销成功" in verified or "成功" in verified, verified
    await day.kannel(STAFF_A, f"{second_no.group(1)} {second_password}")

    # The points passwords by the command line (§3.6.3, MM), with a mistyped try first.
    points, second_pw = (f"{secrets.randbelow(10**6):06d}" for _ in range(2))
    while second_pw == points:
        second_pw = f"{secrets.randbelow(10**6):06d}"
    day.keep("points password", points)
    day.keep("second password", second_pw)
    await day.cli(ALICE, "MM")
    mm_code = day.keep("MM code", await day.last_sms(ALICE))
    await day.cli(ALICE, f"MM {mm_code} {points} 1234")  # malformed: nothing of it kept
    set_reply = await day.cli(ALICE, f"MM {mm_code} {points} {second_pw}")
    assert "已设置" in set_reply, set_reply

    # The Telegram chat (§2.2.8, §2.2.12): log in by code, check out, pay with the code.
    chat = day.chat
    await chat.share_contact(ALICE)
    login_code = day.keep("chat login code", await day.last_sms(ALICE))
    assert "登录成功" in (await chat.say(login_code))[0].text
    await chat.tap("a 3002")
    summary = await chat.tap("co")
    placed = await chat.tap("co s", on=summary)
    assert "支付验证码已通过短信发送" in placed.text, placed.text
    checkout_code = day.keep("checkout code", await day.last_sms(ALICE))
    assert "支付成功" in (await chat.say(checkout_code))[0].text
    photo = await chat.wait_for(lambda m: m.photo)
    caption = re.search(r"验证密码:(\d{8})", photo.text)
    assert caption, photo.text
    day.keep("chat voucher password", caption.group(1))

    # The merchant console (§3.4.3): a login code for a staff phone.
    token = await csrf_of(client, "/console/login")
    resp = await client.post(
        "/console/login", data={"phone": STAFF_A, "csrf": token}, allow_redirects=False
    )
    assert resp.status == 302
    console_code = day.keep("console code", await day.last_sms(STAFF_A))
    token = await csrf_of(client, "/console/login/code")
    resp = await client.post(
        "/console/login/code", data={"code": console_code, "csrf": token}, allow_redirects=False
    )
    assert resp.status == 302 and resp.headers["Location"] == "/console/orders"

    # A POS terminal: pay with both points passwords (§3.6.3).
    payment = {
        "msisdn": ALICE,
        "points_password": points,
        "second_password": second_pw,
        "points": 100,
        "idempotency_key": "receipt-1",
    }
    status, body = await pos(day, "/pos/v1/payments", payment, terminal_keys["T-A"])
    assert (status, body.get("ok")) == (200, True), body

    # The admin API: a bearer token, shown once, then used.
    now = epoch(services.clock.now())
    _, bearer = await services.db.write(
        lambda conn: operator_staff.add(conn, services.keyring, "dana", "admin", by="t", now=now)
    )
    day.keep("bearer token", bearer)
    resp = await client.get("/admin/v1/staff", headers={"Authorization": f"Bearer {bearer}"})
    assert resp.status == 200

    # Something ordinary, to prove the search sees what was written.
    await day.twilio(ALICE, f"LY {MARKER}")
    await settled(services, "sms")
    await settled(services, "telegram")
    root_bytes = base64.urlsafe_b64decode(ROOT_KEY.split(":", 1)[1] + "=")
    day.keep("root key", ROOT_KEY.split(":", 1)[1])
    day.found["root key bytes"] = root_bytes.hex()
    day.keep("bot token", TOKEN)
    day.keep("webhook secret", SECRET)


async def pos(
    day: Day, path: str, payload: dict[str, object], key: str
) -> tuple[int, dict[str, object]]:
    body = json.dumps(payload).encode()
    ts = str(epoch(day.services.clock.now()))
    nonce = secrets.token_hex(16)
    headers = {
        "X-Terminal-Id": "T-A",
        "X-Timestamp": ts,
        "X-Nonce": nonce,
        "X-Signature": sign(key, "POST", path, ts, nonce, body),
        "Content-Type": "application/json",
    }
    resp = await day.chat.client.post(path, data=body, headers=headers)
    return resp.status, await resp.json()


def twilio_signed(params: dict[str, str]) -> dict[str, str]:
    return signed(params, url=PUBLIC_URL + "/sms/twilio")


def standalone(value: str) -> re.Pattern[str]:
    """``value`` where it stands alone (not inside a longer number, hash or token)."""
    return re.compile(rf"(?<![0-9A-Za-z_\-]){re.escape(value)}(?![0-9A-Za-z_\-])")


def text_columns(conn: Connection) -> Iterator[tuple[str, str, str]]:
    """Every value of every text column of every table: (table, column, value)."""
    found = inspect(conn)
    for table in found.get_table_names():
        for column in found.get_columns(table):
            if isinstance(column["type"], String | Text):
                name = column["name"]
                rows = conn.execute(text(f'SELECT "{name}" FROM "{table}"')).scalars()
                yield from ((table, name, v) for v in rows if isinstance(v, str))


async def test_a_day_of_use_leaves_no_secret_in_clear(
    day: Day, tmp_path: Path, database_url: str
) -> None:
    await live_a_day(day, tmp_path)
    secrets_of_the_day = {k: v for k, v in day.found.items() if k != "root key bytes"}
    assert len(secrets_of_the_day) >= 17

    stored = await day.services.db.read(lambda conn: list(text_columns(conn)))
    assert any(MARKER in v for _, _, v in stored), "the search reads what was written"
    for what, value in secrets_of_the_day.items():
        hits = [(t, c) for t, c, v in stored if standalone(value).search(v)]
        assert not hits, f"{what} in clear in {hits}"

    if make_url(database_url).get_backend_name() == "sqlite":
        path = Path(make_url(database_url).database or "")
        files = [path, path.with_name(path.name + "-wal")]
        raw = b"".join(f.read_bytes() for f in files if f.exists())
        assert MARKER.encode() in raw, "the file search reads the database and its WAL"
        for what, value in secrets_of_the_day.items():
            pattern = standalone(value).pattern.encode()
            assert not re.search(pattern, raw), f"{what} in clear in the database file or WAL"
        assert bytes.fromhex(day.found["root key bytes"]) not in raw

    logged = day.logs.getvalue() + day.stdout.getvalue()
    assert "/tg/[redacted]" in logged and "SMS →" in logged, "the search reads the logs"
    for what, value in secrets_of_the_day.items():
        assert not standalone(value).search(logged), f"{what} in the logs"

    phone = day.services.settings.console_handset
    assert phone is not None and day.found["MM code"] in phone.read_text(encoding="utf-8")


async def test_the_reply_to_a_redelivered_dh_keeps_its_code_masked(
    day: Day, tmp_path: Path
) -> None:
    """A redelivery gets the first answer as it was recorded: the code masked."""
    await merchant_mall(day.services, tmp_path)
    params = sms_params("DH 3001", sender=ALICE)
    _, first = await post_twilio(day.chat.client, params, twilio_signed(params))
    code = CODE.findall(message_text(first))[-1]
    _, again = await post_twilio(day.chat.client, params, twilio_signed(params))
    assert code in message_text(first) and code not in message_text(again)
    assert "******" in message_text(again)
