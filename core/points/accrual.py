"""Monthly accrual rules (§1): points = floor(spend_yuan × tenure rate) + reward points."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

from core.platform.clock import epoch

PERIOD = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")
DEFAULT_TENURE_RATES = "0:1.0,12:1.2,36:1.5,60:2.0"
CENTS_PER_YUAN = 100


@dataclass(frozen=True)
class TenureRate:
    min_months: int
    rate: Fraction
    label: str


@dataclass(frozen=True)
class AccrualRules:
    """Tenure rates and the lot lifetime; built once from configuration."""

    rates: tuple[TenureRate, ...]
    expiry_years: int
    timezone: ZoneInfo

    @classmethod
    def parse(
        cls, spec: str, *, expiry_years: int = 1, timezone: str = "Asia/Shanghai"
    ) -> AccrualRules:
        """Parse ``"0:1.0,12:1.2,36:1.5,60:2.0"`` (from ``min_months:rate`` pairs)."""
        rates = []
        for part in spec.split(","):
            months, sep, rate = part.strip().partition(":")
            if (
                not sep
                or not re.fullmatch(r"[0-9]+", months)
                or not re.fullmatch(r"[0-9]+(\.[0-9]+)?", rate)
            ):
                raise ValueError(f"bad tenure rate {part!r}; expected MONTHS:RATE like 12:1.2")
            rates.append(TenureRate(int(months), Fraction(rate), rate))
        rates.sort(key=lambda r: r.min_months)
        thresholds = [r.min_months for r in rates]
        if len(set(thresholds)) != len(thresholds):
            raise ValueError("tenure rates name the same number of months twice")
        if not rates or rates[0].min_months != 0:
            raise ValueError("tenure rates must start at 0 months")
        if expiry_years < 0:
            raise ValueError("expiry years cannot be negative")
        return cls(tuple(rates), expiry_years, ZoneInfo(timezone))

    def rate_for(self, tenure_months: int) -> TenureRate:
        chosen = self.rates[0]
        for rate in self.rates:
            if tenure_months >= rate.min_months:
                chosen = rate
        return chosen

    def points(self, spend_cents: int, tenure_months: int, reward_points: int) -> int:
        rate = self.rate_for(tenure_months).rate
        earned = spend_cents * rate.numerator // (rate.denominator * CENTS_PER_YUAN)
        return earned + reward_points

    def expires_at(self, period: str) -> int:
        """Points earned in year N expire at the end of year N + expiry_years (local time)."""
        year = parse_period(period)[0]
        return epoch(datetime(year + self.expiry_years + 1, 1, 1, tzinfo=self.timezone))


def parse_period(period: str) -> tuple[int, int]:
    match = PERIOD.fullmatch(period)
    if match is None:
        raise ValueError(f"bad period {period!r}; expected YYYY-MM")
    return int(match.group(1)), int(match.group(2))
