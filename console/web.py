"""The merchant self-service console (§3.4.3, §3.4.4, §3.6): server-rendered pages at /console.

Staff log in with phone + SMS code; a verifier sees the shop's orders and
vouchers and verifies vouchers; an owner also sees and confirms or disputes the
monthly statements, downloads bills, manages verifier phones and submits goods
for review. Every query takes the session's merchant and filters by it
(``core.vouchers.listing``, ``core.settlement.statements.of_merchant``,
``core.catalogue.submissions.of_merchant``…); another merchant's statement is a 404.
Every POST carries the session's CSRF token. Bad input is answered on the page; a form
that cannot be read (not urlencoded UTF-8: ``console.pages.posted``) gets a 400 or 415 page.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web
from aiohttp.typedefs import Handler as AioHandler
from aiohttp_session import Session, get_session
from aiohttp_session import setup as setup_sessions
from sqlalchemy import Connection

from console import session as sessions
from console.chart import monthly_svg
from console.ops import OfficeSettings, Ops
from console.pages import html_page, posted
from console.session import Login
from console.texts import LANGS, Words, pick_lang
from core.backoffice.staffing import DEFAULT_ALONE_PER_DAY
from core.catalogue import submissions
from core.catalogue.editing import ItemSpec, UnknownReference
from core.catalogue.errors import ItemCodeTaken
from core.merchants import console_login, merchants
from core.merchants import texts as merchant_texts
from core.merchants.errors import NotStaff
from core.merchants.merchants import Actor
from core.messaging import outbox
from core.messaging.texts import short
from core.platform import inputs, web_sessions
from core.platform.clock import Clock, epoch
from core.platform.codes import Keyring
from core.platform.db import Database
from core.platform.errors import DomainError, Invalid, InvalidPhoneNumber
from core.platform.phones import to_e164
from core.points.accrual import AccrualRules
from core.settlement import reports, statements
from core.settlement.errors import IllegalStatementMove, ReasonRequired
from core.settlement.report_files import write_statement
from core.subscribers.subscribers import default_lang
from core.vouchers import listing
from core.vouchers import verification as verifying
from core.vouchers.errors import (
    NotYourVoucher,
    UnknownVoucher,
    VoucherAlreadyUsed,
    VoucherError,
    VoucherExpired,
    VoucherLocked,
    VoucherRefunded,
    WrongVoucherPassword,
)

PREFIX = "/console"

ORDER_NO = re.compile(r"\d{12}")
PASSWORD = re.compile(r"\d{8}")
CODE = re.compile(r"\d{6}")
ITEM_CODE = re.compile(r"[A-Za-z0-9]{1,16}")
MAX_POINTS = 10_000_000
MAX_PAGE = 999_999
MAX_BODY = 1024 * 1024
"""A form's body: room for a picture of ``core.catalogue.photos.UPLOAD_BYTES`` uploaded in the
back office; the merchant pages' forms are far smaller."""
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    timezone: ZoneInfo
    region: str
    home_lang: str
    secure_cookie: bool
    staff_changes_per_day: int = DEFAULT_ALONE_PER_DAY
    """``POINTSHALL_STAFF_CHANGES_PER_DAY``: the back office's staff changes (issue 13 §3)."""


@dataclass(frozen=True)
class Staff:
    """The logged-in staff member on this request."""

    login: Login
    role: console_login.StaffRole
    shops: tuple[console_login.StaffRole, ...] = ()
    """Every merchant this phone is staff of (a phone may serve several)."""

    @property
    def owner(self) -> bool:
        return self.role.role == "owner"


Handler = Callable[[web.Request, Session, Staff], Awaitable[web.StreamResponse]]


class Console:
    def __init__(self, db: Database, clock: Clock, keyring: Keyring, settings: Settings) -> None:
        self.db = db
        self.clock = clock
        self.keyring = keyring
        self.settings = settings
        self.templates = jinja2.Environment(
            loader=jinja2.PackageLoader("console", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )

    # ------------------------------------------------------------------ plumbing

    def now(self) -> int:
        return epoch(self.clock.now())

    def lang(self, request: web.Request, session: Session) -> str:
        chosen = session.get("lang")
        if chosen in LANGS:
            return str(chosen)
        return pick_lang(request.headers.get("Accept-Language"), self.settings.home_lang)

    def time(self, at: int | None) -> str:
        if at is None:
            return ""
        return datetime.fromtimestamp(at, self.settings.timezone).strftime("%Y-%m-%d %H:%M")

    def render(
        self,
        request: web.Request,
        session: Session,
        name: str,
        *,
        staff: Staff | None = None,
        status: int = 200,
        **context: Any,
    ) -> web.Response:
        lang = self.lang(request, session)
        body = self.templates.get_template(name).render(
            t=Words(lang),
            lang=lang,
            base=PREFIX,
            csrf=sessions.csrf_token(session),
            staff=staff,
            path=request.path,
            fmt_time=self.time,
            message=context.pop("message", None),
            error=context.pop("error", None),
            args=context.pop("args", None),
            **context,
        )
        return html_page(body, status)

    def page_error(
        self, request: web.Request, session: Session, status: int, key: str
    ) -> web.Response:
        return self.render(request, session, "message.html", status=status, error=key)

    async def _form(self, request: web.Request, session: Session) -> dict[str, str] | None:
        """The posted fields, or None when the CSRF token is missing or wrong."""
        fields = await posted(request)
        if not sessions.csrf_ok(session, fields.get(sessions.CSRF_FIELD)):
            return None
        return {k: v for k, v in fields.items() if isinstance(v, str)}

    def staff_page(self, handler: Handler, *, owner: bool = False) -> AioHandler:
        """Wrap ``handler``: a live login and a current staff role, owner if asked; CSRF on POST."""

        async def wrapped(request: web.Request) -> web.StreamResponse:
            session = await get_session(request)
            now = self.now()
            login = sessions.current(session, now)
            if login is None:
                expired = "msisdn" in session
                sessions.end(session)
                target = f"{PREFIX}/login" + ("?expired=1" if expired else "")
                raise web.HTTPFound(target)
            sid = sessions.server_id(session)

            def unit(conn: Connection) -> tuple[bool, list[console_login.StaffRole]]:
                live = web_sessions.alive(
                    conn, self.keyring, sid, kind="merchant", who=login.msisdn
                )
                return live, console_login.roles(conn, login.msisdn) if live else []

            live, shops = await self.db.read(unit)
            role = next((r for r in shops if r.merchant_id == login.merchant_id), None)
            if not live or role is None:
                sessions.end(session)
                raise web.HTTPFound(f"{PREFIX}/login?expired=1")
            staff = Staff(login, role, tuple(shops))
            if request.method == "POST":
                fields = await posted(request)
                if not sessions.csrf_ok(session, fields.get(sessions.CSRF_FIELD)):
                    return self.page_error(request, session, 403, "csrf")
            if owner and not staff.owner:
                return self.render(
                    request, session, "message.html", staff=staff, status=403, error="forbidden"
                )
            return await handler(request, session, staff)

        return wrapped

    def routes(self) -> list[web.RouteDef]:
        page = self.staff_page
        return [
            web.get("", self.home),
            web.get("/", self.home),
            web.get("/lang/{lang}", self.set_lang),
            web.get("/login", self.login_form),
            web.post("/login", self.login_send),
            web.get("/login/code", self.code_form),
            web.post("/login/code", self.code_check),
            web.post("/logout", self.logout),
            web.post("/merchant", page(self.switch_merchant)),
            web.get("/orders", page(self.orders)),
            web.get("/verify", page(self.verify_form)),
            web.post("/verify", page(self.verify)),
            web.get("/statements", page(self.statement_list, owner=True)),
            web.get(r"/statements/{id:\d{1,12}}", page(self.statement_detail, owner=True)),
            web.post(
                r"/statements/{id:\d{1,12}}/{action:confirm|dispute}", page(self.move, owner=True)
            ),
            web.get(r"/statements/{id:\d{1,12}}/bill.{fmt:xlsx|csv}", page(self.bill, owner=True)),
            web.get("/staff", page(self.staff_list, owner=True)),
            web.post("/staff/add", page(self.staff_add, owner=True)),
            web.post("/staff/remove", page(self.staff_remove, owner=True)),
            web.get("/goods", page(self.goods_list, owner=True)),
            web.post("/goods", page(self.goods_submit, owner=True)),
        ]

    # --------------------------------------------------------------------- login

    async def home(self, request: web.Request) -> web.StreamResponse:
        """Send a logged-in member to the orders, anyone else to the login."""
        session = await get_session(request)
        if sessions.current(session, self.now()) is not None:
            raise web.HTTPFound(f"{PREFIX}/orders")
        raise web.HTTPFound(f"{PREFIX}/login")

    async def set_lang(self, request: web.Request) -> web.StreamResponse:
        """Remember the chosen page language and go back to a console page."""
        session = await get_session(request)
        if request.match_info["lang"] in LANGS:
            session["lang"] = request.match_info["lang"]
        back = request.query.get("next", "")
        if not (back.startswith(f"{PREFIX}/") and "//" not in back and "\\" not in back):
            back = f"{PREFIX}/"
        raise web.HTTPFound(back)

    async def login_form(self, request: web.Request) -> web.StreamResponse:
        """Ask for the staff phone number."""
        session = await get_session(request)
        if sessions.current(session, self.now()) is not None:
            raise web.HTTPFound(f"{PREFIX}/orders")
        error = "expired" if request.query.get("expired") else None
        return self.render(request, session, "login.html", error=error, phone="")

    async def login_send(self, request: web.Request) -> web.StreamResponse:
        """Send a login code to a staff phone. Every well-formed number gets the same answer,
        staff or not, within the limits or over them (issue 13 §4)."""
        session = await get_session(request)
        form = await self._form(request, session)
        if form is None:
            return self.page_error(request, session, 403, "csrf")
        raw = form.get("phone", "").strip()
        try:
            phone = to_e164(raw, self.settings.region) if raw else ""
        except InvalidPhoneNumber:
            phone = ""
        if not phone:
            return self.render(
                request, session, "login.html", status=400, error="bad_phone", phone=raw[:32]
            )
        await self.db.write(
            partial(
                console_login.send_code,
                msisdn=phone,
                now=self.now(),
                keyring=self.keyring,
                home_lang=self.settings.home_lang,
                session=sessions.login_nonce(session),
            )
        )
        session["pending"] = phone
        raise web.HTTPFound(f"{PREFIX}/login/code")

    async def code_form(self, request: web.Request) -> web.StreamResponse:
        """Ask for the code sent by SMS."""
        session = await get_session(request)
        phone = session.get("pending")
        if not isinstance(phone, str):
            raise web.HTTPFound(f"{PREFIX}/login")
        return self.render(request, session, "code.html", phone=phone, message="login_sent")

    async def code_check(self, request: web.Request) -> web.StreamResponse:
        """Log in when the code is right: a new session bound to the phone's merchant."""
        session = await get_session(request)
        form = await self._form(request, session)
        if form is None:
            return self.page_error(request, session, 403, "csrf")
        phone = session.get("pending")
        if not isinstance(phone, str):
            raise web.HTTPFound(f"{PREFIX}/login")
        code = form.get("code", "").strip()
        if not CODE.fullmatch(code):
            return self.render(
                request, session, "code.html", status=400, phone=phone, error="bad_code"
            )
        now = self.now()
        nonce = sessions.login_nonce(session)

        def unit(
            conn: Connection,
        ) -> tuple[console_login.LoginCheck, list[console_login.StaffRole], str]:
            check = console_login.check_code(conn, phone, code, now, self.keyring, session=nonce)
            if check.result != "ok":
                return check, [], ""
            roles = console_login.roles(conn, phone)
            sid = web_sessions.start(conn, self.keyring, kind="merchant", who=phone, now=now)
            return check, roles, sid

        check, roles, sid = await self.db.write(unit)
        if check.result == "wrong":
            return self.render(
                request,
                session,
                "code.html",
                status=400,
                phone=phone,
                error="login_wrong",
                args={"n": check.tries_left},
            )
        if check.result != "ok" or not roles:
            return self.render(
                request, session, "code.html", status=400, phone=phone, error="login_dead"
            )
        lang = session.get("lang")
        await sessions.start(
            request,
            Login(phone, roles[0].merchant_id),
            now,
            lang if isinstance(lang, str) else None,
            sid,
        )
        raise web.HTTPFound(f"{PREFIX}/orders")

    async def logout(self, request: web.Request) -> web.StreamResponse:
        """End the session, on the server too: a copy of the cookie opens nothing after."""
        session = await get_session(request)
        form = await self._form(request, session)
        if form is None:
            return self.page_error(request, session, 403, "csrf")
        sid, now = sessions.server_id(session), self.now()
        await self.db.write(lambda conn: web_sessions.end(conn, self.keyring, sid, now))
        sessions.end(session)
        return self.render(request, session, "login.html", message="logged_out", phone="")

    async def switch_merchant(
        self, request: web.Request, session: Session, staff: Staff
    ) -> web.StreamResponse:
        """Act for another merchant this phone is also staff of."""
        form = await posted(request)
        wanted = str(form.get("merchant_id", ""))
        if any(str(shop.merchant_id) == wanted for shop in staff.shops):
            session["merchant_id"] = int(wanted)
        raise web.HTTPFound(f"{PREFIX}/orders")

    # ---------------------------------------------------------------- orders

    def _day(self, text: str) -> int:
        day = date.fromisoformat(text)
        return int(
            datetime(day.year, day.month, day.day, tzinfo=self.settings.timezone).timestamp()
        )

    async def orders(self, request: web.Request, session: Session, staff: Staff) -> web.Response:
        """The shop's voucher orders, filtered by status and date range, paged."""
        q = request.query
        status = q.get("status", "")
        status = status if status in listing.VOUCHER_STATUSES else ""
        start: int | None = None
        end: int | None = None
        error = None
        try:
            if q.get("from"):
                start = self._day(q["from"])
            if q.get("to"):
                end = self._day(q["to"]) + 86_400
        except ValueError:
            error, start, end = "bad_date", None, None
        page_no = inputs.whole_number(q.get("page"), 1, MAX_PAGE) or 1
        found = await self.db.read(
            partial(
                listing.of_merchant,
                merchant_id=staff.login.merchant_id,
                status=status or None,
                start=start,
                end=end,
                page=page_no,
            )
        )
        keep = {k: q[k] for k in ("status", "from", "to") if q.get(k) and error is None}

        def page_link(n: int) -> str:
            return f"{PREFIX}/orders?" + urlencode({**keep, "page": n})

        return self.render(
            request,
            session,
            "orders.html",
            staff=staff,
            error=error,
            found=found,
            statuses=listing.VOUCHER_STATUSES,
            chosen=status,
            date_from=q.get("from", "")[:10] if error is None else "",
            date_to=q.get("to", "")[:10] if error is None else "",
            page_link=page_link,
        )

    # ---------------------------------------------------------------- verify

    async def verify_form(
        self, request: web.Request, session: Session, staff: Staff
    ) -> web.Response:
        """The order number + password form."""
        return self.render(request, session, "verify.html", staff=staff, no="")

    def _refusal(self, error: VoucherError | NotStaff, no: str) -> tuple[str, dict[str, Any]]:
        if isinstance(error, WrongVoucherPassword):
            return "verify_wrong", {"n": error.tries_left}
        if isinstance(error, VoucherAlreadyUsed):
            return "verify_used", {"no": no, "time": self.time(error.verified_at)}
        table: list[tuple[type[DomainError], str]] = [
            (NotStaff, "verify_not_staff"),
            (NotYourVoucher, "verify_unknown"),  # as if absent: no hint of another shop's order
            (UnknownVoucher, "verify_unknown"),
            (VoucherExpired, "verify_expired"),
            (VoucherRefunded, "verify_refunded"),
            (VoucherLocked, "verify_locked"),
        ]
        key = next((k for cls, k in table if isinstance(error, cls)), "verify_unknown")
        return key, {"no": no}

    async def verify(self, request: web.Request, session: Session, staff: Staff) -> web.Response:
        """Verify a voucher of this shop by order number and password."""
        form = await posted(request)
        no = str(form.get("order_no", "")).strip()
        password = str(form.get("password", "")).strip()
        if not (ORDER_NO.fullmatch(no) and PASSWORD.fullmatch(password)):
            return self.render(
                request,
                session,
                "verify.html",
                staff=staff,
                status=400,
                error="verify_bad_input",
                no=no[:20],
            )
        actor = Actor("staff", staff.login.msisdn, frozenset({staff.login.merchant_id}))
        outcome = await self.db.write(
            partial(
                verifying.verify_by_password,
                actor=actor,
                order_no=no,
                password=password,
                now=self.now(),
                keyring=self.keyring,
                tz=self.settings.timezone,
            )
        )
        lang = self.lang(request, session)
        if isinstance(outcome, verifying.Verified):
            row = outcome.voucher
            return self.render(
                request,
                session,
                "verify.html",
                staff=staff,
                no="",
                message="verify_ok",
                args={"no": row.no, "item": row.item_name(lang), "qty": row.qty},
                ok=True,
            )
        key, args = self._refusal(outcome.error, no)
        return self.render(
            request, session, "verify.html", staff=staff, status=400, no=no, error=key, args=args
        )

    # ------------------------------------------------------------ statements

    async def statement_list(
        self, request: web.Request, session: Session, staff: Staff
    ) -> web.Response:
        """The shop's statements and the monthly chart."""
        mid = staff.login.merchant_id

        def unit(conn: Connection) -> tuple[Any, Any]:
            return statements.of_merchant(conn, mid), reports.merchant_months(
                conn, mid, self.now(), self.settings.timezone
            )

        found, months = await self.db.read(unit)
        t = Words(self.lang(request, session))
        return self.render(
            request,
            session,
            "statements.html",
            staff=staff,
            statements=found,
            chart=monthly_svg(months, t),
        )

    async def _statement(self, staff: Staff, request: web.Request) -> Any:
        sid = int(request.match_info["id"])
        found = await self.db.read(
            partial(
                statements.one_of_merchant, merchant_id=staff.login.merchant_id, statement_id=sid
            )
        )
        if found is None:
            raise web.HTTPNotFound()
        return found

    async def statement_detail(
        self,
        request: web.Request,
        session: Session,
        staff: Staff,
        *,
        status: int = 200,
        message: str | None = None,
        error: str | None = None,
        args: dict[str, Any] | None = None,
    ) -> web.Response:
        """One statement with the chart, confirm and dispute buttons and bill downloads."""
        view = await self._statement(staff, request)
        months = await self.db.read(
            partial(
                reports.merchant_months,
                merchant_id=staff.login.merchant_id,
                now=self.now(),
                tz=self.settings.timezone,
            )
        )
        t = Words(self.lang(request, session))
        return self.render(
            request,
            session,
            "statement.html",
            staff=staff,
            status=status,
            s=view,
            chart=monthly_svg(months, t),
            message=message,
            error=error,
            args=args or {},
            can_confirm=view.status in statements.MOVES["confirm"],
            can_dispute=view.status in statements.MOVES["dispute"],
        )

    async def move(self, request: web.Request, session: Session, staff: Staff) -> web.Response:
        """Confirm or dispute (with a reason) one of the shop's statements."""
        view = await self._statement(staff, request)
        action = request.match_info["action"]
        form = await posted(request)
        reason = str(form.get("reason", "")).strip()
        t = Words(self.lang(request, session))
        try:
            await self.db.write(
                partial(
                    statements.move,
                    statement_id=view.id,
                    action=action,
                    by=f"console:{staff.login.msisdn}",
                    now=self.now(),
                    reason=reason or None,
                    by_kind="staff",
                )
            )
        except ReasonRequired:
            return await self.statement_detail(
                request, session, staff, status=400, error="reason_required"
            )
        except IllegalStatementMove as exc:
            return await self.statement_detail(
                request,
                session,
                staff,
                status=409,
                error="illegal_move",
                args={"status": t(f"s_{exc.status}")},
            )
        done = "confirmed_ok" if action == "confirm" else "disputed_ok"
        return await self.statement_detail(request, session, staff, message=done)

    async def bill(self, request: web.Request, session: Session, staff: Staff) -> web.Response:
        """The statement's bill as XLSX or CSV (core.settlement.report_files)."""
        view = await self._statement(staff, request)
        fmt = request.match_info["fmt"]
        tz = self.settings.timezone
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"statement-{view.id}.{fmt}"

            def unit(conn: Connection) -> bytes:
                write_statement(path, view, reports.statement_lines(conn, view.id), tz)
                return path.read_bytes()

            body = await self.db.read(unit)
        kind = (
            "text/csv"
            if fmt == "csv"
            else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        name = f"statement-{view.merchant_code}-{view.period}.{fmt}"
        return web.Response(
            body=body,
            content_type=kind,
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
            },
        )

    # ----------------------------------------------------------------- staff

    async def staff_list(
        self,
        request: web.Request,
        session: Session,
        staff: Staff,
        *,
        status: int = 200,
        message: str | None = None,
        error: str | None = None,
        args: dict[str, Any] | None = None,
    ) -> web.Response:
        """The shop's staff phones; add or remove verifiers."""
        people = await self.db.read(
            partial(merchants.staff_of, merchant_id=staff.login.merchant_id)
        )
        return self.render(
            request,
            session,
            "staff.html",
            staff=staff,
            status=status,
            people=people,
            message=message,
            error=error,
            args=args or {},
        )

    def _phone(self, raw: str) -> str | None:
        try:
            return to_e164(raw, self.settings.region) if raw.strip() else None
        except InvalidPhoneNumber:
            return None

    async def staff_add(self, request: web.Request, session: Session, staff: Staff) -> web.Response:
        """Add a verifier phone (who is told by SMS)."""
        form = await posted(request)
        phone = self._phone(str(form.get("phone", "")))
        if phone is None:
            return await self.staff_list(request, session, staff, status=400, error="bad_phone")
        now, code, by = self.now(), staff.role.merchant_code, staff.login.msisdn
        home = self.settings.home_lang

        def unit(conn: Connection) -> bool:
            if dict(merchants.staff_of(conn, staff.login.merchant_id)).get(phone) == "owner":
                return False
            merchants.add_staff(conn, code, phone, "verifier", by, now, by_kind="staff")
            lang = default_lang(phone, home)
            outbox.enqueue(
                conn,
                key=f"staff:{code}:{phone}:{now}",
                recipient=phone,
                text=merchant_texts.notice(
                    lang, "staff_added", merchant=short(staff.role.name(lang), lang)
                ),
                now=now,
            )
            return True

        if not await self.db.write(unit):
            return await self.staff_list(
                request, session, staff, status=400, error="staff_is_owner", args={"phone": phone}
            )
        return await self.staff_list(
            request, session, staff, message="staff_added", args={"phone": phone}
        )

    async def staff_remove(
        self, request: web.Request, session: Session, staff: Staff
    ) -> web.Response:
        """Remove a verifier phone of this shop (never an owner)."""
        form = await posted(request)
        phone = self._phone(str(form.get("phone", "")))
        if phone is None:
            return await self.staff_list(request, session, staff, status=400, error="bad_phone")
        now, code, by = self.now(), staff.role.merchant_code, staff.login.msisdn

        def unit(conn: Connection) -> str:
            people = dict(merchants.staff_of(conn, staff.login.merchant_id))
            if people.get(phone) == "owner":
                return "staff_is_owner"
            if people.get(phone) != "verifier":
                return "staff_not_found"
            merchants.remove_staff(conn, code, phone, by, now, by_kind="staff")
            return "staff_removed"

        outcome = await self.db.write(unit)
        failed = outcome != "staff_removed"
        return await self.staff_list(
            request,
            session,
            staff,
            status=400 if failed else 200,
            message=None if failed else outcome,
            error=outcome if failed else None,
            args={"phone": phone},
        )

    # ----------------------------------------------------------------- goods

    async def goods_list(
        self,
        request: web.Request,
        session: Session,
        staff: Staff,
        *,
        status: int = 200,
        message: str | None = None,
        error: str | None = None,
        args: dict[str, Any] | None = None,
        form: dict[str, str] | None = None,
    ) -> web.Response:
        """The shop's goods with their review state, and the submission form."""
        mid = staff.login.merchant_id

        def unit(conn: Connection) -> tuple[Any, Any]:
            return submissions.of_merchant(conn, mid), submissions.category_choices(conn)

        goods, cats = await self.db.read(unit)
        return self.render(
            request,
            session,
            "goods.html",
            staff=staff,
            status=status,
            goods=goods,
            categories=cats,
            message=message,
            error=error,
            args=args or {},
            form=form or {},
        )

    @staticmethod
    def _number(text: str, low: int, high: int) -> int | None:
        return inputs.whole_number(text.strip(), low, high)

    async def goods_submit(
        self, request: web.Request, session: Session, staff: Staff
    ) -> web.Response:
        """Submit a voucher item for review; bad fields are named on the page."""
        fields = await posted(request)
        form = {k: str(v).strip() for k, v in fields.items() if k != sessions.CSRF_FIELD}
        t = Words(self.lang(request, session))
        bad: list[str] = []
        code = form.get("code", "")
        if not ITEM_CODE.fullmatch(code):
            bad.append(t("code"))
        names = (form.get("name_zh", ""), form.get("name_en", ""))
        for key, name in zip(("name_zh", "name_en"), names, strict=True):
            if not 1 <= len(name) <= 64:
                bad.append(t(key))
        points = self._number(form.get("points", ""), 1, MAX_POINTS)
        if points is None:
            bad.append(t("points"))
        stock = None
        if form.get("stock"):
            stock = self._number(form["stock"], 0, 10**8)
            if stock is None:
                bad.append(t("stock"))
        days = self._number(form.get("days", "30") or "30", 1, 3650)
        if days is None:
            bad.append(t("days"))
        if bad or points is None or days is None:
            return await self.goods_list(
                request,
                session,
                staff,
                status=400,
                error="goods_bad",
                args={"field": ", ".join(bad)},
                form=form,
            )
        spec = ItemSpec(
            code=code,
            name_zh=names[0],
            name_en=names[1],
            category=form.get("category", "")[:16],
            kind="voucher",
            points=points,
            stock=stock,
            voucher_days=days,
            description_zh=form.get("description_zh", "")[:500],
            description_en=form.get("description_en", "")[:500],
        )
        try:
            await self.db.write(
                partial(
                    submissions.submit_for,
                    merchant_id=staff.login.merchant_id,
                    spec=spec,
                    by=staff.login.msisdn,
                    now=self.now(),
                )
            )
        except ItemCodeTaken:
            return await self.goods_list(
                request,
                session,
                staff,
                status=400,
                error="goods_taken",
                args={"code": code.upper()},
                form=form,
            )
        except UnknownReference:
            return await self.goods_list(
                request, session, staff, status=400, error="goods_unknown_category", form=form
            )
        except Invalid as exc:  # a name core refuses (a control character: core.platform.naming)
            field = t(exc.field) if exc.field in ("name_zh", "name_en") else t("code")
            return await self.goods_list(
                request,
                session,
                staff,
                status=400,
                error="goods_bad",
                args={"field": field},
                form=form,
            )
        return await self.goods_list(
            request, session, staff, message="goods_submitted", args={"code": code.upper()}
        )


def _error_pages(console: Console) -> Any:
    @web.middleware
    async def middleware(request: web.Request, handler: AioHandler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPNotFound:
            session = await get_session(request)
            return console.page_error(request, session, 404, "not_found")
        except web.HTTPMethodNotAllowed:
            session = await get_session(request)
            return console.page_error(request, session, 405, "not_found")
        except web.HTTPException:
            raise
        except inputs.MalformedInput as exc:
            session = await get_session(request)
            status = 415 if isinstance(exc, inputs.UnsupportedContent) else 400
            return console.page_error(request, session, status, "bad_form")
        except Exception:
            log.exception("console page failed: %s %s", request.method, request.path)
            session = await get_session(request)
            return console.page_error(request, session, 500, "server_error")

    return middleware


def build_console(
    db: Database, clock: Clock, keyring: Keyring, settings: Settings, rules: AccrualRules
) -> web.Application:
    """The console as a sub-application, to be mounted at ``/console``."""
    console = Console(db, clock, keyring, settings)
    app = web.Application(client_max_size=MAX_BODY)
    setup_sessions(app, sessions.storage(keyring, secure=settings.secure_cookie, path=PREFIX))
    app.middlewares.append(_error_pages(console))
    app.add_routes(console.routes())
    office = OfficeSettings(
        settings.timezone, settings.region, rules, settings.staff_changes_per_day
    )
    app.add_routes(Ops(console, PREFIX, office).routes())  # the back office (issues 8, 16)
    return app


def settings_from(
    timezone: str,
    region: str,
    home_lang: str,
    public_url: str | None,
    staff_changes_per_day: int = DEFAULT_ALONE_PER_DAY,
) -> Settings:
    return Settings(
        timezone=ZoneInfo(timezone),
        region=region,
        home_lang=home_lang,
        secure_cookie=bool(public_url and public_url.startswith("https://")),
        staff_changes_per_day=staff_changes_per_day,
    )


__all__ = ["PREFIX", "build_console", "settings_from"]
