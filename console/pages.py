"""What every console page (merchant or operator) is sent with."""

from __future__ import annotations

from aiohttp import web


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
