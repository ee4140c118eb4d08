"""Separation of duties from the command line (issue 13 §3): the CLI acts as a named staff
member with the API's roles, so the two-person bypass of the issue (an admin proposes
+500,001 points, creates a finance member and approves with it) is refused there too, and
one operator cannot give a merchant application both of its reviews."""

from __future__ import annotations

import re
from pathlib import Path

from core.platform import audit
from core.points import doctor
from pointshall.bootstrap import Services
from tests.integration.test_admin_api import balance
from tests.support.cli import Ran, pointshall
from tests.support.merchant_helpers import ALICE, merchant_mall

BEFORE = 50_000


def ok(ran: Ran) -> str:
    assert ran.returncode == 0, (ran.args, ran.stdout, ran.stderr)
    return ran.stdout


def refused(ran: Ran, words: str) -> None:
    assert ran.returncode == 1, (ran.args, ran.stdout, ran.stderr)
    assert "refused" in ran.stderr and words in ran.stderr, (ran.args, ran.stderr)


async def test_the_bypass_of_the_issue_is_refused_from_the_cli(
    services: Services, database_url: str, tmp_path: Path
) -> None:
    await merchant_mall(services, tmp_path)
    assert await balance(services) == BEFORE

    def cli(*args: str) -> Ran:
        return pointshall(database_url, *args)

    ok(cli("staff", "add", "root", "--role", "admin"))
    ok(cli("staff", "add", "fin", "--role", "finance"))  # set up before the proposal
    proposed = ok(
        cli("adjustment", "propose", ALICE, "--points", "500001", "--reason", "x", "--by", "root")
    )
    found = re.search(r"adjustment (\d+): \+500,001 points", proposed)
    assert found is not None, proposed
    number = found[1]

    ok(cli("staff", "add", "mallory", "--role", "finance", "--by", "root"))
    refused(cli("adjustment", "approve", number, "--by", "mallory"), "appointed by proposer")
    ok(cli("staff", "add", "boss", "--role", "admin", "--by", "root"))
    refused(cli("adjustment", "approve", number, "--by", "boss"), "appointed by proposer")
    refused(cli("adjustment", "approve", number, "--by", "root"), "same person")
    refused(cli("adjustment", "approve", number, "--by", "nobody"), "no staff member")
    refused(
        cli("adjustment", "propose", ALICE, "--points", "5", "--reason", "x", "--by", "fin"),
        "may not",
    )
    assert await balance(services) == BEFORE
    trail = await services.db.read(lambda conn: audit.entries(conn, f"adjustment:{number}"))
    assert [(r.actor, r.result) for r in trail if r.action == "duty_refused"] == [
        ("mallory", "appointed_by_proposer"),
        ("boss", "appointed_by_proposer"),
        ("root", "same_person"),
    ]

    done = ok(cli("adjustment", "approve", number, "--by", "fin"))
    assert "approved" in done
    assert await balance(services) == BEFORE + 500_001
    assert (await services.db.read(doctor.examine)).ok


async def test_a_member_given_power_after_the_proposal_cannot_approve_it(
    services: Services, database_url: str, tmp_path: Path
) -> None:
    await merchant_mall(services, tmp_path)

    def cli(*args: str) -> Ran:
        return pointshall(database_url, *args)

    ok(cli("staff", "add", "root", "--role", "admin"))
    ok(cli("staff", "add", "boss", "--role", "admin"))
    ok(cli("staff", "add", "sue", "--role", "support", "--by", "boss"))
    ok(cli("adjustment", "propose", ALICE, "--points", "-700", "--reason", "typo", "--by", "sue"))
    ok(cli("staff", "add", "late", "--role", "finance", "--by", "boss"))
    refused(cli("adjustment", "approve", "1", "--by", "late"), "joined after")
    ok(cli("staff", "role", "sue", "finance", "--by", "boss"))
    refused(cli("adjustment", "approve", "1", "--by", "sue"), "same person")
    listed = ok(cli("adjustment", "list", "--status", "proposed"))
    assert "-700" in listed
    ok(cli("adjustment", "reject", "1", "--by", "sue", "--reason", "withdrawn"))
    assert "rejected" in ok(cli("adjustment", "list"))
    assert await balance(services) == BEFORE


async def test_one_operator_cannot_give_both_reviews(database_url: str) -> None:
    def cli(*args: str) -> Ran:
        return pointshall(database_url, *args)

    ok(cli("staff", "add", "root", "--role", "admin"))
    ok(cli("staff", "add", "boss", "--role", "admin"))
    ok(cli("staff", "add", "biz", "--role", "business_admin", "--by", "boss"))
    ok(cli("staff", "add", "fin", "--role", "finance", "--by", "boss"))
    ok(cli("merchant", "apply", "M9", "面包坊", "Bakery", "--phone", "13511112222"))
    refused(cli("merchant", "review", "1", "--by", "fin", "--start"), "may not")
    refused(cli("merchant", "review", "1", "--by", "someone", "--start"), "no staff member")
    ok(cli("merchant", "review", "1", "--by", "root", "--reason", "papers ok"))
    refused(cli("merchant", "approve", "1", "--by", "biz"), "may not")
    refused(cli("merchant", "approve", "1", "--by", "root"), "same person")
    refused(cli("merchant", "goods", "review", "3101", "--by", "fin", "--approve"), "may not")
    ok(cli("merchant", "approve", "1", "--by", "boss"))
    refused(cli("merchant", "staff", "add", "M9", "13700137009", "--by", "fin"), "may not")
    ok(cli("merchant", "staff", "add", "M9", "13700137009", "--by", "biz"))
    refused(cli("merchant", "terminal", "add", "M9", "T-1", "--by", "biz"), "may not")
    ok(cli("catalog", "category", "add", "SJ", "商家", "Merchants"))
    submit = (
        "merchant",
        "goods",
        "submit",
        "M9",
        "3101",
        "拿铁券",
        "Latte",
        "600",
        "--category",
        "SJ",
    )
    refused(cli(*submit, "--by", "13700137008"), "not staff of merchant M9")  # a stranger
    ok(cli(*submit, "--by", "13511112222"))  # the applicant owns M9
    refused(cli("merchant", "goods", "review", "3101", "--by", "fin", "--approve"), "may not")
    ok(cli("merchant", "goods", "review", "3101", "--by", "biz", "--approve"))
