"""Structured request logs: one JSON line per request, with a request id.

The id is taken from an incoming ``X-Request-Id`` (a proxy's) or made up, sent
back in the response header, and available to other log lines of the request
through ``REQUEST_ID``. Only the path is logged, never the query (the Kannel
routes carry their shared secret there), and the Telegram webhook's path without its
secret; ``pointshall.log_filter`` keeps tokens out of every other line (issue 13 §1).
"""

from __future__ import annotations

import contextvars
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import TextIO

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
        access.info(
            json.dumps(
                {
                    "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    "request_id": rid,
                    "method": request.method,
                    "path": _path(request),
                    "route": name,
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "remote": request.remote,
                },
                ensure_ascii=False,
            )
        )
        REQUEST_ID.reset(token)


def _path(request: web.Request) -> str:
    """The path, with a secret that is part of it (``/tg/{secret}``) left out."""
    secret = request.match_info.get("secret")
    if secret:
        return request.path.replace(secret, "[redacted]")
    return request.path


class JsonFormatter(logging.Formatter):
    """Every other log line as JSON too, with the request id when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        if record.name == access.name:
            return record.getMessage()
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
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


def configure(level: int = logging.INFO, secrets: Iterable[str] = ()) -> None:
    """Log JSON lines to stderr (what ``pointshall serve`` uses), none holding ``secrets``,
    a bot token or a webhook secret (``pointshall.log_filter``)."""
    root = logging.getLogger()
    root.handlers[:] = [json_handler(secrets=secrets)]
    root.setLevel(level)


def json_handler(stream: TextIO | None = None, secrets: Iterable[str] = ()) -> logging.Handler:
    """JSON lines to ``stream`` (default stderr), with secrets and tokens left out."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(SecretFilter(secrets))
    return handler
