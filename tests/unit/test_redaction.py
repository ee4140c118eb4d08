"""What is recorded and logged never holds a secret (issue 13 §1): inbound texts read by the
grammar, replies with their secrets, log lines of every library."""

from __future__ import annotations

import io
import logging

import pytest

from core.platform.codes import mask
from handlers.redaction import redact
from handlers.reply import Reply
from pointshall import weblog
from pointshall.config import Settings
from pointshall.log_filter import SecretFilter, configured_secrets


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("482913", "******"),  # a confirm code, a chat login or checkout code
        (" ４８２９１３ ", " ****** "),  # full-width, as a phone may send it
        ("QR 482913", "QR ******"),
        ("MM 482913 730194 581026", "MM ****** ****** ******"),
        ("密码 482913 730194 581026", "密码 ****** ****** ******"),
        ("MM482913 730194 581026", "MM****** ****** ******"),
        ("MM 482913 730194 58102", "MM ****** ****** *****"),  # malformed: no digit kept
        ("YZ 261120000001 73019458", "YZ 261120000001 ********"),
        ("261120000001 73019458", "261120000001 ********"),  # the bare reply a merchant sends
        ("YZ 261120000001 7301945", "YZ ************ *******"),
        ("MM", "MM"),
        ("DH 1024 2", "DH 1024 2"),
        ("DD 261120000001", "DD 261120000001"),
        ("+8613800138000", "+8613800138000"),
        ("LY 房间号 482913 收", "LY 房间号 482913 收"),  # not a secret where it stands
    ],
)
def test_inbound_texts_keep_no_secret(typed: str, kept: str) -> None:
    assert redact(typed) == kept


def test_a_reply_is_recorded_with_its_secrets_masked() -> None:
    reply = Reply("订单261120482913:咖啡券×1。5分钟内回复482913确认兑换。", secrets=("482913",))
    assert reply.recorded == "订单261120482913:咖啡券×1。5分钟内回复******确认兑换。"
    assert mask("k=abc123 and abc1234", ["abc123"]) == "k=****** and abc1234"


def test_no_log_line_holds_a_token_a_webhook_secret_or_a_query() -> None:
    settings = Settings(
        database_url="sqlite+aiosqlite:///x.db",
        telegram_token="123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",  # type: ignore[arg-type]
        telegram_secret="hook-secret-42",  # type: ignore[arg-type]
        kannel_pass="kannel-pass",  # type: ignore[arg-type]
    )
    out = io.StringIO()
    log = logging.getLogger("test.redaction")
    handler = weblog.json_handler(out, configured_secrets(settings))
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning(
            "HTTP Request: POST https://api.telegram.org/bot%s/getMe", "987654321:" + "x" * 35
        )
        log.warning('"POST /tg/hook-secret-42 HTTP/1.1" 200')
        log.warning('"GET /sms/kannel?secret=s&text=MM+482913+730194+581026 HTTP/1.1" 200')
        log.warning("pass is kannel-pass")
        try:
            raise RuntimeError(
                "https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/x"
            )
        except RuntimeError:
            log.exception("failed")
    finally:
        log.removeHandler(handler)
    logged = out.getvalue()
    for leaked in ("AAHdqTcv", "x" * 35, "hook-secret-42", "482913", "kannel-pass", "secret=s"):
        assert leaked not in logged
    assert "/tg/[redacted]" in logged and "/sms/kannel?[redacted]" in logged
    assert "RuntimeError" in logged  # the traceback is kept, its secrets are not


def test_short_configured_values_are_not_searched_for() -> None:
    assert SecretFilter(["abc"]).redact("abc def") == "abc def"
