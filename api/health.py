"""``GET /healthz``: the process is up and the database answers."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import Connection, text

from core.platform.db import Database


def _ping(conn: Connection) -> int:
    return int(conn.execute(text("SELECT 1")).scalar_one())


class Health:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def handle(self, _request: web.Request) -> web.Response:
        try:
            await self._db.read(_ping)
        except Exception as exc:
            return web.json_response({"status": "down", "error": type(exc).__name__}, status=503)
        return web.json_response({"status": "ok", "database": self._db.dialect})

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/healthz", self.handle)]
