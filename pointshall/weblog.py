"""Request logs with a request id, and how ``serve`` prints its log lines.

The id is taken from an incoming ``X-Request-Id`` (a proxy's) or made up, sent
back in the response header, and available to other log lines of the request
through ``REQUEST_ID``. Only the path is logged, never the query (the Kannel
routes carry their shared secret there), and the Telegram webhook's path without its
secret; ``pointshall.log_filter`` keeps tokens out of every other line (issue 13 §1).

Lines are JSON (one object a line, for a log collector) or readable text (for a
person at a terminal): ``POINTSHALL_LOG_FORMAT`` is ``auto`` (text when stderr is a
terminal, JSON otherwise), ``json`` or ``text`` (issue 16 §5).
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from aiohttp import web

from core.platform import metrics
from pointshall.log_filter import SecretFilter

REQUEST_ID = contextvars.ContextVar("request_id", default="-")
HEADER = "X-Request-Id"
MAX_ID = 64
access = logging.getLogger("pointshall.access")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _request_id(request: web.Request) -> str:
    given = request.headers.get(HEADER, "")
    if given and len(given) <= MAX_ID and given.isprintable():
        return given
    return uuid.uuid4().hex


@web.middleware
async def request_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    rid = _request_id(request)
    token = REQUEST_ID.set(rid)
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers[HEADER] = rid
        return response
    except web.HTTPException as exc:
        status = exc.status
        exc.headers[HEADER] = rid
        raise
    finally:
        route = request.match_info.route.resource
        name = route.canonical if route is not None else "unmatched"
        metrics.HTTP_REQUESTS.labels(name, f"{status // 100}xx").inc()
        fields = {
            "request_id": rid,
            "method": request.method,
            "path": _path(request),
            "route": name,
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "remote": request.remote,
        }
        access.info(
            "%s %s %s %.1f ms",
            request.method,
            request.path,
            status,
            fields["duration_ms"],
            extra={HTTP: fields},
        )
        REQUEST_ID.reset(token)


def _path(request: web.Request) -> str:
    """The path, with a secret that is part of it (``/tg/{secret}``) left out."""
    secret = request.match_info.get("secret")
    if secret:
        return request.path.replace(secret, "[redacted]")
    return request.path


HTTP = "http"
"""The attribute of an access record holding its fields."""
FORMATS = ("auto", "json", "text")


def _fields(record: logging.LogRecord) -> dict[str, Any] | None:
    found = getattr(record, HTTP, None)
    return found if isinstance(found, dict) else None


class JsonFormatter(logging.Formatter):
    """One JSON object a line: a request's fields, or any other record with its request id."""

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        http = _fields(record)
        if http is not None:
            return json.dumps({"ts": ts, **http}, ensure_ascii=False)
        entry = {
            "ts": ts,
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": REQUEST_ID.get(),
        }
        if record.exc_text:  # already made safe by pointshall.log_filter
            entry["exc"] = record.exc_text
        elif record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """A readable line: local time, level, then ``METHOD path → status (ms)`` for a request
    or ``logger: message`` for anything else; a traceback follows its line."""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created).astimezone().strftime("%H:%M:%S")
        http = _fields(record)
        if http is not None:
            line = (
                f"{when} {record.levelname:<7} {http['method']} {http['path']} → "
                f"{http['status']} ({http['duration_ms']:.1f} ms) [{str(http['request_id'])[:8]}]"
            )
        else:
            line = f"{when} {record.levelname:<7} {record.name}: {record.getMessage()}"
            rid = REQUEST_ID.get()
            if rid != "-":
                line += f" [{rid[:8]}]"
        if record.exc_text:  # already made safe by pointshall.log_filter
            line += "\n" + record.exc_text
        elif record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def formatter_for(fmt: str, stream: TextIO) -> logging.Formatter:
    """The formatter for ``fmt`` (one of ``FORMATS``); ``auto`` is text on a terminal."""
    if fmt not in FORMATS:
        raise ValueError(f"log format {fmt!r} is not one of {', '.join(FORMATS)}")
    text = fmt == "text" or (fmt == "auto" and stream.isatty())
    return TextFormatter() if text else JsonFormatter()


def configure(
    level: int = logging.INFO,
    fmt: str = "auto",
    stream: TextIO | None = None,
    secrets: Iterable[str] = (),
) -> None:
    """Log to ``stream`` (stderr) in ``fmt`` (what ``pointshall serve`` uses), no line holding
    ``secrets``, a bot token or a webhook secret (``pointshall.log_filter``)."""
    out = stream or sys.stderr
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter_for(fmt, out))
    handler.addFilter(SecretFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def json_handler(stream: TextIO | None = None, secrets: Iterable[str] = ()) -> logging.Handler:
    """JSON lines to ``stream`` (default stderr), with secrets and tokens left out."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(SecretFilter(secrets))
    return handler
