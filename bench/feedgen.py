"""A synthetic monthly billing feed (DESIGN.md §8) of N subscribers, streamed to a file.

``msisdn,period,spend_cents,tenure_months,reward_points,account_type,name``

* Deterministic for a given ``seed``; memory does not grow with N (rows are
  written as they are drawn, numbers come from a bijection of the row counter).
* Every number is a valid Chinese number that ``core.platform.phones.to_e164`` accepts
  and is unique within the file: mobile and broadband accounts get mobile
  numbers (13x/15x/16x/17x/18x/19x, mostly written in national 11-digit form),
  fixed-line accounts get Beijing numbers (``010`` + 8 digits starting 2–7).
* About 90 % mobile, 7 % broadband, 3 % fixed; spend 0–50,000 cents (log-normal,
  a few inactive lines at 0), tenure 0–240 months (mostly short, a long tail),
  reward points mostly 0.
* ``bad_rate`` replaces that share of rows with a row the importer must reject
  (bad number, wrong period, non-integer or negative amounts, unknown account
  type, wrong field count, over-long name, amount above the ceiling).

``python -m bench.feedgen OUT.csv --subscribers N --period 2026-10 [--seed S] [--bad-rate R]``
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HEADER = (
    "msisdn",
    "period",
    "spend_cents",
    "tenure_months",
    "reward_points",
    "account_type",
    "name",
)

# Three-digit mobile prefixes whose every 8-digit continuation is a valid CN mobile
# number in libphonenumber's metadata (checked with core.platform.phones.to_e164).
MOBILE_PREFIXES = (
    *range(130, 140),
    150,
    151,
    152,
    153,
    155,
    156,
    157,
    158,
    159,
    166,
    173,
    175,
    176,
    177,
    178,
    *range(180, 190),
    198,
    199,
)
MOBILE_SPACE = len(MOBILE_PREFIXES) * 10**8
# Beijing fixed lines: area code 10, then 8 digits; a first digit of 2–7 is always valid.
FIXED_FIRST_DIGITS = "234567"
FIXED_SPACE = len(FIXED_FIRST_DIGITS) * 10**7

MAX_SPEND_CENTS = 50_000
MAX_TENURE_MONTHS = 240
SHARE_MOBILE = 0.90
SHARE_BROADBAND = 0.07  # the rest (≈3 %) is fixed line

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬飞鹏辉波宁建国志强海燕晨雪梅琳浩然子轩欣怡宇航思远佳怡俊杰雨萱博文"  # noqa: E501
SHOPS = ("商行", "便利店", "餐馆", "五金店", "文具店", "理发店", "水果店", "药房", "书店", "茶庄")
BEIJING_DISTRICTS = ("朝阳", "海淀", "东城", "西城", "丰台", "石景山", "通州", "昌平", "大兴")

_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class _Bijection:
    """``i ↦ (a·i + b) mod m`` with gcd(a, m) = 1: unique, scattered numbers in O(1) memory."""

    def __init__(self, m: int, rng: random.Random) -> None:
        self.m = m
        a = rng.randrange(m // 3, 2 * m // 3)
        while math.gcd(a, m) != 1:
            a += 1
        self.a = a
        self.b = rng.randrange(m)
        self.used = 0

    def next(self) -> int:
        if self.used >= self.m:
            raise ValueError("number space exhausted")
        value = (self.a * self.used + self.b) % self.m
        self.used += 1
        return value


@dataclass
class FeedStats:
    path: Path
    rows: int = 0
    good: int = 0
    bad: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    bad_kinds: dict[str, int] = field(default_factory=dict)
    bytes: int = 0
    seconds: float = 0.0


def _person(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
    return rng.choice(SURNAMES) + given


def _name(rng: random.Random, service: str) -> str:
    r = rng.random()
    if r < 0.08:
        return ""
    if service == "fixed" and r < 0.5:
        return rng.choice(BEIJING_DISTRICTS) + rng.choice(SURNAMES) + "记" + rng.choice(SHOPS)
    return _person(rng)


def _mobile(value: int, rng: random.Random) -> str:
    prefix, rest = divmod(value, 10**8)
    national = f"{MOBILE_PREFIXES[prefix]}{rest:08d}"
    return national if rng.random() < 0.95 else "+86" + national


def _fixed(value: int, rng: random.Random) -> str:
    first, rest = divmod(value, 10**7)
    digits = f"{FIXED_FIRST_DIGITS[first]}{rest:07d}"
    return "010" + digits if rng.random() < 0.7 else "010-" + digits


def _spend(rng: random.Random, service: str) -> int:
    if rng.random() < 0.04:  # inactive this month
        return 0
    median = {"mobile": 6_000, "broadband": 9_900, "fixed": 2_500}[service]
    return min(MAX_SPEND_CENTS, int(rng.lognormvariate(math.log(median), 0.8)))


def _tenure(rng: random.Random) -> int:
    return min(MAX_TENURE_MONTHS, int(rng.expovariate(1 / 45)))


_REWARDS = (10, 20, 50, 100, 200, 500)
_REWARD_WEIGHTS = (30, 25, 20, 15, 7, 3)


def _reward(rng: random.Random) -> int:
    if rng.random() < 0.88:
        return 0
    return rng.choices(_REWARDS, _REWARD_WEIGHTS)[0]


Row = list[str]
_Spoiler = Callable[[Row, random.Random, str], Row]


def _bad_number(row: Row, rng: random.Random, _period: str) -> Row:
    row[0] = rng.choice(("12345", "1380013800", "99999999999", "not-a-number", ""))
    return row


def _bad_period(row: Row, _rng: random.Random, period: str) -> Row:
    year, month = int(period[:4]), int(period[5:7])
    row[1] = f"{year - 1:04d}-{month:02d}"
    return row


def _bad_spend(row: Row, rng: random.Random, _period: str) -> Row:
    row[2] = rng.choice(("12.50", "-500", "abc", "1e3"))
    return row


def _bad_tenure(row: Row, _rng: random.Random, _period: str) -> Row:
    row[3] = "-3"
    return row


def _bad_type(row: Row, _rng: random.Random, _period: str) -> Row:
    row[5] = "satellite"
    return row


def _bad_width(row: Row, _rng: random.Random, _period: str) -> Row:
    return row[:4]


def _bad_name(row: Row, _rng: random.Random, _period: str) -> Row:
    row[6] = "名" * 80
    return row


def _bad_ceiling(row: Row, _rng: random.Random, _period: str) -> Row:
    row[4] = str(10**9 + 1)
    return row


SPOILERS: dict[str, _Spoiler] = {
    "msisdn": _bad_number,
    "period": _bad_period,
    "spend": _bad_spend,
    "tenure": _bad_tenure,
    "account_type": _bad_type,
    "width": _bad_width,
    "name": _bad_name,
    "ceiling": _bad_ceiling,
}


def write_feed(
    path: Path | str, n: int, period: str, seed: int = 0, bad_rate: float = 0.0
) -> FeedStats:
    """Write an ``n``-row feed for ``period`` to ``path``; the same arguments give the same file.

    ``n`` counts every data row, bad ones included; the good rows all have distinct numbers.
    """
    if not _PERIOD.match(period):
        raise ValueError(f"bad period {period!r}; expected YYYY-MM")
    if n < 0:
        raise ValueError("n must be ≥ 0")
    if not 0.0 <= bad_rate <= 1.0:
        raise ValueError("bad_rate must be between 0 and 1")
    path = Path(path)
    started = time.perf_counter()
    rng = random.Random(seed)
    mobiles = _Bijection(MOBILE_SPACE, rng)
    fixeds = _Bijection(FIXED_SPACE, rng)
    spoilers = list(SPOILERS.items())
    stats = FeedStats(path)
    by_type = {"mobile": 0, "broadband": 0, "fixed": 0}
    bad_kinds = {kind: 0 for kind in SPOILERS}
    rand = rng.random
    with path.open("w", newline="", encoding="utf-8", buffering=1 << 20) as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(HEADER)
        for _ in range(n):
            r = rand()
            if r < SHARE_MOBILE:
                service = "mobile"
            elif r < SHARE_MOBILE + SHARE_BROADBAND:
                service = "broadband"
            else:
                service = "fixed"
            if service == "fixed":
                msisdn = _fixed(fixeds.next(), rng)
            else:
                msisdn = _mobile(mobiles.next(), rng)
            row = [
                msisdn,
                period,
                str(_spend(rng, service)),
                str(_tenure(rng)),
                str(_reward(rng)),
                service,
                _name(rng, service),
            ]
            if bad_rate and rand() < bad_rate:
                kind, spoil = spoilers[int(rand() * len(spoilers))]
                row = spoil(row, rng, period)
                bad_kinds[kind] += 1
                stats.bad += 1
            else:
                by_type[service] += 1
                stats.good += 1
            writer.writerow(row)
            stats.rows += 1
        out.flush()
        stats.bytes = out.tell()
    stats.by_type = by_type
    stats.bad_kinds = {k: v for k, v in bad_kinds.items() if v}
    stats.seconds = time.perf_counter() - started
    return stats


def _verify(path: Path, period: str) -> tuple[int, int, int]:
    """Read the file back with the product's reader: (good rows, bad rows, distinct numbers)."""
    from core.points.feed import FeedReader, FeedRow

    good = bad = 0
    seen: set[str] = set()
    with path.open("rb") as stream:
        for row in FeedReader(stream, period):
            if isinstance(row, FeedRow):
                good += 1
                seen.add(row.msisdn)
            else:
                bad += 1
    return good, bad, len(seen)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.feedgen", description=__doc__.split("\n")[0]
    )
    parser.add_argument("out", type=Path, help="the CSV file to write")
    parser.add_argument("--subscribers", "-n", type=int, default=100_000, help="data rows")
    parser.add_argument("--period", default="2026-10", help="billing period YYYY-MM")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bad-rate", type=float, default=0.0, help="share of bad rows, 0–1")
    parser.add_argument(
        "--verify",
        action="store_true",
        help="read the file back with core.points.feed.FeedReader and count good/bad/distinct"
        " numbers",
    )
    args = parser.parse_args(argv)
    try:
        stats = write_feed(args.out, args.subscribers, args.period, args.seed, args.bad_rate)
    except ValueError as exc:
        parser.error(str(exc))
    types = ", ".join(f"{k} {v:,}" for k, v in stats.by_type.items())
    print(
        f"wrote {stats.rows:,} rows ({stats.good:,} good: {types}; {stats.bad:,} bad) "
        f"to {stats.path}, {stats.bytes / 1e6:.1f} MB in {stats.seconds:.2f} s"
    )
    if stats.bad_kinds:
        print("bad rows by kind: " + ", ".join(f"{k} {v}" for k, v in stats.bad_kinds.items()))
    if args.verify:
        started = time.perf_counter()
        good, bad, distinct = _verify(args.out, args.period)
        print(
            f"verify: FeedReader read {good:,} good / {bad:,} bad rows, {distinct:,} distinct "
            f"numbers in {time.perf_counter() - started:.2f} s"
        )
        if good != stats.good or distinct != stats.good:
            print("verify: MISMATCH with what was written", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
