"""``pointshall merchant …`` as an operator uses it (issue 4): apply, review, approve, staff,
terminal, unlock."""

from __future__ import annotations

import re

from tests.support.cli import pointshall

APPLICANT = "+8613511112222"


async def test_admission_staff_terminal_and_unlock(database_url: str) -> None:
    def ok(*args: str) -> str:
        done = pointshall(database_url, "merchant", *args)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    assert pointshall(database_url, "db", "upgrade").returncode == 0
    for name, role in (("biz-li", "business_admin"), ("admin-wang", "admin"), ("ops", "support")):
        assert pointshall(database_url, "staff", "add", name, "--role", role).returncode == 0
    filed = ok("apply", "M9", "面包坊", "Bakery", "--phone", "13511112222")
    app_id = re.search(r"application (\d+) submitted", filed)
    assert app_id, filed
    no = app_id.group(1)
    refused = pointshall(database_url, "merchant", "approve", no, "--by", "admin")
    assert refused.returncode == 1 and "refused" in refused.stderr
    ok("review", no, "--by", "biz-li", "--start")
    ok("review", no, "--by", "biz-li", "--reason", "documents ok")
    ok("approve", no, "--by", "admin-wang")
    assert "+8613700137009 is now verifier of M9" in ok(
        "staff", "add", "M9", "13700137009", "--by", "admin-wang"
    )
    key = ok("terminal", "add", "M9", "T-0001", "--by", "admin-wang").splitlines()[-1]
    assert re.fullmatch(r"[0-9a-f]{64}", key), key
    assert "removed" in ok("staff", "remove", "M9", "13700137009", "--by", "admin-wang")
    locked = pointshall(database_url, "merchant", "unlock", "991231000000", "--by", "ops")
    assert locked.returncode == 1 and "no voucher" in locked.stderr
