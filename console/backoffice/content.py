"""Mall content pages (§2.2.1, §2.2.3–5; issue 16 §1): announcements, banners and ads with
their pictures and targets, through ``core.catalogue.management`` (the admin API's), audited.
"""

from __future__ import annotations

from collections.abc import Callable
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
    page_number,
    sliced,
)
from console.backoffice.refusals import Refusal
from core.catalogue import management as ca
from core.catalogue import photos

READ, WRITE = CAN["content.read"], CAN["content.write"]
TARGETS = ("item", "activity", "category", "announcement", "url")
ID = r"/{id:\d{1,12}}"
Again = Callable[..., Any]


class ContentPages:
    """``/announcements``, ``/banners`` and ``/ads`` under ``/console/ops``."""

    def __init__(self, desk: Desk, ops: str) -> None:
        self.desk = desk
        self.ops = ops

    def routes(self) -> list[web.RouteDef]:
        page, ops = self.desk.page, self.ops
        return [
            web.get(f"{ops}/announcements", page(self.announcements, roles=READ)),
            web.post(f"{ops}/announcements", page(self.save_announcement, roles=WRITE)),
            web.post(
                f"{ops}/announcements" + ID + "/delete",
                page(self.delete_announcement, roles=WRITE),
            ),
            web.get(f"{ops}/banners", page(self.banners, roles=READ)),
            web.post(f"{ops}/banners", page(self.save_banner, roles=WRITE)),
            web.post(f"{ops}/banners" + ID + "/picture", page(self.banner_picture, roles=WRITE)),
            web.get(f"{ops}/ads", page(self.ads, roles=READ)),
            web.post(f"{ops}/ads", page(self.save_ad, roles=WRITE)),
            web.post(f"{ops}/ads" + ID + "/picture", page(self.ad_picture, roles=WRITE)),
        ]

    def _chosen(self, request: web.Request) -> int | None:
        raw = request.query.get("id", "")
        return int(raw) if raw.isdigit() and len(raw) <= 12 else None

    async def _refused(
        self,
        again: Again,
        request: web.Request,
        session: Session,
        op: Operator,
        outcome: Refusal,
        form: dict[str, str] | None = None,
    ) -> web.Response:
        response: web.Response = await again(
            request,
            session,
            op,
            status=outcome.status,
            error=outcome.key,
            args=outcome.args,
            form=form,
        )
        return response

    async def _bad(
        self, again: Again, request: web.Request, session: Session, op: Operator, f: Fields
    ) -> web.Response:
        t = self.desk.words(request, session)
        response: web.Response = await again(
            request,
            session,
            op,
            status=400,
            error="bo_bad_fields",
            args=bad_fields(t, f),
            form=f.values,
        )
        return response

    # ------------------------------------------------------------------ announcements

    async def announcements(
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
        """Announcements, pinned first; a form to publish one or change the one chosen."""
        rows = await self.desk.db.read(ca.announcements)
        chosen = self._chosen(request)
        if form is None:
            form = {}
            for row in rows:
                if row.id == chosen:
                    form = {
                        "id": str(row.id),
                        "title_zh": row.title_zh,
                        "title_en": row.title_en,
                        "body_zh": row.body_zh,
                        "body_en": row.body_en,
                        "pinned": "1" if row.pinned else "",
                    }
        return self.desk.render(
            request,
            session,
            "ops_announcements.html",
            op=op,
            status=status,
            found=sliced(rows, page_number(request.query)),
            form=form,
            error=error,
            args=args or {},
        )

    async def save_announcement(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Publish an announcement now, or change one (``id``)."""
        f = Fields(await request.post())
        ann_id = f.number("id", 1, 2**53, required=False)
        fields = {
            "title_zh": f.text("title_zh", 64),
            "title_en": f.text("title_en", 64),
            "body_zh": f.text("body_zh", 4000),
            "body_en": f.text("body_en", 4000),
            "pinned": f.flag("pinned"),
        }
        if not f.ok:
            return await self._bad(self.announcements, request, session, op, f)
        by, now = op.member.name, self.desk.now()
        unit = (
            partial(ca.create_announcement, fields=fields, by=by, now=now)
            if ann_id is None
            else partial(ca.update_announcement, ann_id=ann_id, fields=fields, by=by, now=now)
        )
        outcome = await attempt(self.desk, unit)
        if isinstance(outcome, Refusal):
            return await self._refused(self.announcements, request, session, op, outcome, f.values)
        raise done(
            session, f"{self.desk.prefix}/announcements", "bo_saved_announcement", id=outcome.id
        )

    async def delete_announcement(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Remove an announcement."""
        ann_id = int(request.match_info["id"])
        outcome = await attempt(
            self.desk,
            partial(ca.delete_announcement, ann_id=ann_id, by=op.member.name, now=self.desk.now()),
        )
        if isinstance(outcome, Refusal):
            return await self._refused(self.announcements, request, session, op, outcome)
        raise done(session, f"{self.desk.prefix}/announcements", "bo_deleted", id=ann_id)

    # ------------------------------------------------------------------------ banners

    async def banners(
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
        """Banners in display order with their pictures; a form for a new or chosen one."""

        def unit(conn: Connection) -> tuple[Any, Any]:
            return ca.banners(conn), ca.activities(conn)

        rows, activities = await self.desk.db.read(unit)
        chosen = self._chosen(request)
        if form is None:
            form = {"active": "1"}
            for row in rows:
                if row.id == chosen:
                    form = {
                        "id": str(row.id),
                        "activity": row.activity,
                        "sort": str(row.sort),
                        "active": "1" if row.active else "",
                    }
        en = self.desk.lang(request, session) == "en"
        return self.desk.render(
            request,
            session,
            "ops_banners.html",
            op=op,
            status=status,
            found=sliced(rows, page_number(request.query)),
            activities=[
                (a.code, f"{a.code} {a.title_en if en else a.title_zh}") for a in activities
            ],
            form=form,
            error=error,
            args=args or {},
        )

    async def save_banner(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Add a banner for an activity, or change one (``id``): order, on or off."""
        f = Fields(await request.post())
        banner_id = f.number("id", 1, 2**53, required=False)
        activity = f.code("activity")
        sort = f.number("sort", -1000, 1000, required=False) or 0
        if not f.ok or activity is None:
            return await self._bad(self.banners, request, session, op, f)
        outcome = await attempt(
            self.desk,
            partial(
                ca.save_banner,
                banner_id=banner_id,
                activity_code=activity,
                sort=sort,
                active=f.flag("active"),
                by=op.member.name,
                now=self.desk.now(),
            ),
        )
        if isinstance(outcome, Refusal):
            return await self._refused(self.banners, request, session, op, outcome, f.values)
        raise done(session, f"{self.desk.prefix}/banners", "bo_saved_banner", id=outcome.id)

    async def banner_picture(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Upload a banner's picture (PNG or JPEG)."""
        return await self._picture(request, session, op, "banners", ca.banner_picture, "banner_id")

    # ---------------------------------------------------------------------------- ads

    async def ads(
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
        """Ads in display order with their targets and pictures; a form."""
        rows = await self.desk.db.read(ca.ads)
        chosen = self._chosen(request)
        if form is None:
            form = {"active": "1"}
            for row in rows:
                if row.id == chosen:
                    form = {
                        "id": str(row.id),
                        "title_zh": row.title_zh,
                        "title_en": row.title_en,
                        "target_kind": row.target_kind,
                        "target": row.target,
                        "sort": str(row.sort),
                        "active": "1" if row.active else "",
                    }
        t = self.desk.words(request, session)
        return self.desk.render(
            request,
            session,
            "ops_ads.html",
            op=op,
            status=status,
            found=sliced(rows, page_number(request.query)),
            targets=[(k, t(f"target_{k}")) for k in TARGETS],
            form=form,
            error=error,
            args=args or {},
        )

    async def save_ad(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Add an ad or change one (``id``): titles, what it leads to, order, on or off."""
        f = Fields(await request.post())
        ad_id = f.number("id", 1, 2**53, required=False)
        kind = f.choice("target_kind", TARGETS)
        target = f.text("target", 255)
        if kind == "url" and not target.startswith(("https://", "http://")):
            f.bad.append("target")
        fields = {
            "title_zh": f.text("title_zh", 64),
            "title_en": f.text("title_en", 64),
            "target_kind": kind,
            "target": target if kind == "url" else target.upper(),
            "sort": f.number("sort", -1000, 1000, required=False) or 0,
            "active": f.flag("active"),
        }
        if not f.ok:
            return await self._bad(self.ads, request, session, op, f)
        outcome = await attempt(
            self.desk,
            partial(ca.save_ad, ad_id=ad_id, fields=fields, by=op.member.name, now=self.desk.now()),
        )
        if isinstance(outcome, Refusal):
            return await self._refused(self.ads, request, session, op, outcome, f.values)
        raise done(session, f"{self.desk.prefix}/ads", "bo_saved_ad", id=outcome.id)

    async def ad_picture(
        self, request: web.Request, session: Session, op: Operator
    ) -> web.StreamResponse:
        """Upload an ad's picture (PNG or JPEG)."""
        return await self._picture(request, session, op, "ads", ca.ad_picture, "ad_id")

    # ------------------------------------------------------------------------ pictures

    async def _picture(
        self,
        request: web.Request,
        session: Session,
        op: Operator,
        where: str,
        store: Callable[..., Any],
        key: str,
    ) -> web.StreamResponse:
        again = self.banners if where == "banners" else self.ads
        f = Fields(await request.post())
        data = f.upload("picture", photos.UPLOAD_BYTES)
        if data is None:
            return await again(
                request,
                session,
                op,
                status=400,
                error="bo_bad_picture",
                args={"kb": photos.UPLOAD_BYTES // 1024},
            )
        ident = int(request.match_info["id"])
        outcome = await attempt(
            self.desk,
            partial(store, **{key: ident}, data=data, by=op.member.name, now=self.desk.now()),
        )
        if isinstance(outcome, Refusal):
            return await self._refused(again, request, session, op, outcome)
        raise done(session, f"{self.desk.prefix}/{where}", "bo_picture_saved")
