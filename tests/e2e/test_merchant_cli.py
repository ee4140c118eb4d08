"""``pointshall merchant …`` as an operator uses it (issue 4): apply, review, approve, staff,
terminal, unlock."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

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


def _readme_merchant_commands() -> list[list[str]]:
    """The commands of the README's merchant block, as an operator would paste them: the
    options shown in brackets left out, the trailing comments dropped."""
    text = (Path(__file__).parents[2] / "README.md").read_text()
    block = text.split("## Merchants: admission, staff, terminals, verification", 1)[1]
    block = block.split("```sh", 1)[1].split("```", 1)[0]
    commands = []
    for line in block.strip().splitlines():
        line = re.sub(r"\s+#\s.*$", "", line)
        line = re.sub(r"\s*\[[^\]]*\]", "", line)
        commands.append(shlex.split(line)[1:])  # without .venv/bin/pointshall
    return commands


async def test_the_readme_merchant_commands_work_on_the_demo(database_url: str) -> None:
    """Issue 16 §5: the README's example of `goods submit` failed on the demo (a hidden
    default category); each command of the block succeeds in order, except the two that
    are alternatives to what came before (reject after approve, unlock of no voucher)."""
    assert pointshall(database_url, "demo").returncode == 0
    expected_refusals = {"reject", "unlock"}
    for args in _readme_merchant_commands():
        done = pointshall(database_url, *args)
        if args[1] in expected_refusals:
            assert done.returncode == 1 and done.stderr.startswith("refused"), (args, done)
            continue
        assert done.returncode == 0, (args, done.stdout, done.stderr)
    listed = pointshall(database_url, "catalog", "list")
    assert re.search(r"3101\s.*拿铁券", listed.stdout), listed.stdout


async def test_goods_are_submitted_only_by_the_merchants_staff_in_a_named_category(
    database_url: str,
) -> None:
    assert pointshall(database_url, "demo").returncode == 0
    submit = ("merchant", "goods", "submit", "COFFEE", "3109", "摩卡券", "Mocha", "600")
    no_category = pointshall(database_url, *submit, "--by", "13500135000")
    assert no_category.returncode == 2 and "--category" in no_category.stderr
    stranger = pointshall(database_url, *submit, "--by", "13511112222", "--category", "3")
    assert stranger.returncode == 1
    assert stranger.stderr.strip() == "refused: +8613511112222 is not staff of merchant COFFEE"
    missing = pointshall(database_url, *submit, "--by", "13500135000", "--category", "SJ")
    assert missing.returncode == 1 and "SJ" in missing.stderr
    owner = pointshall(database_url, *submit, "--by", "13500135000", "--category", "3")
    assert owner.returncode == 0, owner.stderr
    verifier = pointshall(database_url, *submit, "--by", "+8613500135008", "--category", "3")
    assert verifier.returncode == 0, verifier.stderr
    pending = pointshall(database_url, "merchant", "goods", "pending")
    assert "3109" in pending.stdout
