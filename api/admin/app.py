"""The admin sub-application mounted at ``/admin/v1``: bearer authentication middleware,
the routes of every resource module, the error table, and ``GET /openapi.json``."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from types import ModuleType

from aiohttp import web
from aiohttp.typedefs import Middleware

from api.admin import (
    adjustments,
    audit_log,
    catalogue,
    content,
    me,
    merchants,
    moderation,
    orders,
    reports,
    staff_members,
    statements,
    subscribers,
    topups,
)
from api.admin.deps import AdminDeps
from api.admin.errors import domain_problem, problem
from api.admin.fields import BadInput
from api.admin.registry import STAFF_KEY, Route, TooLarge, openapi, serve
from api.unreadable import REASON, UNREADABLE
from core.backoffice import operator_staff
from core.platform import inputs
from core.platform.errors import DomainError

BASE = "/admin/v1"
OPENAPI_PATH = "/openapi.json"
MODULES: tuple[ModuleType, ...] = (
    me,
    catalogue,
    content,
    merchants,
    orders,
    subscribers,
    adjustments,
    statements,
    reports,
    audit_log,
    staff_members,
    moderation,
    topups,
)
log = logging.getLogger(__name__)
Next = Callable[[web.Request], Awaitable[web.StreamResponse]]


def all_routes(extra: tuple[Route, ...] = ()) -> list[Route]:
    routes: list[Route] = []
    for module in MODULES:
        routes.extend(module.ROUTES)
    routes.extend(extra)
    return routes


def _bearer(request: web.Request) -> str | None:
    header = inputs.header(request.headers.get("Authorization")) or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _middleware(deps: AdminDeps) -> Middleware:
    @web.middleware
    async def admin_auth(request: web.Request, handler: Next) -> web.StreamResponse:
        """Authenticate the bearer token; turn every error into a problem document."""
        try:
            if request.path != BASE + OPENAPI_PATH:
                token = _bearer(request)
                member = None
                if token is not None:
                    member = await deps.db.read(
                        lambda conn: operator_staff.authenticate(conn, deps.keyring, token)
                    )
                if member is None:
                    return problem(
                        401,
                        "unauthorized",
                        "a valid bearer token is needed",
                        headers={"WWW-Authenticate": 'Bearer realm="pointshall-admin"'},
                    )
                request[STAFF_KEY] = member
            return await handler(request)
        except BadInput as exc:
            return problem(400, "bad_request", str(exc))
        except TooLarge:
            return problem(413, "too_large", "the request body is too large")
        except UNREADABLE:
            return problem(400, "bad_request", REASON)
        except DomainError as exc:
            return domain_problem(exc)
        except web.HTTPException as exc:
            if exc.status >= 400:
                return problem(exc.status, "http", exc.reason)
            raise
        except Exception:
            log.exception("admin API failed on %s %s", request.method, request.path)
            return problem(500, "internal", "unexpected error; it has been logged")

    return admin_auth


def build_admin_app(deps: AdminDeps, extra: tuple[Route, ...] = ()) -> web.Application:
    """The sub-application; ``extra`` routes (e.g. moderation) are added like the rest."""
    app = web.Application(middlewares=[_middleware(deps)])
    routes = all_routes(extra)
    document = openapi(routes, BASE)

    async def openapi_json(_request: web.Request) -> web.Response:
        """Serve the OpenAPI 3.1 document made from the route table."""
        return web.json_response(document)

    app.router.add_get(OPENAPI_PATH, openapi_json, allow_head=False)
    for route in routes:
        app.router.add_route(route.method, route.path, serve(route, deps))
    return app
