"""What every back-office page module stands on: the logged-in operator, the ``Desk`` the
pages are mounted on (``console.ops.Ops``), paging, and reading a form.

A page module is a class taking a ``Desk``; its ``routes()`` wrap each handler in
``desk.page(handler, roles=...)``, which checks the session, the member's current role and
the CSRF token of every POST before the handler runs. A successful POST answers
303 See Other with a message kept for the next page (``desk.done``); a refused one shows
the form again with the refusal and a 4xx status.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.typedefs import Handler as AioHandler
from aiohttp_session import Session
from multidict import MultiDictProxy
from sqlalchemy import Connection

from console.backoffice.access import may
from console.backoffice.refusals import Refusal, refusal
from console.backoffice.words import KNOWN
from console.pages import UNREADABLE, posted
from core.backoffice import decisions
from core.backoffice.errors import NotIndependent
from core.backoffice.operator_staff import OperatorStaff
from core.platform import inputs
from core.platform.codes import Keyring
from core.platform.db import Database
from core.platform.errors import DomainError
from core.points.accrual import AccrualRules

T = TypeVar("T")
PAGE_SIZE = 20
MAX_PAGE_NUMBER = 10_000
FLASH = "ops_flash"


@dataclass(frozen=True)
class Operator:
    """The operator staff member on this request, as read from the database just now."""

    member: OperatorStaff

    def can(self, capability: str) -> bool:
        return may(self.member.role, capability)

    @property
    def reviewer(self) -> bool:
        return self.can("goods.review")

    @property
    def final(self) -> bool:
        return self.can("applications.final")


OpsHandler = Callable[[web.Request, Session, Operator], Awaitable[web.StreamResponse]]
Words = Callable[..., str]


class Desk(Protocol):
    """What the back-office pages take from the operator console they are mounted on."""

    db: Database
    keyring: Keyring
    prefix: str
    """``/console/ops``: every page's path starts with it."""
    timezone: ZoneInfo
    region: str
    rules: AccrualRules
    staff_changes_per_day: int
    """Staff changes an admin makes alone in 24 hours (``POINTSHALL_STAFF_CHANGES_PER_DAY``)."""

    def now(self) -> int: ...

    def words(self, request: web.Request, session: Session) -> Words: ...

    def lang(self, request: web.Request, session: Session) -> str: ...

    def time(self, at: int | None) -> str: ...

    def render(
        self,
        request: web.Request,
        session: Session,
        name: str,
        *,
        op: Operator | None = None,
        status: int = 200,
        **context: Any,
    ) -> web.Response: ...

    def page(self, handler: OpsHandler, *, roles: frozenset[str]) -> AioHandler: ...


async def readable_form(
    request: web.Request,
) -> MultiDictProxy[str | bytes | bytearray | web.FileField] | None:
    """The posted form, or None when it cannot be read: the page answers 400 instead of
    failing. aiohttp keeps it, so handlers read it again.

    An urlencoded form is first checked as the merchant console checks one
    (``console.pages.posted``: UTF-8, no other charset, no NUL), so aiohttp's own reading
    after it cannot fail; a multipart form (a picture upload) is read by aiohttp, and an
    unknown charset of a part, a broken body or a nested multipart is unreadable too.
    """
    try:
        if request.content_type != "multipart/form-data":
            await posted(request)
        return await request.post()
    except (inputs.MalformedInput, ValueError, LookupError, *UNREADABLE):  # Unicode… included
        return None


def done(session: Session, location: str, key: str, **args: object) -> web.HTTPSeeOther:
    """The answer to a successful POST: see ``location``, which shows message ``key``."""
    session[FLASH] = [key, {k: str(v) for k, v in args.items()}]
    return web.HTTPSeeOther(location)


def take_flash(session: Session) -> tuple[str, dict[str, str]] | None:
    """The message a POST left for this page, once."""
    kept = session.pop(FLASH, None)
    if isinstance(kept, list) and len(kept) == 2 and isinstance(kept[0], str):
        args = kept[1] if isinstance(kept[1], dict) else {}
        return kept[0], {str(k): str(v) for k, v in args.items()}
    return None


# ----------------------------------------------------------------------------- paging


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a table: its rows, its number (from 1), whether another follows, and the
    number of rows in all when it is known cheaply."""

    rows: list[T]
    number: int
    more: bool
    total: int | None = None
    size: int = PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def pages(self) -> int | None:
        if self.total is None:
            return None
        return max(1, -(-self.total // self.size))


def page_number(query: Mapping[str, str]) -> int:
    """``?page=N`` (1 when missing or not a sensible number)."""
    raw = query.get("page", "1")
    if not raw.isdigit() or len(raw) > 5:
        return 1
    return min(max(1, int(raw)), MAX_PAGE_NUMBER)


def offset_of(number: int, size: int = PAGE_SIZE) -> int:
    return (number - 1) * size


def sliced(rows: Sequence[T], number: int, size: int = PAGE_SIZE) -> Page[T]:
    """Page ``number`` of a list read whole (small tables: categories, staff…)."""
    start = (number - 1) * size
    return Page(list(rows[start : start + size]), number, start + size < len(rows), len(rows), size)


def windowed(rows: Sequence[T], number: int, size: int = PAGE_SIZE) -> Page[T]:
    """Page ``number`` from rows read with ``limit=size + 1`` at ``offset_of(number)``."""
    return Page(list(rows[:size]), number, len(rows) > size, None, size)


def link(path: str, query: Mapping[str, str], **changes: object) -> str:
    """``path`` with ``query`` and ``changes`` (empty values dropped): filters keep their page."""
    merged = {k: v for k, v in query.items() if k != "page"}
    merged.update({k: str(v) for k, v in changes.items()})
    kept = {k: v for k, v in merged.items() if v not in ("", "None")}
    return path + ("?" + urlencode(kept) if kept else "")


# ------------------------------------------------------------------------------ forms


class Fields:
    """Reads a posted form or a query string; every bad field is remembered by name.

    Each reader answers the value, or None when the field is empty and optional or bad (it
    is then in ``bad``). ``ok`` says whether all were good; ``values`` refills a form.
    """

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.bad: list[str] = []

    @property
    def ok(self) -> bool:
        return not self.bad

    @property
    def values(self) -> dict[str, str]:
        return {k: v for k, v in self.data.items() if isinstance(v, str) and k != "csrf"}

    def raw(self, name: str) -> str:
        value = self.data.get(name, "")
        return value.strip() if isinstance(value, str) else ""

    def _fail(self, name: str) -> None:
        if name not in self.bad:
            self.bad.append(name)

    def text(self, name: str, most: int, *, required: bool = True) -> str:
        """Free text of at most ``most`` characters, without control characters (a NUL is
        refused here rather than by PostgreSQL); line breaks and tabs are kept."""
        value = self.raw(name)
        if len(value) > most or (required and not value) or _controls(value):
            self._fail(name)
            return ""
        return value

    def code(self, name: str, *, required: bool = True, most: int = 16) -> str | None:
        value = self.raw(name)
        if not value:
            if required:
                self._fail(name)
            return None
        if len(value) > most or not value.isascii() or not value.replace("-", "").isalnum():
            self._fail(name)
            return None
        return value.upper()

    def number(self, name: str, low: int, high: int, *, required: bool = True) -> int | None:
        value = self.raw(name)
        if not value:
            if required:
                self._fail(name)
            return None
        negative = value.startswith("-")
        digits = value[1:] if value[:1] in "+-" else value
        if not digits.isdigit() or len(digits) > 12:
            self._fail(name)
            return None
        number = -int(digits) if negative else int(digits)
        if not low <= number <= high:
            self._fail(name)
            return None
        return number

    def cents(self, name: str, *, required: bool = False, high: int = 10**10) -> int | None:
        """A money amount typed in yuan (``12.5``) as whole cents (1250); at most 2 decimals."""
        value = self.raw(name)
        if not value:
            if required:
                self._fail(name)
            return None
        try:
            yuan = Decimal(value)
        except InvalidOperation:
            self._fail(name)
            return None
        if not yuan.is_finite() or yuan < 0 or yuan != yuan.quantize(Decimal("0.01")):
            self._fail(name)
            return None
        cents = int(yuan * 100)
        if cents > high:
            self._fail(name)
            return None
        return cents

    def flag(self, name: str) -> bool:
        return self.raw(name) in ("1", "on", "true", "yes")

    def choice(self, name: str, options: Sequence[str], *, required: bool = True) -> str | None:
        value = self.raw(name)
        if not value:
            if required:
                self._fail(name)
            return None
        if value not in options:
            self._fail(name)
            return None
        return value

    def choices(self, name: str, options: Sequence[str]) -> list[str]:
        """Every checked value of a group of checkboxes, in ``options`` order."""
        getall = getattr(self.data, "getall", None)
        picked = getall(name, []) if getall else [self.data.get(name)]
        chosen = {p for p in picked if isinstance(p, str)}
        if chosen - set(options):
            self._fail(name)
        return [o for o in options if o in chosen]

    def moment(self, name: str, tz: ZoneInfo, *, required: bool = True) -> int | None:
        """A ``datetime-local`` value (``2026-11-20T10:30``) in ``tz`` as UTC epoch seconds."""
        value = self.raw(name)
        if not value:
            if required:
                self._fail(name)
            return None
        try:
            local = datetime.fromisoformat(value)
        except ValueError:
            self._fail(name)
            return None
        if local.tzinfo is not None or not 2000 <= local.year <= 2999:
            self._fail(name)
            return None
        return int(local.replace(tzinfo=tz).timestamp())

    def day(self, name: str, tz: ZoneInfo, *, end: bool = False) -> int | None:
        """A ``YYYY-MM-DD`` date: the start of that day in ``tz`` (of the next day if ``end``)."""
        value = self.raw(name)
        if not value:
            return None
        try:
            when = date.fromisoformat(value)
        except ValueError:
            self._fail(name)
            return None
        if not 2000 <= when.year <= 2999:
            self._fail(name)
            return None
        start = datetime(when.year, when.month, when.day, tzinfo=tz)
        if end:
            return int(start.timestamp()) + 86_400
        return int(start.timestamp())

    def upload(self, name: str, most: int) -> bytes | None:
        """The bytes of an uploaded file (None when none was chosen or it is too big)."""
        field = self.data.get(name)
        if isinstance(field, web.FileField):
            data = field.file.read(most + 1)
            if not data:
                self._fail(name)
                return None
            if len(data) > most:
                self._fail(name)
                return None
            return bytes(data)
        self._fail(name)
        return None


def _controls(value: str) -> bool:
    return any((ord(c) < 32 and c not in "\t\n\r") or 127 <= ord(c) < 160 for c in value)


def local_input(at: int | None, tz: ZoneInfo) -> str:
    """UTC epoch seconds as a ``datetime-local`` input value in ``tz``."""
    if at is None:
        return ""
    return datetime.fromtimestamp(at, tz).strftime("%Y-%m-%dT%H:%M")


def yuan(cents: int | None) -> str:
    """Cents as yuan with two decimals (``1250`` → ``12.50``); empty for None."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


# --------------------------------------------------------------------------- refusals


async def attempt(desk: Desk, unit: Callable[[Connection], T]) -> T | Refusal:
    """Run ``unit`` as one unit of work; a domain refusal comes back as a ``Refusal``. A
    refusal by separation of duties leaves its trace in the audit log, in a unit of its own
    (the refused one is rolled back): ``decisions.record_refusal``."""
    try:
        return await desk.db.write(unit)
    except NotIndependent as exc:
        await desk.db.write(partial(decisions.record_refusal, error=exc, now=desk.now()))
        return refusal(exc, KNOWN)
    except DomainError as exc:
        return refusal(exc, KNOWN)


def bad_fields(t: Words, fields: Fields) -> dict[str, object]:
    """The arguments of ``bo_bad_fields``: the labels of the fields that were wrong."""
    return {"fields": ", ".join(t(f"f_{name}") for name in fields.bad)}
