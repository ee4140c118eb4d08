"""Reading a catalogue file (DESIGN.md §8) as a stream of good and bad rows.

``code,name_zh,name_en,category,brand,kind,points,cash_cents,stock,merchant,
per_account_limit,listed_at``, UTF-8 with a header, plus optional columns
(``OPTIONAL``). Nothing here touches the database: references (category, brand,
merchant, activity) are checked when the row is upserted. Every bad row comes
out with its line number.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import BinaryIO
from zoneinfo import ZoneInfo

from core.catalogue import pay_methods
from core.catalogue.editing import ItemSpec
from core.platform import naming
from core.platform.errors import FeedError
from core.platform.schema import ITEM_KINDS
from core.points.feed import BadRow, _Counting

REQUIRED = (
    "code",
    "name_zh",
    "name_en",
    "category",
    "brand",
    "kind",
    "points",
    "cash_cents",
    "stock",
    "merchant",
    "per_account_limit",
    "listed_at",
)
OPTIONAL = (
    "face_value_cents",
    "activity",
    "voucher_days",
    "description_zh",
    "description_en",
    "pay_methods",  # §3.5.6, e.g. "points,points_cash"; absent: derived from cash_cents
    "price_cents",  # the full money price for cash, phone_bill, online_bank
)
KEPT_WHEN_ABSENT = ("activity", "voucher_days", "description_zh", "description_en")
MAX_VOUCHER_DAYS = 3660
MAX_DESCRIPTION = 500
MAX_POINTS = 10**9
MAX_CENTS = 10**10
MAX_STOCK = 10**9
MAX_LIMIT = 10_000
DEFAULT_VOUCHER_DAYS = 30
_UNSIGNED = re.compile(r"[0-9]+")


class CatalogFileError(FeedError):
    """A catalogue file that cannot be read at all (empty, bad header)."""

    reason_code = "bad_file"


@dataclass(frozen=True, slots=True)
class ItemRow:
    line: int
    spec: ItemSpec


class _BadField(ValueError):
    pass


def _number(raw: str, column: str, ceiling: int, *, minimum: int = 0) -> int:
    if not _UNSIGNED.fullmatch(raw):
        raise _BadField(f"{column} {raw[:40]!r} is not a whole number ≥ {minimum}")
    if len(raw.lstrip("0")) > len(str(ceiling)) or int(raw) > ceiling:
        raise _BadField(f"{column} {raw[:40]} is more than {ceiling}")
    value = int(raw)
    if value < minimum:
        raise _BadField(f"{column} {raw} is less than {minimum}")
    return value


def _optional(raw: str, column: str, ceiling: int, *, minimum: int = 0) -> int | None:
    return None if raw == "" else _number(raw, column, ceiling, minimum=minimum)


def _code(raw: str, column: str) -> str:
    try:
        return naming.code(raw, column)
    except ValueError as exc:
        raise _BadField(str(exc)) from None


def _name(raw: str, column: str) -> str:
    try:
        return naming.name(raw, column)
    except ValueError as exc:
        raise _BadField(str(exc)) from None


def parse_moment(raw: str, tz: ZoneInfo) -> int:
    """An ISO date (midnight in ``tz``) or date-time (``tz`` if it names no zone), as epoch."""
    if len(raw) == 10:
        day = date.fromisoformat(raw)
        moment = datetime(day.year, day.month, day.day, tzinfo=tz)
    else:
        moment = datetime.fromisoformat(raw)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=tz)
    return int(moment.timestamp())


def _listed_at(raw: str, tz: ZoneInfo) -> int | None:
    if not raw:
        return None
    try:
        return parse_moment(raw, tz)
    except ValueError:
        raise _BadField(f"listed_at {raw[:40]!r} is not an ISO date (YYYY-MM-DD)") from None


class CatalogReader:
    """Iterate a catalogue file's rows; ``bytes_read`` tells how far into the file it is."""

    def __init__(self, stream: BinaryIO, tz: ZoneInfo) -> None:
        self._counting = _Counting(stream)
        self._text = io.TextIOWrapper(
            io.BufferedReader(self._counting, 1 << 16),
            encoding="utf-8-sig",
            errors="replace",
            newline="",
        )
        self._reader = csv.reader(self._text)
        self._tz = tz
        self._seen: dict[str, int] = {}
        header: list[str] = []
        while not any(h.strip() for h in header):
            try:
                header = next(self._reader)
            except StopIteration:
                raise CatalogFileError("the file is empty; expected a header line") from None
        columns = [h.strip().lower() for h in header]
        line = self._reader.line_num
        missing = [c for c in REQUIRED if c not in columns]
        if missing:
            raise CatalogFileError(f"line {line}: missing column(s) {', '.join(missing)}")
        unknown = [c for c in columns if c not in REQUIRED + OPTIONAL]
        if unknown:
            raise CatalogFileError(f"line {line}: unknown column(s) {', '.join(unknown)}")
        repeated = sorted({c for c in columns if columns.count(c) > 1})
        if repeated:
            raise CatalogFileError(f"line {line}: repeated column(s) {', '.join(repeated)}")
        self.absent = frozenset(c for c in KEPT_WHEN_ABSENT if c not in columns)
        self._width = len(columns)
        self._index = {name: i for i, name in enumerate(columns)}

    @property
    def bytes_read(self) -> int:
        return self._counting.count

    def __iter__(self) -> Iterator[ItemRow | BadRow]:
        while True:
            start = self._reader.line_num + 1
            try:
                fields = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield BadRow(start, f"unreadable CSV: {exc}")
                continue
            line = self._reader.line_num
            if line != start:
                yield BadRow(start, f"a quoted field runs on to line {line} (unclosed quote?)")
                continue
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue
            if len(fields) != self._width:
                yield BadRow(line, f"expected {self._width} fields, found {len(fields)}")
                continue
            try:
                row = self._row(line, [f.strip() for f in fields])
            except _BadField as exc:
                yield BadRow(line, str(exc))
                continue
            first = self._seen.setdefault(row.spec.code, line)
            if first != line:
                yield BadRow(line, f"code {row.spec.code} already appears on line {first}")
                continue
            yield row

    def _row(self, line: int, fields: list[str]) -> ItemRow:
        if any("\ufffd" in f for f in fields):
            raise _BadField("not valid UTF-8")

        def get(column: str) -> str:
            at = self._index.get(column)
            return "" if at is None else fields[at]

        kind = get("kind").lower()
        if kind not in ITEM_KINDS:
            raise _BadField(f"kind {kind[:40]!r} is not one of {', '.join(ITEM_KINDS)}")
        merchant = get("merchant") or None
        if kind == "voucher" and merchant is None:
            raise _BadField("a voucher needs a merchant")
        face = _optional(get("face_value_cents"), "face_value_cents", MAX_CENTS, minimum=1)
        if kind == "credit" and face is None:
            raise _BadField("phone credit needs face_value_cents (the amount credited)")
        brand = get("brand") or None
        activity = get("activity") or None
        days = _optional(get("voucher_days"), "voucher_days", MAX_VOUCHER_DAYS, minimum=1)
        descriptions = [get(f"description_{lang}") for lang in ("zh", "en")]
        for lang, text in zip(("zh", "en"), descriptions, strict=True):
            if len(text) > MAX_DESCRIPTION:
                raise _BadField(f"description_{lang} is longer than {MAX_DESCRIPTION} characters")
        methods = _methods(get("pay_methods"))
        price = _optional(get("price_cents"), "price_cents", MAX_CENTS, minimum=1)
        cash = _optional(get("cash_cents"), "cash_cents", MAX_CENTS)
        why = pay_methods.check(pay_methods.parse(methods), cash, price) if methods else None
        if why is not None:
            raise _BadField(why)
        return ItemRow(
            line,
            ItemSpec(
                code=_code(get("code"), "code"),
                name_zh=_name(get("name_zh"), "name_zh"),
                name_en=_name(get("name_en"), "name_en"),
                category=_code(get("category"), "category"),
                kind=kind,
                points=_number(get("points"), "points", MAX_POINTS, minimum=1),
                brand=_code(brand, "brand") if brand else None,
                merchant=_code(merchant, "merchant") if merchant else None,
                activity=_code(activity, "activity") if activity else None,
                voucher_days=days or DEFAULT_VOUCHER_DAYS,
                description_zh=descriptions[0],
                description_en=descriptions[1],
                cash_cents=_optional(get("cash_cents"), "cash_cents", MAX_CENTS),
                face_value_cents=face,
                stock=_optional(get("stock"), "stock", MAX_STOCK),
                per_account_limit=_optional(
                    get("per_account_limit"), "per_account_limit", MAX_LIMIT, minimum=1
                ),
                listed_at=_listed_at(get("listed_at"), self._tz),
                pay_methods=methods,
                price_cents=price,
            ),
        )


def _methods(text: str) -> str | None:
    """The ``pay_methods`` cell (names separated by ``,``, ``;`` or ``|``), or None if empty."""
    if not text.strip():
        return None
    try:
        return ",".join(pay_methods.parse(text.replace(";", ",").replace("|", ",")))
    except ValueError as exc:
        raise _BadField(str(exc)) from None
