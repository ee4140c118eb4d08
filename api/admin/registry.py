"""The admin API's route table: each route declares its method, path, roles, parameters,
body and response type once; the aiohttp routes and the OpenAPI document are both made
from it, so they cannot disagree.

Adding a route is one ``Route(...)`` in a resource module's ``ROUTES`` tuple (and, for
a new module, one line in ``api.admin.app.MODULES``): the role check, parsing, the
error table and the OpenAPI entry come with it.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy import Connection

from api.admin.deps import AdminDeps
from api.admin.errors import PROBLEM, PROBLEM_SCHEMA, problem
from api.admin.fields import BadInput, Body, Field
from core.backoffice.operator_staff import OperatorStaff
from core.platform import inputs
from core.platform.clock import epoch
from core.platform.languages import accept_lang

BUSINESS_ADMIN, ADMIN, FINANCE, SUPPORT = "business_admin", "admin", "finance", "support"
EVERYONE = frozenset({BUSINESS_ADMIN, ADMIN, FINANCE, SUPPORT})
T = TypeVar("T")
STAFF_KEY = web.RequestKey("admin_staff", OperatorStaff)
MAX_BODY = 1024 * 1024
ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 422)


class TooLarge(Exception):
    """The request body is over ``MAX_BODY``; answered 413."""


@dataclass(frozen=True)
class Download:
    """A file answer (reports, pictures)."""

    data: bytes
    content_type: str
    filename: str | None = None


@dataclass(frozen=True)
class Call:
    """What a handler gets: who calls, the checked parameters and body, the services."""

    staff: OperatorStaff
    path: dict[str, Any]
    query: dict[str, Any]
    body: dict[str, Any]
    deps: AdminDeps
    now: int
    lang: str = "zh"
    """The requester's language: the first of zh/en in ``Accept-Language``, else the default."""

    async def write(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        """Run ``fn(conn, **kwargs)`` as one unit of work."""
        unit: Callable[[Connection], T] = partial(fn, **kwargs)
        return await self.deps.db.write(unit)

    async def read(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        unit: Callable[[Connection], T] = partial(fn, **kwargs)
        return await self.deps.db.read(unit)


Handler = Callable[[Call], Awaitable[Any]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    roles: frozenset[str]
    summary: str
    tag: str
    response: Any = None
    """A dataclass, ``list[dataclass]``, a JSON Schema dict, or None (204)."""
    path_params: tuple[Field, ...] = ()
    query: tuple[Field, ...] = ()
    body: Body | None = None
    status: int = 200
    produces: tuple[str, ...] = ("application/json",)

    @property
    def operation_id(self) -> str:
        words = [p.strip("{}") for p in self.path.strip("/").split("/")]
        return "_".join([self.method.lower(), *words]).replace("-", "_")


# ------------------------------------------------------------ response schemas


def _schema_of_type(tp: Any) -> dict[str, Any]:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        inner = _schema_of_type(args[0])
        kind = inner.get("type")
        if isinstance(kind, str):
            return {**inner, "type": [kind, "null"]}
        return {"anyOf": [inner, {"type": "null"}]}
    if origin is list or origin is tuple:
        return {"type": "array", "items": _schema_of_type(typing.get_args(tp)[0])}
    if origin is dict or tp is dict:
        return {"type": "object"}
    if dataclasses.is_dataclass(tp):
        return schema_of(tp)
    simple = {bool: "boolean", int: "integer", str: "string", float: "number"}
    if tp in simple:
        return {"type": simple[tp]}
    raise TypeError(f"no JSON Schema for {tp!r}")


def schema_of(response: Any) -> dict[str, Any]:
    """The JSON Schema of a dataclass (by its type hints), ``list[...]`` or a schema dict."""
    if isinstance(response, dict):
        return response
    if dataclasses.is_dataclass(response) and isinstance(response, type):
        hints = typing.get_type_hints(response)
        names = [f.name for f in dataclasses.fields(response)]
        return {
            "type": "object",
            "properties": {n: _schema_of_type(hints[n]) for n in names},
            "required": names,
        }
    return _schema_of_type(response)


def to_json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value


# ----------------------------------------------------------- serving a route


async def _read_body(request: web.Request) -> bytes:
    data = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        data += chunk
        if len(data) > MAX_BODY:
            raise TooLarge
    return bytes(data)


def _parse_params(fields: tuple[Field, ...], raw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields:
        if f.name in raw:
            out[f.name] = f.from_text(raw[f.name])
        elif f.required:
            raise BadInput(f.name, "is required")
    return out


def serve(route: Route, deps: AdminDeps) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The aiohttp handler of ``route``: role check first, then parsing, then the handler."""

    async def handle(request: web.Request) -> web.StreamResponse:
        member: OperatorStaff = request[STAFF_KEY]
        if member.role not in route.roles:
            return problem(403, "forbidden", f"role {member.role} may not {route.summary}")
        path = _parse_params(route.path_params, request.match_info)
        query = _parse_params(route.query, request.query)
        payload: dict[str, Any] = {}
        if route.body is not None:
            raw = await _read_body(request)
            try:
                decoded = inputs.json_body(raw)
            except inputs.MalformedInput as exc:
                raise BadInput("body", exc.reason) from None
            payload = route.body.parse(decoded)
        lang = accept_lang(request.headers.get("Accept-Language"), deps.home_lang)
        call = Call(member, path, query, payload, deps, epoch(deps.clock.now()), lang)
        result = await route.handler(call)
        if isinstance(result, Download):
            headers = {}
            if result.filename:
                headers["Content-Disposition"] = f'attachment; filename="{result.filename}"'
            return web.Response(body=result.data, content_type=result.content_type, headers=headers)
        if route.response is None:
            return web.Response(status=204)
        return web.json_response(to_json(result), status=route.status)

    return handle


# --------------------------------------------------------------------- OpenAPI


def _parameter(f: Field, where: str) -> dict[str, Any]:
    return {
        "name": f.name,
        "in": where,
        "required": True if where == "path" else f.required,
        "schema": f.schema(),
    }


def _operation(route: Route) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    if route.response is None:
        responses["204"] = {"description": "Done"}
    elif route.produces == ("application/json",):
        responses[str(route.status)] = {
            "description": "OK",
            "content": {"application/json": {"schema": schema_of(route.response)}},
        }
    else:
        responses[str(route.status)] = {
            "description": "A file",
            "content": {kind: {"schema": schema_of(route.response)} for kind in route.produces},
        }
    for status in ERROR_STATUSES:
        responses[str(status)] = {
            "description": "Problem",
            "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    op: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "tags": [route.tag],
        "description": "Roles: " + ", ".join(sorted(route.roles)),
        "x-roles": sorted(route.roles),
        "responses": responses,
    }
    params = [_parameter(f, "path") for f in route.path_params]
    params += [_parameter(f, "query") for f in route.query]
    if params:
        op["parameters"] = params
    if route.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": route.body.schema()}},
        }
    return op


def openapi(routes: list[Route], base: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``routes`` served under ``base``."""
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "pointshall admin API",
            "version": "1",
            "description": "Operator staff API. Bearer token from `pointshall staff add`.",
        },
        "servers": [{"url": base}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Problem": PROBLEM_SCHEMA},
        },
        "paths": paths,
    }
