"""Every family of back-office pages, mounted under ``/console/ops`` by ``console.ops``."""

from __future__ import annotations

from aiohttp import web

from console.backoffice.catalogue import CataloguePages
from console.backoffice.content import ContentPages
from console.backoffice.desk import Desk
from console.backoffice.feedback import FeedbackPages
from console.backoffice.merchants import MerchantPages
from console.backoffice.orders import OrderPages
from console.backoffice.staff import StaffPages
from console.backoffice.statements import StatementPages
from console.backoffice.subscribers import SubscriberPages
from console.backoffice.topups import TopupPages


def office_routes(desk: Desk, ops: str) -> list[web.RouteDef]:
    """The routes of every page family; ``ops`` is their path inside the console app."""
    families = (
        OrderPages(desk, ops),
        TopupPages(desk, ops),
        SubscriberPages(desk, ops),
        CataloguePages(desk, ops),
        ContentPages(desk, ops),
        FeedbackPages(desk, ops),
        MerchantPages(desk, ops),
        StatementPages(desk, ops),
        StaffPages(desk, ops),
    )
    return [route for family in families for route in family.routes()]
