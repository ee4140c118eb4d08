"""``GET /metrics``: Prometheus text; the outbox depth is counted at each scrape."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from core.messaging import outbox
from core.platform import metrics
from core.platform.db import Database


class Metrics:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def handle(self, _request: web.Request) -> web.Response:
        counts = await self._db.read(outbox.status_counts)
        for status, n in counts.items():
            metrics.OUTBOX_DEPTH.labels(status).set(n)
        return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/metrics", self.handle)]
