"""Demo data: a few subscribers with real points, posted through the real accrual path,
and a demo catalogue (``pointshall.demo_catalog``)."""

from __future__ import annotations

import csv
import tempfile
from datetime import datetime
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from core.points.feed_import import import_feed
from pointshall.bootstrap import Services
from pointshall.demo_catalog import seed_catalog
from pointshall.demo_console import seed_console

DEMO_SUBSCRIBERS = (
    # msisdn, tenure months, monthly spend (cents), reward points, account type, name
    ("+8613800138000", 70, 100_000, 100, "mobile", "张伟"),
    ("+8613900139000", 14, 25_680, 20, "mobile", "李娜"),
    ("+8613700137000", 40, 12_900, 0, "broadband", "王芳"),
    ("+861088886666", 8, 6_800, 0, "fixed", "北京示例商行"),
    ("+14155550100", 3, 4_500, 50, "mobile", "Alex Demo"),
)
DEMO_TWILIO_TOKEN = "demo-twilio-auth-token"
DEMO_KANNEL_SECRET = "demo"
TRY_LINES = (
    ".venv/bin/pointshall sms --from +8613800138000 HD        # ongoing activities (HD Y upcoming)",
    ".venv/bin/pointshall sms --from +8613800138000 SP        # goods; SP 3 = food vouchers",
    ".venv/bin/pointshall sms --from +8613800138000 'XQ 1001' # one item in detail",
    ".venv/bin/pointshall sms --from +8613800138000 'DH 3001' # redeem: replies with a code",
    ".venv/bin/pointshall sms --from +8613800138000 123456    # ...then send that code back",
)


def _recent_periods(now: datetime, count: int) -> list[str]:
    year, month = now.year, now.month
    periods = []
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        periods.append(f"{year:04d}-{month:02d}")
    return sorted(periods)


async def seed(services: Services, months: int = 2) -> list[str]:
    """Accrue ``months`` of demo billing for the demo subscribers, then seed the demo
    catalogue; idempotent."""
    periods = _recent_periods(services.clock.now(), months)
    with tempfile.TemporaryDirectory() as tmp:
        for period in periods:
            path = Path(tmp) / f"demo-{period}.csv"
            with path.open("w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out)
                writer.writerow(
                    [
                        "msisdn",
                        "period",
                        "spend_cents",
                        "tenure_months",
                        "reward_points",
                        "account_type",
                        "name",
                    ]
                )
                for msisdn, tenure, spend, reward, kind, name in DEMO_SUBSCRIBERS:
                    writer.writerow([msisdn, period, spend, tenure, reward, kind, name])
            await import_feed(
                services.db,
                path,
                period,
                services.rules,
                services.clock,
                region=services.settings.default_region,
                home_lang=services.settings.default_lang,
            )
    await services.db.write(
        partial(seed_catalog, now=services.clock.now(), tz=ZoneInfo(services.settings.timezone))
    )
    await seed_console(services)
    return periods
