"""Catalogue pages (§2.2.2, §2.2.7, §3.5.6; issue 16 §1): categories, brands, items with their
picture, stock, payment methods and listing on/off, and activities.

Every change goes through ``core.catalogue.management`` (the admin API's functions), so
the same rules hold and every change is audited with the staff member's name.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from aiohttp import web
from aiohttp_session import Session
from sqlalchemy import Connection

from console.backoffice.access import CAN
from console.backoffice.desk import (
    Desk,
    Fields,
    Operator,
    attempt,
    bad_fields,
    done,
    local_input,
    page_number,
    sliced,
    yuan,
)
from console.backoffice.refusals import Refusal
from core.catalogue import management as ca
from core.catalogue import photos
from core.catalogue.editing import ItemSpec
from core.catalogue.listing import ActivityLine
from core.catalogue.management import Named
from core.merchants import merchants
from core.platform.errors import NotFound
from core.platform.schema import ITEM_KINDS, PAY_METHODS

MAX_POINTS = 100_000_000
READ, WRITE = CAN["catalogue.read"], CAN["catalogue.write"]
ITEM = r"/items/{code:[A-Za-z0-9-]{1,16}}"
PHOTO = r"/photos/{subject:(item|banner|ad):[0-9]{1,16}}"


class CataloguePages:
    """Categories, brands, items and activities under ``/console/ops``."""

    def __init__(self, desk: Desk, ops: str) -> None:
        self.desk = desk
        self.ops = ops

    def routes(self) -> list[web.RouteDef]:
        page, ops = self.desk.page, self.ops
        return [
            web.get(f"{ops}/categories", page(self.categories, roles=READ)),
            web.post(f"{ops}/categories", page(self.save_category, roles=WRITE)),
            web.get(f"{ops}/brands", page(self.brands, roles=READ)),
            web.post(f"{ops}/brands", page(self.save_brand, roles=WRITE)),
            web.get(f"{ops}/items", page(self.items, roles=READ)),
            web.get(f"{ops}/items/new", page(self.new_item, roles=WRITE)),
            web.post(f"{ops}/items", page(self.create_item, roles=WRITE)),
            web.get(ops + ITEM, page(self.item, roles=READ)),
            web.post(ops + ITEM, page(self.update_item, roles=WRITE)),
            web.post(
                ops + ITEM + "/listing",
                page(self.listing, roles=WRITE),
            ),
            web.post(
                ops + ITEM + "/picture",
                page(self.item_picture, roles=WRITE),
            ),
            web.get(
                ops + PHOTO,
                page(self.photo, roles=READ),
            ),
            web.get(f"{ops}/activities", page(self.activities, roles=READ)),
            web.post(f"{ops}/activities", page(self.save_activity, roles=WRITE)),
        ]

    @property
    def base(self) -> str:
        return self.desk.prefix

    # ------------------------------------------------------- categories and brands

    async def categories(
        self,
        request: web.Request,
        session: Session,
        op: Operator,
        *,
        status: int = 200,
        error: str | None = None,
        args: dict[str, Any] | None = None,
        form: dict[str, str] | None = None,
    ) -> web.Response:
        """Categories in display order; a form to add one or change the one chosen."""
        rows = await self.desk.db.read(ca.categories)
        return self._named(request, session, op, "category", rows, status, error, args, form)

    async def brands(
        self,
        request: web.Request,
        session: Session,
        op: Operator,
        *,
        status: int = 200,
        error: str | None = None,
        args: dict[str, Any] | None = None,
        form: dict[str, str] | None = None,
    ) -> web.Response:
        """Brands by code; a form to add one or change the one chosen."""
        rows = await self.desk.db.read(ca.brands)
        return self._named(request, session, op, "brand", rows, status, error, args, form)

    def _named(
        self,
        request: web.Request,
        session: Session,
        op: Operator,
        kind: str,
        rows: list[Named],
        status: int,
        error: str | None,
        args: dict[str, Any] | None,
        form: dict[str, str] | None,
    ) -> web.Response:
        chosen = request.query.get("code", "").upper()
        if form is None:
            form = {"create": "1"}
            for row in rows:
                if row.code == chosen:
                    form = {
                        "code": row.code,
                        "name_zh": row.name_zh,
                        "name_en": row.name_en,
                        "sort": str(row.sort),
                    }
        return self.desk.render(
            request,
            session,
            "ops_named.html",
            op=op,
            status=status,
            kind=kind,
            found=sliced(rows, page_number(request.query)),
            form=form,
            error=error,
            args=args or {},
        )

    async def save_category(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Add a category or change one (names and display order)."""
        return await self._save_named(request, session, op, "category")

    async def save_brand(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Add a brand or change its names."""
        return await self._save_named(request, session, op, "brand")

    async def _save_named(
        self, request: web.Request, session: Session, op: Operator, kind: str
    ) -> web.StreamResponse:
        f = Fields(await request.post())
        code = f.code("code")
        zh, en = f.text("name_zh", 64), f.text("name_en", 64)
        sort = f.number("sort", -1000, 1000, required=False) or 0
        create = f.flag("create")
        again = self.categories if kind == "category" else self.brands
        t = self.desk.words(request, session)
        if not f.ok or code is None:
            return await again(
                request,
                session,
                op,
                status=400,
                error="bo_bad_fields",
                args=bad_fields(t, f),
                form=f.values,
            )
        value = Named(code, zh, en, sort)
        save = ca.save_category if kind == "category" else ca.save_brand
        outcome = await attempt(
            self.desk,
            partial(save, value=value, create=create, by=op.member.name, now=self.desk.now()),
        )
        if isinstance(outcome, Refusal):
            return await again(
                request,
                session,
                op,
                status=outcome.status,
                error=outcome.key,
                args=outcome.args,
                form=f.values,
            )
        where = "categories" if kind == "category" else "brands"
        raise done(session, f"{self.base}/{where}", f"bo_saved_{kind}", code=code)

    # -------------------------------------------------------------------------- items

    async def items(self, request: web.Request, session: Session, op: Operator) -> web.Response:
        """Every item, on sale or not, optionally of one category or matching a word."""
        category = request.query.get("category", "").upper()[:16]
        word = request.query.get("q", "").strip()[:32].lower()

        def unit(conn: Connection) -> tuple[Any, Any]:
            return ca.items(conn, category_code=category or None), ca.categories(conn)

        rows, cats = await self.desk.db.read(unit)
        if word:
            rows = [
                r
                for r in rows
                if word in r.code.lower() or word in r.name_zh.lower() or word in r.name_en.lower()
            ]
        return self.desk.render(
            request,
            session,
            "ops_items.html",
            op=op,
            found=sliced(rows, page_number(request.query)),
            categories=cats,
            category=category,
            word=word,
        )

    async def _options(self, request: web.Request, session: Session) -> dict[str, Any]:
        """The choices of the item form's lists, as (value, label) pairs."""
        t = self.desk.words(request, session)
        en = self.desk.lang(request, session) == "en"

        def unit(conn: Connection) -> dict[str, Any]:
            return {
                "category": [
                    (c.code, f"{c.code} {c.name_en if en else c.name_zh}")
                    for c in ca.categories(conn)
                ],
                "kind": [(k, t(f"kind_{k}")) for k in ITEM_KINDS],
                "brand": [
                    (b.code, f"{b.code} {b.name_en if en else b.name_zh}") for b in ca.brands(conn)
                ],
                "merchant": [
                    (m.code, f"{m.code} {m.name('en' if en else 'zh')}")
                    for m in merchants.listing(conn)
                    if m.status == "approved"
                ],
                "activity": [
                    (a.code, f"{a.code} {a.title_en if en else a.title_zh}")
                    for a in ca.activities(conn)
                ],
            }

        return {"options": await self.desk.db.read(unit)}

    async def new_item(
        self,
        request: web.Request,
        session: Session,
        op: Operator,
        *,
        status: int = 200,
        error: str | None = None,
        args: dict[str, Any] | None = None,
        form: dict[str, Any] | None = None,
    ) -> web.Response:
        """An empty item form."""
        return self.desk.render(
            request,
            session,
            "ops_item.html",
            op=op,
            status=status,
            item=None,
            picture=None,
            form=form or {"kind": "physical", "voucher_days": "30", "pay_methods": ["points"]},
            methods=PAY_METHODS,
            error=error,
            args=args or {},
            **await self._options(request, session),
        )

    async def item(
        self,
        request: web.Request,
        session: Session,
        op: Operator,
        *,
        status: int = 200,
        error: str | None = None,
        args: dict[str, Any] | None = None,
        form: dict[str, Any] | None = None,
    ) -> web.Response:
        """One item: its form (filled), its picture and listing switch, sales and views."""
        code = request.match_info["code"].upper()

        def unit(conn: Connection) -> tuple[Any, Any, str | None] | None:
            try:
                return (
                    ca.get_item(conn, code),
                    ca.item_spec(conn, code),
                    ca.item_photo_subject(conn, code),
                )
            except NotFound:
                return None

        found = await self.desk.db.read(unit)
        if found is None:
            raise web.HTTPNotFound()
        line, spec, picture = found
        if form is None:
            form = _spec_form(spec)
        return self.desk.render(
            request,
            session,
            "ops_item.html",
            op=op,
            status=status,
            item=line,
            picture=picture,
            form=form,
            methods=PAY_METHODS,
            error=error,
            args=args or {},
            **await self._options(request, session),
        )

    async def create_item(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Create an item from the form."""
        return await self._save_item(request, session, op, None)

    async def update_item(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Change an item (sales and views are kept)."""
        return await self._save_item(request, session, op, request.match_info["code"].upper())

    async def _save_item(
        self, request: web.Request, session: Session, op: Operator, code: str | None
    ) -> web.StreamResponse:
        posted = await request.post()
        f = Fields(posted)
        spec = _item_spec(f, code)
        again = self.new_item if code is None else self.item
        form: dict[str, Any] = {**f.values, "pay_methods": f.choices("pay_methods", PAY_METHODS)}
        t = self.desk.words(request, session)
        if spec is None or not f.ok:
            return await again(
                request,
                session,
                op,
                status=400,
                error="bo_bad_fields",
                args=bad_fields(t, f),
                form=form,
            )
        outcome = await attempt(
            self.desk,
            partial(
                ca.save_item,
                spec=spec,
                create=code is None,
                by=op.member.name,
                now=self.desk.now(),
            ),
        )
        if isinstance(outcome, Refusal):
            return await again(
                request,
                session,
                op,
                status=outcome.status,
                error=outcome.key,
                args=outcome.args,
                form=form,
            )
        raise done(session, f"{self.base}/items/{spec.code}", "bo_saved_item", code=spec.code)

    async def listing(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Put an item on sale or take it off (it stays for its orders and statistics)."""
        code = request.match_info["code"].upper()
        f = Fields(await request.post())
        active = f.choice("active", ("1", "0"))
        if active is None:
            raise web.HTTPBadRequest()
        outcome = await attempt(
            self.desk,
            partial(
                ca.set_item_active,
                code=code,
                active=active == "1",
                by=op.member.name,
                now=self.desk.now(),
            ),
        )
        if isinstance(outcome, Refusal):
            return await self.item(
                request, session, op, status=outcome.status, error=outcome.key, args=outcome.args
            )
        key = "bo_listed" if active == "1" else "bo_unlisted"
        raise done(session, f"{self.base}/items/{code}", key, code=code)

    async def item_picture(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Upload the item's picture (PNG or JPEG); the chat shows it with the item."""
        code = request.match_info["code"].upper()
        f = Fields(await request.post())
        data = f.upload("picture", photos.UPLOAD_BYTES)
        t = self.desk.words(request, session)
        if data is None:
            return await self.item(
                request,
                session,
                op,
                status=400,
                error="bo_bad_picture",
                args={"kb": photos.UPLOAD_BYTES // 1024, "fields": bad_fields(t, f)["fields"]},
            )
        outcome = await attempt(
            self.desk,
            partial(ca.item_picture, code=code, data=data, by=op.member.name, now=self.desk.now()),
        )
        if isinstance(outcome, Refusal):
            return await self.item(
                request, session, op, status=outcome.status, error=outcome.key, args=outcome.args
            )
        raise done(session, f"{self.base}/items/{code}", "bo_picture_saved")

    async def photo(self, request: web.Request, session: Session, op: Operator) -> web.Response:
        """The picture of an item, banner or ad, as stored (for the pages' previews)."""
        found = await self.desk.db.read(partial(photos.get, subject=request.match_info["subject"]))
        if found is None:
            raise web.HTTPNotFound()
        return web.Response(
            body=found.data,
            content_type=found.content_type,
            headers={"Cache-Control": "private, max-age=60", "X-Content-Type-Options": "nosniff"},
        )

    # --------------------------------------------------------------------- activities

    async def activities(
        self,
        request: web.Request,
        session: Session,
        op: Operator,
        *,
        status: int = 200,
        error: str | None = None,
        args: dict[str, Any] | None = None,
        form: dict[str, str] | None = None,
    ) -> web.Response:
        """Activities by start, with whether each is upcoming, ongoing or past; a form."""
        rows = await self.desk.db.read(ca.activities)
        chosen = request.query.get("code", "").upper()
        if form is None:
            form = {"create": "1"}
            for row in rows:
                if row.code == chosen:
                    form = {
                        "code": row.code,
                        "title_zh": row.title_zh,
                        "title_en": row.title_en,
                        "starts_at": _local(self.desk, row.starts_at),
                        "ends_at": _local(self.desk, row.ends_at),
                        "per_account_limit": str(row.per_account_limit or ""),
                    }
        return self.desk.render(
            request,
            session,
            "ops_activities.html",
            op=op,
            status=status,
            found=sliced(rows, page_number(request.query)),
            now=self.desk.now(),
            form=form,
            error=error,
            args=args or {},
        )

    async def save_activity(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Add an activity or change one (titles, start and end, limit per account)."""
        f = Fields(await request.post())
        tz = self.desk.timezone
        code = f.code("code")
        zh, en = f.text("title_zh", 64), f.text("title_en", 64)
        starts, ends = f.moment("starts_at", tz), f.moment("ends_at", tz)
        limit = f.number("per_account_limit", 1, 1000, required=False)
        t = self.desk.words(request, session)
        if not f.ok or code is None or starts is None or ends is None:
            return await self.activities(
                request,
                session,
                op,
                status=400,
                error="bo_bad_fields",
                args=bad_fields(t, f),
                form=f.values,
            )
        value = ActivityLine(code, zh, en, starts, ends, limit)
        outcome = await attempt(
            self.desk,
            partial(
                ca.save_activity,
                value=value,
                create=f.flag("create"),
                by=op.member.name,
                now=self.desk.now(),
            ),
        )
        if isinstance(outcome, Refusal):
            return await self.activities(
                request,
                session,
                op,
                status=outcome.status,
                error=outcome.key,
                args=outcome.args,
                form=f.values,
            )
        raise done(session, f"{self.base}/activities", "bo_saved_activity", code=code)


def _local(desk: Desk, at: int) -> str:
    return local_input(at, desk.timezone)


def _spec_form(spec: ItemSpec) -> dict[str, Any]:
    """An item's fields as the form shows them (money in yuan)."""

    def text(value: object) -> str:
        return "" if value is None else str(value)

    return {
        "code": spec.code,
        "name_zh": spec.name_zh,
        "name_en": spec.name_en,
        "category": spec.category,
        "kind": spec.kind,
        "points": text(spec.points),
        "brand": text(spec.brand),
        "merchant": text(spec.merchant),
        "activity": text(spec.activity),
        "cash": yuan(spec.cash_cents),
        "price": yuan(spec.price_cents),
        "face_value": yuan(spec.face_value_cents),
        "stock": text(spec.stock),
        "per_account_limit": text(spec.per_account_limit),
        "voucher_days": text(spec.voucher_days),
        "description_zh": spec.description_zh,
        "description_en": spec.description_en,
        "active": "1" if spec.active else "",
        "pay_methods": (spec.pay_methods or "points").split(","),
    }


def _item_spec(f: Fields, code: str | None) -> ItemSpec | None:
    """The item the form describes (None when a field is wrong; ``f.bad`` names it)."""
    if code is None:
        code = f.code("code")
    name_zh, name_en = f.text("name_zh", 64), f.text("name_en", 64)
    category = f.code("category")
    kind = f.choice("kind", ITEM_KINDS)
    points = f.number("points", 1, MAX_POINTS)
    brand = f.code("brand", required=False)
    merchant = f.code("merchant", required=False)
    activity = f.code("activity", required=False)
    cash = f.cents("cash")
    price = f.cents("price")
    face = f.cents("face_value")
    stock = f.number("stock", 0, MAX_POINTS, required=False)
    limit = f.number("per_account_limit", 1, 1000, required=False)
    days = f.number("voucher_days", 1, 3650, required=False)
    zh_text = f.text("description_zh", 2000, required=False)
    en_text = f.text("description_en", 2000, required=False)
    methods = f.choices("pay_methods", PAY_METHODS)
    if not f.ok or code is None or category is None or kind is None or points is None:
        return None
    return ItemSpec(
        code=code,
        name_zh=name_zh,
        name_en=name_en,
        category=category,
        kind=kind,
        points=points,
        brand=brand,
        merchant=merchant,
        activity=activity,
        cash_cents=cash or None,
        face_value_cents=face or None,
        stock=stock,
        per_account_limit=limit,
        voucher_days=days or 30,
        description_zh=zh_text,
        description_en=en_text,
        active=f.flag("active"),
        pay_methods=",".join(methods) if methods else None,
        price_cents=price or None,
    )
