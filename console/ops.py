"""Operator pages in the console (issue 8): the goods review queue (§3.4.4) and merchant
applications (§3.5.5) at /console/ops, for operator staff holding a bearer token.

An operator logs in by pasting the token ``pointshall staff add`` printed; it is
checked by ``core.backoffice.operator_staff.authenticate`` (keyed hash) and every
attempt is audited. The session holds the staff id only: the member and role are
read again on every request, so a disabled member is out at once. Operator and
merchant sessions never mix: the keys differ (``ops_staff`` vs ``msisdn``) and each
login starts a fresh session.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web
from aiohttp.typedefs import Handler as AioHandler
from aiohttp_session import Session, get_session, new_session
from sqlalchemy import Connection

from console import session as sessions
from console.backoffice import words as office_words
from console.backoffice.access import CAN, may, menu
from console.backoffice.desk import (
    PAGE_SIZE,
    Operator,
    OpsHandler,
    Words,
    link,
    local_input,
    offset_of,
    page_number,
    readable_form,
    sliced,
    take_flash,
    windowed,
    yuan,
)
from console.backoffice.pages import office_routes
from console.pages import html_page
from console.texts import Words as ConsoleWords
from core.backoffice import decisions, operator_staff
from core.backoffice.errors import NotIndependent, NotPermitted
from core.backoffice.operator_staff import OperatorStaff
from core.backoffice.staffing import DEFAULT_ALONE_PER_DAY
from core.catalogue import submissions
from core.catalogue.errors import UnknownItem
from core.merchants import admission
from core.merchants.errors import ApplicationNotPending, UnknownApplication
from core.platform import audit, inputs, web_sessions
from core.platform.codes import Keyring
from core.platform.db import Database
from core.points.accrual import AccrualRules


class Shell(Protocol):
    """What the operator pages take from the console they are mounted in (``console.web``)."""

    db: Database
    keyring: Keyring
    templates: jinja2.Environment

    def now(self) -> int: ...

    def lang(self, request: web.Request, session: Session) -> str: ...

    def time(self, at: int | None) -> str: ...


OPS = "/ops"
REVIEWERS = CAN["goods.review"]
FINAL = CAN["applications.final"]
KEY = "ops_staff"
MAX_ID = 10**12 - 1


@dataclass(frozen=True)
class OfficeSettings:
    """What the back office needs beyond the console: the operator's time zone (pages show
    and read local times), the phone region (numbers typed without +), the accrual rules
    (when an approved adjustment's points expire) and how many staff changes an admin makes
    alone in a day."""

    timezone: ZoneInfo
    region: str
    rules: AccrualRules
    staff_changes_per_day: int = DEFAULT_ALONE_PER_DAY
    """Staff changes an admin makes alone in 24 hours; beyond, a second admin (issue 13 §3)."""


TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "运营管理",
        "ops_login_title": "运营人员登录",
        "ops_token": "访问令牌",
        "ops_login": "登录",
        "ops_bad_token": "令牌无效或已停用。",
        "ops_nav_reviews": "商品审核",
        "ops_nav_applications": "商户入驻申请",
        "ops_reviews_title": "待审核商品",
        "ops_applications_title": "商户入驻申请",
        "ops_none": "暂无待处理事项。",
        "ops_merchant": "商户",
        "ops_code": "编码",
        "ops_name": "名称",
        "ops_points": "积分",
        "ops_reason": "原因",
        "ops_approve": "通过",
        "ops_reject": "驳回",
        "ops_start": "开始初审",
        "ops_pass": "初审通过",
        "ops_final_approve": "终审通过",
        "ops_applicant": "申请人",
        "ops_status": "状态",
        "ops_reason_required": "驳回时必须填写原因。",
        "ops_approved": "商品{code}已通过审核并上架。",
        "ops_rejected": "商品{code}已驳回。",
        "ops_not_pending": "该事项已被处理,当前状态:{status}。",
        "ops_app_done": "申请{id}已更新为:{status}。",
        "ops_not_independent": "终审须由初审人以外、且非其任命的管理员进行。",
        "a_submitted": "已提交",
        "a_first_review": "初审中",
        "a_final_review": "终审中",
        "a_approved": "已通过",
        "a_rejected": "已驳回",
        "ops_role_business_admin": "业务管理员",
        "ops_role_admin": "管理员",
        "ops_role_finance": "财务",
        "ops_role_support": "客服",
    },
    "en": {
        "title": "Operations",
        "ops_login_title": "Operator login",
        "ops_token": "Access token",
        "ops_login": "Log in",
        "ops_bad_token": "The token is wrong or disabled.",
        "ops_nav_reviews": "Goods review",
        "ops_nav_applications": "Merchant applications",
        "ops_reviews_title": "Goods waiting for review",
        "ops_applications_title": "Merchant applications",
        "ops_none": "Nothing waiting.",
        "ops_merchant": "Merchant",
        "ops_code": "Code",
        "ops_name": "Name",
        "ops_points": "Points",
        "ops_reason": "Reason",
        "ops_approve": "Approve",
        "ops_reject": "Reject",
        "ops_start": "Start first review",
        "ops_pass": "Pass first review",
        "ops_final_approve": "Final approval",
        "ops_applicant": "Applicant",
        "ops_status": "Status",
        "ops_reason_required": "A reason is required to reject.",
        "ops_approved": "Item {code} approved and listed.",
        "ops_rejected": "Item {code} rejected.",
        "ops_not_pending": "Already handled; it is now: {status}.",
        "ops_app_done": "Application {id} is now: {status}.",
        "ops_not_independent": (
            "The final review needs an admin other than the first reviewer, "
            "and not one they appointed."
        ),
        "a_submitted": "submitted",
        "a_first_review": "in first review",
        "a_final_review": "in final review",
        "a_approved": "approved",
        "a_rejected": "rejected",
        "ops_role_business_admin": "business admin",
        "ops_role_admin": "admin",
        "ops_role_finance": "finance",
        "ops_role_support": "support",
    },
}


class OpsWords(ConsoleWords):
    """The console's words with the operator pages' and the back office's own on top."""

    def __call__(self, key: str, /, **args: object) -> str:
        text = TEXTS[self.lang].get(key) or office_words.TEXTS[self.lang].get(key)
        if text is None:
            return super().__call__(key, **args)
        return text.format(**args) if args else text


class Ops:
    """The operator pages, sharing the console's templates, cookie and CSRF tokens."""

    def __init__(self, console: Shell, prefix: str, settings: OfficeSettings) -> None:
        self.console = console
        self.db = console.db
        self.keyring = console.keyring
        self.base = prefix
        self.prefix = f"{prefix}{OPS}"
        self.timezone = settings.timezone
        self.region = settings.region
        self.rules = settings.rules
        self.staff_changes_per_day = settings.staff_changes_per_day

    def now(self) -> int:
        return self.console.now()

    def time(self, at: int | None) -> str:
        return self.console.time(at)

    def words(self, request: web.Request, session: Session) -> Words:
        return OpsWords(self.console.lang(request, session))

    def lang(self, request: web.Request, session: Session) -> str:
        return self.console.lang(request, session)

    # ------------------------------------------------------------------ plumbing

    def render(
        self,
        request: web.Request,
        session: Session,
        name: str,
        *,
        op: Operator | None = None,
        status: int = 200,
        **context: Any,
    ) -> web.Response:
        lang = self.console.lang(request, session)
        message, error, args = (context.pop(k, None) for k in ("message", "error", "args"))
        flash = take_flash(session) if message is None and error is None else None
        if flash is not None:
            message, args = flash
        body = self.console.templates.get_template(name).render(
            t=OpsWords(lang),
            lang=lang,
            base=self.base,
            ops=self.prefix,
            csrf=sessions.csrf_token(session),
            staff=None,
            op=op,
            menu=menu(op.member.role) if op else [],
            may=(lambda capability: may(op.member.role, capability)) if op else (lambda _: False),
            path=request.path,
            query=request.query,
            link=link,
            yuan=yuan,
            local_input=lambda at: local_input(at, self.timezone),
            fmt_time=self.console.time,
            message=message,
            error=error,
            args=args,
            **context,
        )
        return html_page(body, status)

    def current(self, session: Session, now: int) -> int | None:
        """The session's operator staff id if it has not expired (touching it)."""
        sid, at, seen = session.get(KEY), session.get("at"), session.get("seen")
        if not (isinstance(sid, int) and isinstance(at, int) and isinstance(seen, int)):
            return None
        if now - seen > sessions.IDLE_SECONDS or now - at > sessions.ABSOLUTE_SECONDS or now < at:
            return None
        session["seen"] = now
        return sid

    def page(self, handler: OpsHandler, *, roles: frozenset[str] = REVIEWERS) -> AioHandler:
        """Wrap ``handler``: a live operator session of an active member in ``roles``; CSRF."""

        async def wrapped(request: web.Request) -> web.StreamResponse:
            session = await get_session(request)
            sid = self.current(session, self.console.now())
            if sid is None:
                expired = KEY in session
                if expired:
                    sessions.end(session)
                raise web.HTTPFound(f"{self.prefix}/login" + ("?expired=1" if expired else ""))
            server_id = sessions.server_id(session)

            def unit(conn: Connection) -> OperatorStaff | None:
                live = web_sessions.alive(
                    conn, self.console.keyring, server_id, kind="operator", who=str(sid)
                )
                return operator_staff.by_id(conn, sid) if live else None

            member = await self.db.read(unit)
            if member is None or not member.active:
                sessions.end(session)
                raise web.HTTPFound(f"{self.prefix}/login?expired=1")
            op = Operator(member)
            if request.method == "POST":
                posted = await readable_form(request)
                if posted is None:
                    return self.render(
                        request, session, "ops_page.html", op=op, status=400, error="bo_unreadable"
                    )
                if not sessions.csrf_ok(session, posted.get(sessions.CSRF_FIELD)):
                    return self.render(request, session, "ops_page.html", status=403, error="csrf")
            if member.role not in roles:
                return self.render(
                    request, session, "ops_page.html", op=op, status=403, error="forbidden"
                )
            return await handler(request, session, op)

        return wrapped

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get(f"{OPS}", self.home),
            web.get(f"{OPS}/", self.home),
            web.get(f"{OPS}/login", self.login_form),
            web.post(f"{OPS}/login", self.login),
            web.post(f"{OPS}/logout", self.logout),
            web.get(f"{OPS}/reviews", self.page(self.reviews)),
            web.post(f"{OPS}/reviews", self.page(self.review)),
            web.get(f"{OPS}/applications", self.page(self.applications)),
            web.post(f"{OPS}/applications", self.page(self.decide)),
            *office_routes(self, OPS),
        ]

    # --------------------------------------------------------------------- login

    async def home(self, request: web.Request) -> web.StreamResponse:
        """Send an operator to the first page of the menu their role may use."""
        session = await get_session(request)
        sid = self.current(session, self.console.now())
        server_id = sessions.server_id(session)

        def unit(conn: Connection) -> OperatorStaff | None:
            if sid is None or not web_sessions.alive(
                conn, self.keyring, server_id, kind="operator", who=str(sid)
            ):
                return None
            return operator_staff.by_id(conn, sid)

        member = await self.db.read(unit)
        if member is None or not member.active:
            raise web.HTTPFound(f"{self.prefix}/login")
        pages = menu(member.role)
        raise web.HTTPFound(f"{self.prefix}{pages[0][1]}" if pages else f"{self.prefix}/login")

    async def login_form(self, request: web.Request) -> web.StreamResponse:
        session = await get_session(request)
        error = "expired" if request.query.get("expired") else None
        return self.render(request, session, "ops_login.html", error=error)

    async def login(self, request: web.Request) -> web.StreamResponse:
        """Check the pasted token; open a fresh operator session. Every attempt is audited."""
        session = await get_session(request)
        posted = await readable_form(request)
        if posted is None:
            return self.render(
                request, session, "ops_login.html", status=400, error="bo_unreadable"
            )
        if not sessions.csrf_ok(session, posted.get(sessions.CSRF_FIELD)):
            return self.render(request, session, "ops_login.html", status=403, error="csrf")
        token = str(posted.get("token", "")).strip()
        now = self.console.now()
        keyring = self.console.keyring
        remote = (request.remote or "")[:64]

        def unit(conn: Connection) -> tuple[OperatorStaff | None, str]:
            member = operator_staff.authenticate(conn, keyring, token) if token else None
            audit.record(
                conn,
                actor_kind="operator",
                actor=member.name if member else "unknown",
                action="ops_login",
                subject="console",
                result="ok" if member else "bad_token",
                now=now,
                details={"remote": remote},
            )
            if member is None:
                return None, ""
            sid = web_sessions.start(conn, keyring, kind="operator", who=str(member.id), now=now)
            return member, sid

        member, server_id = await self.db.write(unit)
        if member is None:
            return self.render(
                request, session, "ops_login.html", status=401, error="ops_bad_token"
            )
        lang = session.get("lang")
        fresh = await new_session(request)
        fresh[sessions.SERVER_ID] = server_id
        fresh[KEY] = member.id
        fresh["at"] = now
        fresh["seen"] = now
        if isinstance(lang, str):
            fresh["lang"] = lang
        sessions.csrf_token(fresh)
        raise web.HTTPFound(f"{self.prefix}/")  # the first page of the member's menu

    async def logout(self, request: web.Request) -> web.StreamResponse:
        session = await get_session(request)
        posted = await readable_form(request)
        if posted is None or not sessions.csrf_ok(session, posted.get(sessions.CSRF_FIELD)):
            return self.render(request, session, "ops_login.html", status=403, error="csrf")
        server_id, now = sessions.server_id(session), self.console.now()
        keyring = self.console.keyring
        await self.db.write(lambda conn: web_sessions.end(conn, keyring, server_id, now))
        sessions.end(session)
        return self.render(request, session, "ops_login.html", message="logged_out")

    # ------------------------------------------------------------------- reviews

    async def reviews(
        self,
        request: web.Request,
        session: Session,
        op: Operator,
        *,
        status: int = 200,
        message: str | None = None,
        error: str | None = None,
        args: dict[str, Any] | None = None,
    ) -> web.Response:
        """Goods waiting for review, each with approve and reject (reason) forms."""
        pending = await self.db.read(submissions.pending_for_review)
        goods = sliced(pending, page_number(request.query))
        return self.render(
            request,
            session,
            "ops_reviews.html",
            op=op,
            status=status,
            goods=goods,
            message=message,
            error=error,
            args=args or {},
        )

    async def review(self, request: web.Request, session: Session, op: Operator) -> web.Response:
        """Approve (list) or reject (with a reason) one pending item."""
        form = await request.post()
        code = str(form.get("code", "")).strip()[:16]
        decision = str(form.get("decision", ""))
        reason = str(form.get("reason", "")).strip()[:200]
        if decision not in ("approve", "reject") or not code:
            raise web.HTTPBadRequest()
        if decision == "reject" and not reason:
            return await self.reviews(request, session, op, status=400, error="ops_reason_required")
        try:
            await self.db.write(
                partial(
                    decisions.review_goods,
                    reviewer=op.member,
                    code=code,
                    approve=decision == "approve",
                    reason=reason,
                    now=self.console.now(),
                )
            )
        except NotPermitted:
            return await self.reviews(request, session, op, status=403, error="forbidden")
        except UnknownItem:
            return await self.reviews(
                request, session, op, status=409, error="ops_not_pending", args={"status": "—"}
            )
        done = "ops_approved" if decision == "approve" else "ops_rejected"
        return await self.reviews(request, session, op, message=done, args={"code": code.upper()})

    # -------------------------------------------------------------- applications

    async def applications(
        self,
        request: web.Request,
        session: Session,
        op: Operator,
        *,
        status: int = 200,
        message: str | None = None,
        error: str | None = None,
        args: dict[str, Any] | None = None,
    ) -> web.Response:
        """Merchant applications, newest first, with the buttons this role may use."""
        number = page_number(request.query)
        found = await self.db.read(
            partial(admission.listing, offset=offset_of(number), limit=PAGE_SIZE + 1)
        )
        apps = windowed(found, number)
        return self.render(
            request,
            session,
            "ops_applications.html",
            op=op,
            status=status,
            apps=apps,
            message=message,
            error=error,
            args=args or {},
        )

    async def decide(self, request: web.Request, session: Session, op: Operator) -> web.Response:
        """First review (start, pass, reject) or final review (approve, reject; admin only)."""
        form = await request.post()
        app_id = inputs.whole_number(form.get("id"), 1, MAX_ID)
        decision = str(form.get("decision", ""))
        reason = str(form.get("reason", "")).strip()[:200]
        if app_id is None:
            raise web.HTTPBadRequest()
        if decision not in ("start", "pass", "reject", "approve"):
            raise web.HTTPBadRequest()
        if decision == "reject" and not reason:
            return await self.applications(
                request, session, op, status=400, error="ops_reason_required"
            )
        now = self.console.now()
        t = OpsWords(self.console.lang(request, session))

        def unit(conn: Connection) -> str:
            """The new status; the rules are ``core.backoffice.decisions``'."""
            final = admission.find(conn, app_id).status == "final_review"
            if decision == "approve" or (decision == "reject" and final):
                decided = decisions.final_review(
                    conn, op.member, app_id, decision, reason=reason, now=now
                )
            else:
                decided = decisions.first_review(
                    conn, op.member, app_id, decision, reason=reason, now=now
                )
            return decided.status

        outcome: str | None
        try:
            outcome = await self.db.write(unit)
        except UnknownApplication as exc:
            raise web.HTTPNotFound() from exc
        except NotPermitted:
            outcome = None
        except NotIndependent:
            return await self.applications(
                request, session, op, status=403, error="ops_not_independent"
            )
        except ApplicationNotPending as exc:
            return await self.applications(
                request,
                session,
                op,
                status=409,
                error="ops_not_pending",
                args={"status": t(f"a_{exc.status}")},
            )
        if outcome is None:
            return await self.applications(request, session, op, status=403, error="forbidden")
        return await self.applications(
            request,
            session,
            op,
            message="ops_app_done",
            args={"id": app_id, "status": t(f"a_{outcome}")},
        )


__all__ = ["OPS", "Ops"]
