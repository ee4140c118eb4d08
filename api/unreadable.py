"""A request body aiohttp could not read is the client's fault: 400, never 500 (issue 13 §6).

aiohttp raises these while a handler reads the body — a ``Content-Encoding`` (gzip,
deflate) whose data does not decompress, a chunked or multipart body cut short, a part
header it cannot parse — after the request line was accepted, so they reach the handler
instead of aiohttp's own 400. ``reject_unreadable`` answers them for every route; the admin
API, which turns any other exception into a problem document, names them first.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.typedefs import Handler
from aiohttp.web_protocol import RequestPayloadError

UNREADABLE = (HttpProcessingError, RequestPayloadError)
REASON = "the request body could not be read (bad encoding or cut short)"


@web.middleware
async def reject_unreadable(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer 400 with ``REASON`` when reading the body failed; nothing was done with it."""
    try:
        return await handler(request)
    except UNREADABLE:
        return web.Response(status=400, text=REASON)
