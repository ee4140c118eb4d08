"""Reading the monthly billing feed (DESIGN.md §8) as a stream of good and bad rows.

``msisdn,period,spend_cents,tenure_months,reward_points[,account_type,name]``,
UTF-8 with a header. Nothing here touches the database; every bad row comes out
with its line number and a reason an operator can act on.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from core.platform.errors import FeedError, InvalidPhoneNumber
from core.platform.phones import canonical_e164, parse_e164
from core.platform.schema import ACCOUNT_TYPES

REQUIRED = ("msisdn", "period", "spend_cents", "tenure_months", "reward_points")
OPTIONAL = ("account_type", "name")
MAX_SPEND_CENTS = 10**12
MAX_TENURE_MONTHS = 1200
MAX_REWARD_POINTS = 10**9
MAX_NAME = 64
_NUMBERS = tuple(
    (column, ceiling, len(str(ceiling)))
    for column, ceiling in (
        ("spend_cents", MAX_SPEND_CENTS),
        ("tenure_months", MAX_TENURE_MONTHS),
        ("reward_points", MAX_REWARD_POINTS),
    )
)
"""Each whole-number column, its ceiling and the ceiling's digits."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class FeedRow:
    line: int
    msisdn: str
    service: str
    spend_cents: int
    tenure_months: int
    reward_points: int
    name: str | None


GoodRow = tuple[int, str, str, int, int, int, str | None]
"""A good row as a tuple, in ``FeedRow``'s field order."""

_SERVICES = {"": "mobile", **{t: t for t in ACCOUNT_TYPES}}
"""``account_type`` as written in the schema (empty: mobile), for the quick test."""


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class _Counting(io.RawIOBase):
    """Wrap a binary stream and count the bytes read, for a progress bar."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n


class FeedReader:
    """Iterate a feed's rows; ``bytes_read`` tells how far into the file it is."""

    def __init__(self, stream: BinaryIO, period: str, region: str = "CN") -> None:
        self._counting = _Counting(stream)
        self._text = io.TextIOWrapper(
            io.BufferedReader(self._counting, 1 << 16),
            encoding="utf-8-sig",
            errors="replace",
            newline="",
        )
        self._reader = csv.reader(self._text)
        self.period = period
        self.region = region
        header: list[str] = []
        while not any(h.strip() for h in header):
            try:
                header = next(self._reader)
            except StopIteration:
                raise FeedError("the file is empty; expected a header line") from None
        self._columns = [h.strip().lower() for h in header]
        missing = [c for c in REQUIRED if c not in self._columns]
        if missing:
            raise FeedError(f"line {self._reader.line_num}: missing column(s) {', '.join(missing)}")
        unknown = [c for c in self._columns if c not in REQUIRED + OPTIONAL]
        if unknown:
            raise FeedError(f"line {self._reader.line_num}: unknown column(s) {', '.join(unknown)}")
        repeated = sorted({c for c in self._columns if self._columns.count(c) > 1})
        if repeated:
            raise FeedError(
                f"line {self._reader.line_num}: repeated column(s) {', '.join(repeated)}"
            )
        self._index = {name: i for i, name in enumerate(self._columns)}

    @property
    def bytes_read(self) -> int:
        return self._counting.count

    def __iter__(self) -> Iterator[FeedRow | BadRow]:
        for row in self.rows():
            yield row if isinstance(row, BadRow) else FeedRow(*row)

    def rows(self) -> Iterator[GoodRow | BadRow]:
        """Like iterating the reader, with each good row as a plain tuple in ``FeedRow``'s
        field order (no object per row: what the importer stages).

        A row already in canonical form (exact period, plain digits, an account type as
        written in the schema, a name with nothing to strip, a number
        ``canonical_e164`` takes as it is) is checked with a few string tests; any other
        row goes through ``check``, which decides and words the reason. The quick test
        only ever accepts what ``check`` accepts, with the same values."""
        reader = self._reader
        width = len(self._columns)
        index = self._index
        i_msisdn, i_period = index["msisdn"], index["period"]
        i_spend, i_tenure, i_reward = (index[c] for c, _, _ in _NUMBERS)
        w_spend, w_tenure, w_reward = (w for _, _, w in _NUMBERS)
        i_type = index.get("account_type")
        i_name = index.get("name")
        period, region = self.period, self.region
        services = _SERVICES
        control = _CONTROL.search
        canonical = canonical_e164
        slow = self.check
        while True:
            start = reader.line_num + 1
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield BadRow(start, f"unreadable CSV: {exc}")
                continue
            line = reader.line_num
            if line != start:
                yield BadRow(
                    start,
                    f"a quoted field runs on to line {line} (unclosed quote?); "
                    f"lines {start}-{line} not imported",
                )
                continue
            if len(fields) != width:
                if not fields or (len(fields) == 1 and not fields[0].strip()):
                    continue
                yield BadRow(line, f"expected {width} fields, found {len(fields)}")
                continue
            # The quick test: each condition implies check() takes the field as it is.
            spend, tenure, reward = fields[i_spend], fields[i_tenure], fields[i_reward]
            service = "mobile" if i_type is None else services.get(fields[i_type])
            name = None if i_name is None else fields[i_name] or None
            joined = "".join(fields)
            digits = spend + tenure + reward
            if (
                fields[i_period] == period
                and "\ufffd" not in joined
                and "\x00" not in joined
                and 0 < len(spend) < w_spend
                and 0 < len(tenure) < w_tenure
                and 0 < len(reward) < w_reward
                and digits.isdigit()
                and digits.isascii()
                and service is not None
                and (
                    name is None
                    or (len(name) <= MAX_NAME and name.strip() == name and not control(name))
                )
                and (msisdn := canonical(fields[i_msisdn], region))
            ):
                yield (line, msisdn, service, int(spend), int(tenure), int(reward), name)
                continue
            yield slow(line, fields)

    def check(self, line: int, fields: list[str]) -> GoodRow | BadRow:
        get = self._index.get
        joined = "".join(fields)
        if "\ufffd" in joined:
            return BadRow(line, "not valid UTF-8")
        if "\x00" in joined:
            return BadRow(line, "contains a NUL character")
        period = fields[self._index["period"]].strip()
        if period != self.period:
            return BadRow(line, f"period {period!r} does not match {self.period}")
        numbers: list[int] = []
        for column, ceiling, width in _NUMBERS:
            raw = fields[self._index[column]].strip()
            if not (raw.isascii() and raw.isdigit()):
                return BadRow(line, f"{column} {raw[:40]!r} is not a whole number ≥ 0")
            if len(raw) > width and len(raw.lstrip("0")) > width:
                return BadRow(line, f"{column} {raw[:40]} is more than {ceiling}")
            value = int(raw)
            if value > ceiling:
                return BadRow(line, f"{column} {raw[:40]} is more than {ceiling}")
            numbers.append(value)
        service = "mobile"
        at = get("account_type")
        if at is not None and fields[at].strip():
            service = fields[at].strip().lower()
            if service not in ACCOUNT_TYPES:
                return BadRow(
                    line, f"account_type {service!r} is not one of {', '.join(ACCOUNT_TYPES)}"
                )
        name: str | None = None
        nm = get("name")
        if nm is not None and fields[nm].strip():
            name = fields[nm].strip()
            if len(name) > MAX_NAME:
                return BadRow(line, f"name is longer than {MAX_NAME} characters")
            if _CONTROL.search(name):
                return BadRow(line, "name contains a control character")
        raw_msisdn = fields[self._index["msisdn"]]
        try:
            msisdn = parse_e164(raw_msisdn, self.region)
        except InvalidPhoneNumber:
            return BadRow(line, f"msisdn {raw_msisdn.strip()!r} is not a valid phone number")
        return (line, msisdn, service, numbers[0], numbers[1], numbers[2], name)
