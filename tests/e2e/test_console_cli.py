"""What the README tells a developer trying the console (issue 8): after `pointshall demo`
the demo owner exists, and `pointshall outbox list --to` shows the login code sent to it,
masked (issue 13 §1: the code itself reaches only the phone)."""

from __future__ import annotations

import re

from core.merchants import console_login
from core.platform.clock import SystemClock, epoch
from pointshall.bootstrap import bootstrap
from pointshall.demo_console import DEMO_OWNER
from tests.support.cli import pointshall
from tests.support.settings import make_settings


async def test_the_demo_owner_gets_a_login_code_shown_masked_by_outbox_list(
    database_url: str,
) -> None:
    assert pointshall(database_url, "demo").returncode == 0
    services = await bootstrap(make_settings(database_url), clock=SystemClock(), upgrade=False)
    try:
        now = epoch(services.clock.now())
        sent = await services.db.write(
            lambda conn: console_login.send_code(
                conn, DEMO_OWNER, now, services.keyring, session="a browser"
            )
        )
    finally:
        await services.close()
    assert sent == "sent"
    listed = pointshall(database_url, "outbox", "list", "--to", "13500135000", "--limit", "1")
    assert listed.returncode == 0, listed.stderr
    assert re.search(
        r"pending\s+\+8613500135000\s+您正在登录商户自助平台,验证码\*{6},", listed.stdout
    ), listed.stdout
    bad = pointshall(database_url, "outbox", "list", "--to", "12")
    assert bad.returncode == 2 and "not a phone number" in bad.stderr
