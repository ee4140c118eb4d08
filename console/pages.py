"""What every console page (merchant or operator) is sent with, and how its form is read."""

from __future__ import annotations

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError
from multidict import MultiDict, MultiDictProxy

from core.platform import inputs

FORM_KEY = web.RequestKey("console_form", MultiDictProxy[str])


UNREADABLE = (HttpProcessingError, RequestPayloadError)
"""What aiohttp raises while reading a body it cannot read (an encoding that does not
decompress, a body cut short): the console's forms answer 400. The same types as
``api.unreadable`` (sibling adapters do not import each other)."""


async def posted(request: web.Request) -> MultiDictProxy[str]:
    """The request's form fields (read once), or ``inputs.MalformedInput``.

    The console's forms are urlencoded UTF-8, as a browser sends them; a multipart body, a
    declared charset other than UTF-8 or bytes that are not UTF-8 are refused (the error
    middleware answers 415 or 400) instead of being guessed at.
    """
    if FORM_KEY not in request:
        try:
            body = await request.read()
        except UNREADABLE:
            raise inputs.MalformedInput("body", "the body could not be read") from None
        pairs = inputs.form_pairs(body, request.content_type, request.charset)
        request[FORM_KEY] = MultiDictProxy(MultiDict(pairs))
    return request[FORM_KEY]


def html_page(body: str, status: int) -> web.Response:
    """A console page: never cached, never framed, no scripts or outside resources."""
    response = web.Response(text=body, status=status, content_type="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'"
    )
    return response
