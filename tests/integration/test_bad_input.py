"""No 500 on any bad input (issue 13 §6): every HTTP surface, on both databases.

Each surface gets a property test: hypothesis writes requests byte for byte
(``tests/support/raw_http.py``) with non-UTF-8 bytes in headers, targets and bodies, unknown
charsets, multipart bodies with file fields, JSON of the wrong shape and integers far past
64 bits; where a signature guards the surface, some requests are signed so the bad input
reaches the parsing behind it. Every answer is below 500, and a refused (4xx) request left
every table as it was (the row counts of the whole schema, before and after). The examples
the issue names are tests of their own.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, quote_from_bytes, urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from api.pos import sign as pos_sign
from core.payments.gateway import SIGNATURE_HEADER as GATEWAY_HEADER
from core.payments.gateway import sign as gateway_sign
from core.platform.clock import ManualClock, epoch
from core.recharge.gateway import SIGNATURE_HEADER as RECHARGE_HEADER
from pointshall.app import build_app
from pointshall.bootstrap import Services, bootstrap
from tests.support.admin_helpers import make_staff
from tests.support.console_helpers import OWNER_A, console_shops, csrf_of, login
from tests.support.office import FIELDS, OPS, office_routes, ops_login
from tests.support.raw_http import Header, row_counts, send
from tests.support.settings import KANNEL_SECRET, TWILIO_TOKEN, make_settings
from tests.support.telegram_fake import FakeTelegram, text_update

T = TypeVar("T")
EXAMPLES = int(os.environ.get("POINTSHALL_BAD_INPUT_EXAMPLES", "60"))
"""Examples per property; raise it to search harder (the suite keeps it small and fast)."""
TG_TOKEN = "123456:TEST-token_for-the-fake"
TG_SECRET = "tg-webhook-secret_1"
GATEWAY_SECRET = "gateway-test-secret"
RECHARGE_SECRET = "recharge-test-secret"
PUBLIC_URL = "http://hall.example.com"
"""Plain http, so the console's cookie is not Secure and the test's raw requests carry it."""
FORM = b"application/x-www-form-urlencoded"
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)

# ------------------------------------------------------------------ the app under test


@dataclass
class World:
    """The whole app on a real port, with terminals, a console login and admin tokens."""

    loop: asyncio.AbstractEventLoop
    services: Services
    port: int
    terminal_keys: dict[str, str]
    console_cookie: bytes
    console_csrf: str
    admin_token: str
    statement_id: int
    ops_cookie: bytes
    """An admin's back-office session (``/console/ops``)."""
    ops_csrf: str
    office: list[tuple[str, str]]
    """(method, path) of every back-office route, path parameters filled."""
    seen: set[int] = field(default_factory=set)
    """Every status answered so far: a test shows its requests got past the gate it aims at."""

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def now(self) -> int:
        return epoch(self.services.clock.now())

    def check(
        self,
        method: str,
        target: bytes,
        headers: list[Header],
        body: bytes = b"",
        *,
        may_write: frozenset[str] = frozenset(),
        answers: frozenset[int] = frozenset(),
    ) -> int:
        """Send; the answer is below 500 and, when a refusal, wrote nothing (but ``may_write``).

        ``answers`` are 4xx statuses that are the domain's answer to a well-formed request
        (a voucher that does not exist, asked for by a signed terminal): those may record
        the attempt like any answer; every other 4xx must leave every table as it was.
        """
        before = self.run(row_counts(self.services.db))
        status, answer = self.run(send(self.port, method, target, headers, body))
        self.seen.add(status)
        assert status < 500, (status, target, headers, body[:300], answer[:800])
        if status >= 400 and status not in answers:
            after = self.run(row_counts(self.services.db))
            changed = {
                k: (before[k], after[k])
                for k in before
                if before[k] != after[k] and k not in may_write
            }
            assert not changed, (status, changed, target, headers, body[:300], answer[:400])
        return status


async def _world_parts(
    database_url: str, clock: ManualClock, tmp_path: Path, stack: list[Any]
) -> tuple[Services, int, dict[str, str], bytes, str, str, int, bytes, str, list[tuple[str, str]]]:
    telegram = FakeTelegram(TG_TOKEN)
    tg_server = TestServer(telegram.app())
    await tg_server.start_server()
    stack.append(tg_server.close)
    configured = make_settings(
        database_url,
        telegram_token=TG_TOKEN,
        telegram_secret=TG_SECRET,
        telegram_api_url=str(tg_server.make_url("/bot")),
        telegram_file_url=str(tg_server.make_url("/file/bot")),
        gateway_url="http://127.0.0.1:9",  # nothing listens: the gateway is never reached
        gateway_secret=GATEWAY_SECRET,
        recharge_url="http://127.0.0.1:9",  # nothing listens: the provider is never reached
        recharge_secret=RECHARGE_SECRET,
        rate_limit_per_minute=10**9,
        public_url=PUBLIC_URL,
    )
    services = await bootstrap(configured, clock=clock, upgrade=False)
    stack.append(services.close)
    shops = await console_shops(services, tmp_path)
    client = TestClient(TestServer(build_app(services, drain=False), host="127.0.0.1"))
    await client.start_server()
    stack.append(client.close)
    await login(client, services, OWNER_A)
    csrf = await csrf_of(client, "/console/orders")
    cookie = "; ".join(f"{c.key}={c.value}" for c in client.session.cookie_jar).encode()
    tokens = await make_staff(services)
    await ops_login(client, tokens["admin"])
    ops_csrf = await csrf_of(client, f"{OPS}/orders")
    ops_cookie = "; ".join(f"{c.key}={c.value}" for c in client.session.cookie_jar).encode()
    port = client.port
    assert port is not None
    return (
        services,
        port,
        shops.terminal_keys,
        cookie,
        csrf,
        tokens["admin"],
        shops.statement_a,
        ops_cookie,
        ops_csrf,
        office_routes(client),
    )


@pytest.fixture
def world(database_url: str, clock: ManualClock, tmp_path: Path) -> Iterator[World]:
    loop = asyncio.new_event_loop()
    stack: list[Any] = []
    try:
        parts = loop.run_until_complete(_world_parts(database_url, clock, tmp_path, stack))
        yield World(loop, *parts)
    finally:
        for close in reversed(stack):
            loop.run_until_complete(close())
        loop.close()


# ------------------------------------------------------------------------ strategies


def _no_breaks(data: bytes) -> bytes:
    """Header bytes that stay one header (a CR or LF would end it)."""
    return data.replace(b"\r", b"").replace(b"\n", b"")


header_values = st.one_of(
    st.binary(max_size=60),
    st.text(max_size=30).map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"\xff\xfe", "é".encode("latin-1"), "密码".encode(), b"", b" "]),
).map(_no_breaks)
huge_ints = st.one_of(
    st.integers(min_value=2**53, max_value=2**300),
    st.integers(min_value=-(2**300), max_value=0),
    st.sampled_from([2**63, 2**63 - 1, 2**64, -(2**63) - 1, 10**400]),
)
numbers_as_text = st.one_of(
    huge_ints.map(str),
    st.sampled_from(["١٢٣", "²", "0x10", "1e9", "-0", "+5", " 7", "7 ", "９"]),
)
long_texts = st.text(min_size=65, max_size=600)
"""Longer than any column of the schema but the free texts."""
nul_texts = st.builds(lambda a, b: a + "\x00" + b, st.text(max_size=8), st.text(max_size=8))
"""PostgreSQL keeps no NUL in a text column."""
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    huge_ints,
    st.floats(),
    st.text(max_size=20),
    long_texts,
    nul_texts,
    numbers_as_text,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
charsets = st.sampled_from(
    [
        b"",
        b"; charset=utf-8",
        b"; charset=latin-1",
        b"; charset=utf-16",
        b"; charset=utf-7",
        b"; charset=cp037",
        b"; charset=x-no-such-charset",
        b"; charset=base64",
        b"; charset=rot13",
        b"; charset=\xff\xfe",
    ]
)
raw_text = st.one_of(
    st.binary(max_size=40),
    st.text(max_size=20).map(lambda s: s.encode("utf-8", "surrogatepass")),
    long_texts.map(str.encode),
    nul_texts.map(str.encode),
    numbers_as_text.map(str.encode),
)


def form_bytes(pairs: list[tuple[bytes, bytes]]) -> bytes:
    """An urlencoded body with every byte percent-encoded as it came."""
    return b"&".join(
        quote_from_bytes(k).encode() + b"=" + quote_from_bytes(v).encode() for k, v in pairs
    )


def multipart(parts: list[tuple[bytes, bytes, bytes | None, bytes | None]]) -> tuple[bytes, bytes]:
    """A multipart body of (name, value, filename, content type) parts; (its type, the body)."""
    boundary = b"b0und4ry" + secrets.token_hex(6).encode()
    out = b""
    for name, value, filename, kind in parts:
        disposition = b'form-data; name="' + name + b'"'
        if filename is not None:
            disposition += b'; filename="' + filename + b'"'
        out += b"--" + boundary + b"\r\nContent-Disposition: " + disposition + b"\r\n"
        if kind is not None:
            out += b"Content-Type: " + kind + b"\r\n"
        out += b"\r\n" + value + b"\r\n"
    out += b"--" + boundary + b"--\r\n"
    return b"multipart/form-data; boundary=" + boundary, out


names = st.sampled_from([b"x", b"Body", b"From", b"code", b"phone", b"reason", b"\xff", b"csrf"])
part_kinds = st.sampled_from([None, b"text/plain", b"text/plain; charset=x-none", b"image/png"])


@st.composite
def bodies(
    draw: st.DrawFn, fields: list[bytes], extra: tuple[tuple[bytes, bytes], ...] = ()
) -> tuple[bytes, bytes]:
    """A (content type, body) pair: urlencoded with odd bytes and charsets, multipart with
    files and non-text parts, raw bytes, JSON, or nothing."""
    choice = draw(st.integers(0, 4))
    pairs = [(k, draw(raw_text)) for k in draw(st.lists(st.sampled_from(fields), max_size=5))]
    pairs += list(extra)
    if choice == 0:
        return FORM + draw(charsets), form_bytes(pairs)
    if choice == 1:
        parts = [
            (
                k,
                v,
                draw(st.one_of(st.none(), st.just(b"a.txt"), st.just(b"\xff.bin"))),
                draw(part_kinds),
            )
            for k, v in pairs
        ]
        return multipart(parts)
    if choice == 2:
        return draw(st.sampled_from([FORM, b"text/plain", b""])) + draw(charsets), draw(
            st.binary(max_size=200)
        )
    if choice == 3:
        return b"application/json" + draw(charsets), json.dumps(draw(json_values)).encode()
    return FORM, b""


def _twilio_signature(path: str, params: dict[str, str]) -> bytes:
    return RequestValidator(TWILIO_TOKEN).compute_signature(PUBLIC_URL + path, params).encode()


# ------------------------------------------------------------------ the issue's examples


def _pos_headers(
    world: World, path: str, body: bytes, signature: bytes | None = None
) -> list[Header]:
    ts, nonce = str(world.now()), secrets.token_hex(16)
    signed = pos_sign(world.terminal_keys["T-A"], "POST", path, ts, nonce, body).encode()
    return [
        (b"Content-Type", b"application/json"),
        (b"X-Terminal-Id", b"T-A"),
        (b"X-Timestamp", ts.encode()),
        (b"X-Nonce", nonce.encode()),
        (b"X-Signature", signed if signature is None else signature),
    ]


def test_the_examples_of_the_issue_are_refused_and_write_nothing(world: World) -> None:
    """Each was a 500: now a 4xx with a reason, and every table as it was."""
    pay = "/pos/v1/payments"
    huge = json.dumps(
        {
            "msisdn": "+8613800138000",
            "points_password": "135790",
            "second_password": "246801",
            "idempotency_key": "k-huge",
            "points": 2**63,
        }
    ).encode()
    callback = [
        (b"Content-Type", b"application/json"),
        (GATEWAY_HEADER.encode(), b"t=1,v1=\xc3\xa9"),
    ]
    kind, with_file = multipart([(b"Body", b"JF", b"a.txt", b"text/plain")])
    form = [(b"Content-Type", FORM)]
    cookie = (b"Cookie", world.console_cookie)
    deep = b"[" * 5000 + b"]" * 5000
    now = world.now()
    nul_order = json.dumps({"order_no": "2611\x00", "password": "12345678"}).encode()
    nul_charge = json.dumps({"type": "charge.succeeded", "data": {"id": "ch_\x00"}}).encode()
    nul_topup = json.dumps(
        {
            "type": "recharge.succeeded",
            "data": {
                "id": "rc_1",
                "idempotency_key": "topup:2611\x00",
                "msisdn": "+8613800138000",
                "amount_cents": 1000,
                "status": "succeeded",
            },
        }
    ).encode()
    nul_sid = {"MessageSid": "SM\x00", "MessageStatus": "failed"}
    long_error = {"MessageSid": "SM" + "0" * 32, "MessageStatus": "failed", "ErrorCode": "3" * 40}
    admin = [(b"Authorization", b"Bearer " + world.admin_token.encode())]
    cases: list[tuple[str, str, bytes, list[Header], bytes, int, bytes]] = [
        (
            "POS: 2**63 points",
            "POST",
            pay.encode(),
            _pos_headers(world, pay, huge),
            huge,
            400,
            b"bad_points",
        ),
        (
            "POS: a non-ASCII signature",
            "POST",
            pay.encode(),
            _pos_headers(world, pay, b"{}", "é".encode() * 32),
            b"{}",
            401,
            b"bad_signature",
        ),
        (
            "pay link: a non-ASCII k",
            "GET",
            b"/pay/261120000001?k=" + b"%C3%A9" * 16,
            [],
            b"",
            404,
            b"No such payment",
        ),
        (
            "payment callback: a non-ASCII signature",
            "POST",
            b"/payments/callback",
            callback,
            b"{}",
            403,
            b"bad signature",
        ),
        (
            "Twilio: a file field",
            "POST",
            b"/sms/twilio",
            [(b"Content-Type", kind)],
            with_file,
            415,
            b"Content-Type",
        ),
        (
            "Twilio: bytes that are not UTF-8",
            "POST",
            b"/sms/twilio",
            form,
            b"Body=%FF&From=\xff",
            400,
            b"not UTF-8",
        ),
        (
            "Twilio: an unknown charset",
            "POST",
            b"/sms/twilio",
            [(b"Content-Type", FORM + b"; charset=x-no-such")],
            b"Body=JF",
            415,
            b"UTF-8",
        ),
        (
            "Twilio status: an ErrorCode longer than its column",
            "POST",
            b"/sms/twilio/status?o=1",
            [
                (b"Content-Type", FORM),
                (b"X-Twilio-Signature", _twilio_signature("/sms/twilio/status?o=1", long_error)),
            ],
            urlencode(long_error).encode(),
            400,
            b"ErrorCode",
        ),
        (
            "POS: an order number holding NUL",
            "POST",
            b"/pos/v1/vouchers/verify",
            _pos_headers(world, "/pos/v1/vouchers/verify", nul_order),
            nul_order,
            400,
            b"need_qr_token",
        ),
        (
            "payment callback: a charge id holding NUL",
            "POST",
            b"/payments/callback",
            [
                (b"Content-Type", b"application/json"),
                (
                    GATEWAY_HEADER.encode(),
                    gateway_sign(GATEWAY_SECRET.encode(), now, nul_charge).encode(),
                ),
            ],
            nul_charge,
            400,
            b"data.id",
        ),
        (
            "Twilio status: a MessageSid holding NUL",
            "POST",
            b"/sms/twilio/status",
            [
                (b"Content-Type", FORM),
                (b"X-Twilio-Signature", _twilio_signature("/sms/twilio/status", nul_sid)),
            ],
            urlencode(nul_sid).encode(),
            400,
            b"NUL",
        ),
        (
            "Kannel: a sender holding NUL",
            "GET",
            b"/sms/kannel?secret=" + KANNEL_SECRET.encode() + b"&from=%2B86138%00&id=k1&text=JF",
            [],
            b"",
            400,
            b"printable",
        ),
        (
            "console: a dispute reason holding NUL",
            "POST",
            f"/console/statements/{world.statement_id}/dispute".encode(),
            [(b"Content-Type", FORM), cookie],
            b"reason=a%00b&csrf=" + world.console_csrf.encode(),
            400,
            "无法读取".encode(),
        ),
        (
            "Kannel DLR: a superscript digit",
            "GET",
            b"/sms/kannel/dlr?secret=" + KANNEL_SECRET.encode() + b"&id=%C2%B2&type=1",
            [],
            b"",
            400,
            b"id, part",
        ),
        (
            "Telegram: a message without a chat",
            "POST",
            f"/tg/{TG_SECRET}".encode(),
            [
                (b"Content-Type", b"application/json"),
                (b"X-Telegram-Bot-Api-Secret-Token", TG_SECRET.encode()),
            ],
            json.dumps(
                {"update_id": 7, "message": {"message_id": 7, "date": 1, "text": "BZ"}}
            ).encode(),
            400,
            b"update.message.chat",
        ),
        (
            "console: a form in an unknown charset",
            "POST",
            b"/console/verify",
            [(b"Content-Type", FORM + b"; charset=x-no-such"), cookie],
            b"csrf=" + world.console_csrf.encode(),
            415,
            "无法读取".encode(),
        ),
        (
            "console: a goods name with a control character",
            "POST",
            b"/console/goods",
            [(b"Content-Type", FORM), cookie],
            b"code=G1&name_zh=%E5%92%96%09%E5%95%A1&name_en=Coffee&points=100&category=SJ&csrf="
            + world.console_csrf.encode(),
            400,
            b"name_zh",
        ),
        ("console: page ²", "GET", b"/console/orders?page=%C2%B2", [cookie], b"", 200, b"<table"),
        (
            "admin API: a category code no subscriber could text",
            "POST",
            b"/admin/v1/categories",
            [(b"Content-Type", b"application/json"), *admin],
            json.dumps({"code": "A_B", "name_zh": "类", "name_en": "Kind"}).encode(),
            422,
            b"letters, digits",
        ),
        (
            "recharge callback: a key holding NUL",
            "POST",
            b"/recharge/callback",
            [
                (b"Content-Type", b"application/json"),
                (
                    RECHARGE_HEADER.encode(),
                    gateway_sign(RECHARGE_SECRET.encode(), now, nul_topup).encode(),
                ),
            ],
            nul_topup,
            400,
            b"idempotency_key",
        ),
        (
            "admin API: JSON 5,000 deep",
            "POST",
            b"/admin/v1/categories",
            [(b"Content-Type", b"application/json"), *admin],
            deep,
            400,
            b"nested deeper",
        ),
    ]
    for name, method, target, headers, body, status, reason in cases:
        before = world.run(row_counts(world.services.db))
        got, answer = world.run(send(world.port, method, target, headers, body))
        assert (got, reason in answer) == (status, True), (name, answer[-400:])
        assert world.run(row_counts(world.services.db)) == before, name


def test_a_body_that_cannot_be_read_is_a_400_everywhere(world: World) -> None:
    """An outsider's finding: a gzip or deflate body that does not decompress, and a multipart
    form cut short, were a 500 with a traceback on every surface that reads its body (most
    before any signature check). Each is now 400 with the reason, and nothing is written."""
    garbage = b"\x1f\x8b\x00\x00garbage"
    admin = (b"Authorization", b"Bearer " + world.admin_token.encode())
    json_type = (b"Content-Type", b"application/json")
    surfaces = [
        ("/pos/v1/vouchers/verify", json_type),
        ("/pos/v1/payments", json_type),
        ("/payments/callback", json_type),
        ("/recharge/callback", json_type),
        ("/sms/twilio", (b"Content-Type", FORM)),
        ("/sms/twilio/status", (b"Content-Type", FORM)),
        ("/console/login", (b"Content-Type", FORM)),
        (f"{OPS}/login", (b"Content-Type", FORM)),
        ("/admin/v1/categories", json_type),
    ]
    for path, kind in surfaces:
        for encoding in (b"gzip", b"deflate"):
            headers = [kind, (b"Content-Encoding", encoding), admin]
            before = world.run(row_counts(world.services.db))
            got, answer = world.run(send(world.port, "POST", path.encode(), headers, garbage))
            assert got == 400, (path, answer[-300:])
            if not path.startswith("/console"):  # the console words it on its own page
                assert b"could not be read" in answer, (path, answer[-300:])
            assert world.run(row_counts(world.services.db)) == before, path
    cut = b"--x\r\nContent-Disp"
    for path in (f"{OPS}/login", f"{OPS}/logout"):
        headers = [(b"Content-Type", b"multipart/form-data; boundary=x")]
        got, answer = world.run(send(world.port, "POST", path.encode(), headers, cut))
        assert 400 <= got < 500, (path, answer[-300:])  # logout: 403, the CSRF is unreadable


# ------------------------------------------------------------------------------ SMS


TWILIO_FIELDS = [b"MessageSid", b"SmsSid", b"From", b"To", b"Body", b"MessageStatus", b"ErrorCode"]


def test_twilio_webhooks_refuse_bad_input_without_a_500(world: World) -> None:
    @PROPERTY
    @given(
        path=st.sampled_from(["/sms/twilio", "/sms/twilio/status"]),
        body=bodies(TWILIO_FIELDS),
        signature=header_values,
    )
    def unsigned(path: str, body: tuple[bytes, bytes], signature: bytes) -> None:
        kind, data = body
        headers = [(b"Content-Type", kind), (b"X-Twilio-Signature", signature)]
        assert world.check("POST", path.encode(), headers, data) in (400, 403, 413, 415)

    @PROPERTY
    @given(
        params=st.fixed_dictionaries(
            {},
            optional={
                "MessageSid": st.one_of(st.text(max_size=80), nul_texts, st.just("SM" + "0" * 32)),
                "SmsSid": st.one_of(st.text(max_size=40), nul_texts),
                "From": st.one_of(st.text(max_size=40), nul_texts, st.just("+8613800138000")),
                "To": st.one_of(st.text(max_size=40), nul_texts),
                "Body": st.one_of(st.text(max_size=60), nul_texts),
                "MessageStatus": st.one_of(
                    st.sampled_from(["delivered", "failed", "undelivered", "sent"]),
                    st.text(max_size=12),
                ),
                "ErrorCode": st.text(max_size=40),
            },
        ),
        ours=st.one_of(st.none(), numbers_as_text, st.integers(1, 6).map(str)),
    )
    def signed(params: dict[str, str], ours: str | None) -> None:
        for path in ("/sms/twilio", "/sms/twilio/status"):
            target = path if ours is None or path == "/sms/twilio" else f"{path}?o={quote(ours)}"
            signature = _twilio_signature(target, params)
            body = "&".join(f"{quote(k)}={quote(v)}" for k, v in params.items()).encode()
            headers = [(b"Content-Type", FORM), (b"X-Twilio-Signature", signature)]
            world.check("POST", target.encode(), headers, body)

    unsigned()
    signed()


KANNEL_FIELDS = [b"secret", b"from", b"to", b"text", b"id", b"coding", b"charset"]


def test_kannel_routes_refuse_bad_input_without_a_500(world: World) -> None:
    secret = KANNEL_SECRET.encode()

    @PROPERTY
    @given(
        values=st.dictionaries(st.sampled_from(KANNEL_FIELDS), raw_text, max_size=7),
        coding=st.sampled_from([b"0", b"1", b"2", b"\xff", b"9" * 30]),
        charset=st.sampled_from([b"UTF-16BE", b"base64", b"rot13", b"x-none", b"\xff", b"utf-7"]),
        with_secret=st.booleans(),
        post=st.booleans(),
        raw_target=st.booleans(),
    )
    def mo(
        values: dict[bytes, bytes],
        coding: bytes,
        charset: bytes,
        with_secret: bool,
        post: bool,
        raw_target: bool,
    ) -> None:
        pairs = [*values.items(), (b"coding", coding), (b"charset", charset)]
        if with_secret:
            pairs.append((b"secret", secret))
        query = form_bytes(pairs)
        if raw_target:  # bytes the client should have escaped
            query = b"&".join(k + b"=" + _no_breaks(v).replace(b" ", b"") for k, v in pairs)
        if post:
            world.check("POST", b"/sms/kannel", [(b"Content-Type", FORM)], query)
        else:
            world.check("GET", b"/sms/kannel?" + query, [])

    @PROPERTY
    @given(
        values=st.dictionaries(
            st.sampled_from([b"id", b"part", b"parts", b"type"]),
            st.one_of(raw_text, numbers_as_text.map(str.encode)),
            max_size=4,
        ),
        with_secret=st.booleans(),
    )
    def dlr(values: dict[bytes, bytes], with_secret: bool) -> None:
        pairs = list(values.items()) + ([(b"secret", secret)] if with_secret else [])
        status = world.check("GET", b"/sms/kannel/dlr?" + form_bytes(pairs), [])
        assert status in (200, 400, 403, 404)

    mo()
    dlr()


# --------------------------------------------------------------------------- Telegram


TG_PATHS = (
    ("update_id",),
    ("message",),
    ("message", "message_id"),
    ("message", "date"),
    ("message", "chat"),
    ("message", "chat", "id"),
    ("message", "chat", "type"),
    ("message", "from"),
    ("message", "from", "id"),
    ("message", "from", "language_code"),
    ("message", "text"),
    ("message", "contact"),
    ("callback_query",),
)


def _tg_update(uid: int, changes: dict[tuple[str, ...], Any]) -> dict[str, Any]:
    """A text update from one private chat with the value at each path of ``changes`` replaced."""
    update = text_update(uid, 424242, "BZ")
    for path, value in changes.items():
        at: Any = update
        for key in path[:-1]:
            if not isinstance(at.get(key), dict):
                at[key] = {}
            at = at[key]
        at[path[-1]] = value
    return update


def test_telegram_webhook_refuses_bad_input_without_a_500(world: World) -> None:
    target = f"/tg/{TG_SECRET}".encode()
    secret = (b"X-Telegram-Bot-Api-Secret-Token", TG_SECRET.encode())
    uids = iter(range(10_000, 10**6))

    @PROPERTY
    @given(body=st.binary(max_size=100), charset=charsets, given_secret=header_values)
    def gate(body: bytes, charset: bytes, given_secret: bytes) -> None:
        headers = [
            (b"Content-Type", b"application/json" + charset),
            (b"X-Telegram-Bot-Api-Secret-Token", given_secret),
        ]
        assert world.check("POST", target, headers, body) in (400, 403)

    @PROPERTY
    @given(
        changes=st.dictionaries(st.sampled_from(TG_PATHS), json_values, max_size=3),
        raw=st.one_of(
            st.none(), st.binary(max_size=80), json_values.map(json.dumps).map(str.encode)
        ),
        charset=charsets,
    )
    def updates(changes: dict[tuple[str, ...], Any], raw: bytes | None, charset: bytes) -> None:
        body = raw if raw is not None else json.dumps(_tg_update(next(uids), changes)).encode()
        headers = [(b"Content-Type", b"application/json" + charset), secret]
        world.check("POST", target, headers, body)

    gate()
    updates()
    assert {200, 400} <= world.seen


# ------------------------------------------------------------------------------- POS


POS_PATHS = ("/pos/v1/payments", "/pos/v1/vouchers/verify")
POS_FIELDS = (
    "msisdn",
    "points_password",
    "second_password",
    "idempotency_key",
    "points",
    "qr_token",
    "order_no",
    "password",
)


DOMAIN_ANSWERS = frozenset({403, 404, 409, 422, 423})
"""What a signed terminal may be answered about a well-formed request (``api.pos_errors``)."""


def test_pos_api_refuses_bad_input_without_a_500(world: World) -> None:
    @PROPERTY
    @given(
        path=st.sampled_from(POS_PATHS),
        replaced=st.dictionaries(st.integers(0, 3), header_values, min_size=1, max_size=4),
        body=st.binary(max_size=100),
    )
    def unsigned(path: str, replaced: dict[int, bytes], body: bytes) -> None:
        """Signed headers with some replaced by junk: a 401 that wrote nothing."""
        ts, nonce = str(world.now()), secrets.token_hex(16)
        signature = pos_sign(world.terminal_keys["T-A"], "POST", path, ts, nonce, body)
        values = [b"T-A", ts.encode(), nonce.encode(), signature.encode()]
        for i, value in replaced.items():
            values[i] = value
        names = (b"X-Terminal-Id", b"X-Timestamp", b"X-Nonce", b"X-Signature")
        headers = [(b"Content-Type", b"application/json"), *zip(names, values, strict=True)]
        assert world.check("POST", path.encode(), headers, body) in (400, 401)

    good = {
        "msisdn": "+8613800138000",
        "points_password": "135790",
        "second_password": "246801",
        "idempotency_key": "k-1",
        "points": 10,
    }

    @PROPERTY
    @given(
        path=st.sampled_from(POS_PATHS),
        changes=st.dictionaries(st.sampled_from(POS_FIELDS), json_values, min_size=1, max_size=4),
        points=huge_ints,
        raw=st.one_of(st.none(), st.binary(max_size=60)),
    )
    def signed(path: str, changes: dict[str, Any], points: int, raw: bytes | None) -> None:
        payload = good | changes | {"points": points}
        body = raw if raw is not None else json.dumps(payload).encode()
        ts, nonce = str(world.now()), secrets.token_hex(16)
        signature = pos_sign(world.terminal_keys["T-A"], "POST", path, ts, nonce, body)
        headers = [
            (b"Content-Type", b"application/json"),
            (b"X-Terminal-Id", b"T-A"),
            (b"X-Timestamp", ts.encode()),
            (b"X-Nonce", nonce.encode()),
            (b"X-Signature", signature.encode()),
        ]
        status = world.check("POST", path.encode(), headers, body, answers=DOMAIN_ANSWERS)
        if path == POS_PATHS[0]:
            assert status == 400  # never a payment: the amount is out of range

    unsigned()
    signed()


# -------------------------------------------------------------------------- payments


def test_payment_callback_and_pay_link_refuse_bad_input_without_a_500(world: World) -> None:
    @PROPERTY
    @given(mac=header_values, body=st.binary(max_size=100), dated=st.booleans())
    def unsigned(mac: bytes, body: bytes, dated: bool) -> None:
        signature = f"t={world.now()},v1=".encode() + mac if dated else mac
        headers = [(b"Content-Type", b"application/json"), (GATEWAY_HEADER.encode(), signature)]
        assert world.check("POST", b"/payments/callback", headers, body) in (400, 403)

    @PROPERTY
    @given(
        payload=st.one_of(
            json_values,
            st.builds(
                lambda kind, charge: {"type": kind, "data": {"id": charge}},
                st.sampled_from(["charge.succeeded", "charge.failed"]),
                json_values,
            ),
        ),
        raw=st.one_of(st.none(), st.binary(max_size=60)),
    )
    def signed(payload: Any, raw: bytes | None) -> None:
        body = raw if raw is not None else json.dumps(payload).encode()
        now = world.now()
        headers = [
            (b"Content-Type", b"application/json"),
            (GATEWAY_HEADER.encode(), gateway_sign(GATEWAY_SECRET.encode(), now, body).encode()),
        ]
        world.check("POST", b"/payments/callback", headers, body)

    @PROPERTY
    @given(no=raw_text, k=raw_text, raw_target=st.booleans())
    def link(no: bytes, k: bytes, raw_target: bool) -> None:
        if raw_target:
            target = (
                b"/pay/" + quote_from_bytes(no).encode() + b"?k=" + _no_breaks(k).replace(b" ", b"")
            )
        else:
            target = (
                b"/pay/" + quote_from_bytes(no).encode() + b"?k=" + quote_from_bytes(k).encode()
            )
        assert world.check("GET", target, []) in (400, 404)

    unsigned()
    signed()
    link()


def test_recharge_callback_refuses_bad_input_without_a_500(world: World) -> None:
    secret = RECHARGE_SECRET.encode()
    good = {
        "id": "rc_1",
        "idempotency_key": "topup:000000000000",
        "msisdn": "+8613800138000",
        "amount_cents": 1000,
        "status": "succeeded",
    }
    fields = [*good, "failure_code"]
    recharge = st.dictionaries(st.sampled_from(fields), json_values, max_size=2).map(
        lambda changes: good | changes
    )

    @PROPERTY
    @given(
        payload=st.one_of(
            json_values,
            st.builds(
                lambda kind, data: {"type": kind, "data": data},
                st.sampled_from(["recharge.succeeded", "recharge.failed", "x"]),
                st.one_of(recharge, json_values),
            ),
        ),
        raw=st.one_of(st.none(), st.binary(max_size=60), st.just(b"[" * 5000 + b"]" * 5000)),
        mac=st.one_of(st.none(), header_values),
    )
    def callback(payload: Any, raw: bytes | None, mac: bytes | None) -> None:
        body = raw if raw is not None else json.dumps(payload).encode()
        signature = gateway_sign(secret, world.now(), body).encode()
        if mac is not None:
            signature = f"t={world.now()},v1=".encode() + mac
        headers = [(b"Content-Type", b"application/json"), (RECHARGE_HEADER.encode(), signature)]
        world.check("POST", b"/recharge/callback", headers, body)

    callback()
    assert {200, 400, 403} <= world.seen


# --------------------------------------------------------------------------- console

CONSOLE_FORMS: dict[str, list[bytes]] = {
    "/console/login": [b"phone"],
    "/console/login/code": [b"code"],
    "/console/merchant": [b"merchant_id"],
    "/console/verify": [b"order_no", b"password"],
    "/console/statements/{id}/dispute": [b"reason"],
    "/console/statements/{id}/confirm": [b"reason"],
    "/console/staff/add": [b"phone"],
    "/console/staff/remove": [b"phone"],
    "/console/goods": [
        b"code",
        b"name_zh",
        b"name_en",
        b"points",
        b"stock",
        b"days",
        b"category",
        b"description_zh",
    ],
    "/console/ops/login": [b"token"],
    "/console/ops/reviews": [b"code", b"decision", b"reason"],
    "/console/ops/applications": [b"id", b"decision", b"reason"],
}
AUDITED = frozenset({"audit_log"})
"""A refused login or voucher password is itself recorded (an attempt, not a change)."""
CONSOLE_PAGES = (
    "/console/orders",
    "/console/statements/{id}",
    "/console/statements/{id}/bill.csv",
    "/console/statements/{id}/bill.xlsx",
    "/console/lang/{raw}",
    "/console/login",
    "/console/ops/login",
)
QUERY_NAMES = [b"status", b"from", b"to", b"page", b"next", b"expired"]


def test_console_forms_and_pages_refuse_bad_input_without_a_500(world: World) -> None:
    cookie = (b"Cookie", world.console_cookie)

    @PROPERTY
    @given(data=st.data(), route=st.sampled_from(sorted(CONSOLE_FORMS)), with_csrf=st.booleans())
    def forms(data: st.DataObject, route: str, with_csrf: bool) -> None:
        extra = ((b"csrf", world.console_csrf.encode()),) if with_csrf else ()
        kind, body = data.draw(bodies(CONSOLE_FORMS[route], extra))
        target = route.replace("{id}", str(world.statement_id)).encode()
        headers = [(b"Content-Type", kind), cookie]
        world.check("POST", target, headers, body, may_write=AUDITED)

    @PROPERTY
    @given(
        page=st.sampled_from(CONSOLE_PAGES),
        raw=raw_text,
        query=st.lists(st.tuples(st.sampled_from(QUERY_NAMES), raw_text), max_size=4),
        language=header_values,
    )
    def pages(page: str, raw: bytes, query: list[tuple[bytes, bytes]], language: bytes) -> None:
        path = page.replace("{id}", str(world.statement_id))
        target = path.replace("{raw}", quote_from_bytes(raw) or "x").encode()
        target += b"?" + form_bytes(query)
        world.check("GET", target, [cookie, (b"Accept-Language", language)])

    forms()
    pages()
    assert {200, 400} <= world.seen


# ------------------------------------------------------------------------ back office

OFFICE_FIELDS = [f.encode() for f in FIELDS]


def test_back_office_refuses_bad_input_without_a_500(world: World) -> None:
    """Every /console/ops route as an admin: forms in any encoding, multipart with files,
    queries of any bytes. A refusal writes nothing but its audit record."""
    cookie = (b"Cookie", world.ops_cookie)
    routes = [(m, p) for m, p in world.office if not p.endswith(("/login", "/logout"))]
    assert len(routes) > 50

    @PROPERTY
    @given(
        data=st.data(),
        route=st.sampled_from(routes),
        with_csrf=st.booleans(),
        query=st.lists(st.tuples(st.sampled_from(OFFICE_FIELDS), raw_text), max_size=4),
    )
    def call(
        data: st.DataObject,
        route: tuple[str, str],
        with_csrf: bool,
        query: list[tuple[bytes, bytes]],
    ) -> None:
        method, path = route
        if method == "GET":
            world.check("GET", path.encode() + b"?" + form_bytes(query), [cookie])
            return
        extra = ((b"csrf", world.ops_csrf.encode()),) if with_csrf else ()
        kind, body = data.draw(bodies(OFFICE_FIELDS, extra))
        headers = [(b"Content-Type", kind), cookie]
        world.check("POST", path.encode(), headers, body, may_write=AUDITED)

    call()
    assert {200, 400} <= world.seen


# -------------------------------------------------------------------------- admin API


def _admin_routes() -> list[tuple[str, str, list[str]]]:
    from api.admin.app import all_routes

    return [
        (
            r.method,
            r.path,
            [f.name for f in r.query] + ([f.name for f in r.body.fields] if r.body else []),
        )
        for r in all_routes()
    ]


ADMIN_ROUTES = _admin_routes()


def test_admin_api_refuses_bad_input_without_a_500(world: World) -> None:
    bearer = b"Bearer " + world.admin_token.encode()

    @PROPERTY
    @given(
        data=st.data(),
        route=st.sampled_from(ADMIN_ROUTES),
        segment=raw_text,
        query=st.lists(
            st.tuples(st.sampled_from([b"limit", b"period", b"format", b"status", b"q"]), raw_text),
            max_size=3,
        ),
        charset=charsets,
        authorization=st.one_of(
            st.just(bearer), header_values, header_values.map(lambda v: b"Bearer " + v)
        ),
    )
    def call(
        data: st.DataObject,
        route: tuple[str, str, list[str]],
        segment: bytes,
        query: list[tuple[bytes, bytes]],
        charset: bytes,
        authorization: bytes,
    ) -> None:
        method, path, fields = route
        target = "/admin/v1" + path
        for name in [p.split("}")[0] for p in path.split("{")[1:]]:
            target = target.replace("{" + name + "}", quote_from_bytes(segment) or "x")
        raw_target = target.encode() + b"?" + form_bytes(query)
        body = data.draw(
            st.one_of(
                st.fixed_dictionaries({}, optional={f: json_values for f in fields or ["x"]})
                .map(json.dumps)
                .map(str.encode),
                st.binary(max_size=100),
                json_values.map(json.dumps).map(str.encode),
                st.just(b"[" * 5000 + b"]" * 5000),
            )
        )
        headers = [
            (b"Content-Type", b"application/json" + charset),
            (b"Authorization", authorization),
        ]
        world.check(method, raw_target, headers, body)

    call()
    assert {200, 400, 401} <= world.seen


def test_a_signed_event_of_another_type_is_acknowledged_and_changes_nothing(
    world: World,
) -> None:
    """README "Exports and bad input": a well-formed gateway event that is not
    ``charge.succeeded`` gets 200 (the gateway would retry anything else) and writes
    nothing; one without a string ``type`` or a ``data.id`` is a 400."""
    before = world.run(row_counts(world.services.db))
    for payload, status in (
        ({"type": "charge.refunded", "data": {"id": "ch_1"}}, 200),
        ({"type": "customer.created", "data": {"id": "cus_1"}}, 200),
        ({"type": 7, "data": {"id": "ch_1"}}, 400),
        ({"type": "charge.succeeded", "data": {}}, 400),
    ):
        body = json.dumps(payload).encode()
        headers = [
            (b"Content-Type", b"application/json"),
            (
                GATEWAY_HEADER.encode(),
                gateway_sign(GATEWAY_SECRET.encode(), world.now(), body).encode(),
            ),
        ]
        assert world.check("POST", b"/payments/callback", headers, body) == status, payload
    assert world.run(row_counts(world.services.db)) == before
