"""``serve``'s log lines (issue 16 §5): readable text on a terminal, JSON otherwise, or as
``POINTSHALL_LOG_FORMAT`` says; one access record a request with the same fields either way."""

from __future__ import annotations

import io
import json
import logging
import re
import sys

import aiohttp
import pytest
from aiohttp import web

from pointshall import weblog
from pointshall.weblog import JsonFormatter, TextFormatter, formatter_for, request_log


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("fmt", "stream", "kind"),
    [
        ("auto", Terminal(), TextFormatter),
        ("auto", io.StringIO(), JsonFormatter),
        ("text", io.StringIO(), TextFormatter),
        ("json", Terminal(), JsonFormatter),
    ],
)
def test_the_format_follows_the_setting_and_the_terminal(
    fmt: str, stream: io.StringIO, kind: type[logging.Formatter]
) -> None:
    assert type(formatter_for(fmt, stream)) is kind


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="xml"):
        formatter_for("xml", io.StringIO())


async def _one_request(stream: io.StringIO, fmt: str) -> None:
    async def hello(_request: web.Request) -> web.Response:
        logging.getLogger("pointshall.test").warning("inside %s", "the handler")
        return web.Response(text="hi")

    app = web.Application(middlewares=[request_log])
    app.router.add_get("/hello", hello)
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    weblog.configure(logging.INFO, fmt, stream)
    try:
        runner = web.AppRunner(app, access_log=None)  # as serve runs it
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            async with aiohttp.ClientSession() as http:
                url = f"http://127.0.0.1:{port}/hello?secret=s3cr3t"
                async with http.get(url, headers={"X-Request-Id": "abc-123"}) as resp:
                    assert resp.status == 200
        finally:
            await runner.cleanup()
    finally:
        root.handlers[:], root.level = saved


async def test_json_lines_for_a_log_collector() -> None:
    stream = io.StringIO()
    await _one_request(stream, "json")
    inside, access = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert (inside["level"], inside["logger"], inside["message"], inside["request_id"]) == (
        "warning",
        "pointshall.test",
        "inside the handler",
        "abc-123",
    )
    assert list(access) == [
        "ts",
        "request_id",
        "method",
        "path",
        "route",
        "status",
        "duration_ms",
        "remote",
    ]
    assert (access["method"], access["path"], access["route"], access["status"]) == (
        "GET",
        "/hello",
        "/hello",
        200,
    )
    assert "s3cr3t" not in stream.getvalue()


async def test_readable_lines_on_a_terminal() -> None:
    stream = Terminal()
    await _one_request(stream, "auto")
    inside, access = stream.getvalue().splitlines()
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d WARNING pointshall\.test: inside the handler \[abc-123\]", inside
    ), inside
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d INFO    GET /hello → 200 \(\d+\.\d ms\) \[abc-123\]", access
    ), access
    assert "{" not in stream.getvalue() and "s3cr3t" not in stream.getvalue()


def test_a_traceback_follows_its_line_in_text() -> None:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), None)
        record.exc_info = sys.exc_info()
    lines = TextFormatter().format(record).splitlines()
    assert lines[0].endswith("ERROR   x: failed")
    assert lines[1] == "Traceback (most recent call last):"
    assert lines[-1] == "RuntimeError: boom"
    assert json.loads(JsonFormatter().format(record))["exc"].endswith("RuntimeError: boom")
