"""Merchant staff log in to the self-service console with an SMS code (§3.4.3, §3.4.4).

Only an active staff phone of an approved merchant gets a code: 6 digits, stored
as a keyed hash, valid 5 minutes, 5 tries, single use, queued through the outbox
in the same transaction. Every send and every check is audited. Outcomes are
returned, not raised, so a wrong try is counted and audited in the caller's unit
of work.

Nothing tells an outsider who is staff (issue 13 §4): a request for any number is
counted against that number's caps (``CODES_PER_PHONE``: one a minute, five an hour,
ten a day, silently — a request over a cap sends nothing and answers the same), and a
number that is not staff gets a challenge too, whose code nobody is sent, so its
wrong tries and its end look exactly like a staff number's. A code is bound to the
browser session that asked for it (``session``, a random id kept in that session):
only that session can try it, and a new request retires only that session's code,
so nobody can spend or replace another person's code. Guesses against one number are
at most ten codes × five tries a day.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, Connection, and_, delete, select

from core.merchants import texts
from core.messaging import outbox
from core.platform import audit, otp, throttle
from core.platform.codes import Keyring
from core.platform.schema import merchant, merchant_staff, staff_login
from core.subscribers import subscribers
from core.subscribers.subscribers import default_lang

SendResult = Literal["sent", "not_staff", "too_soon"]
"""For the audit and the tests only: the page answers every one of them the same way."""
SESSION_PURPOSE = "console-login-session"
KEEP_SECONDS = 24 * 3600
"""Challenges older than this are dropped (any number may ask, so they must not pile up)."""
CODES_PER_PHONE = throttle.Limit(
    "console-code",
    (
        throttle.Cap(1, throttle.MINUTE),
        throttle.Cap(5, throttle.HOUR),
        throttle.Cap(10, throttle.DAY),
    ),
)
CheckResult = Literal["ok", "wrong", "dead", "none", "not_staff"]


@dataclass(frozen=True)
class StaffRole:
    merchant_id: int
    merchant_code: str
    name_zh: str
    name_en: str
    role: str

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh


@dataclass(frozen=True)
class LoginCheck:
    result: CheckResult
    tries_left: int = 0


def roles(conn: Connection, msisdn: str) -> list[StaffRole]:
    """The approved merchants ``msisdn`` is active staff of, with its role at each."""
    rows = conn.execute(
        select(
            merchant.c.id,
            merchant.c.code,
            merchant.c.name_zh,
            merchant.c.name_en,
            merchant_staff.c.role,
        )
        .select_from(merchant_staff.join(merchant, merchant.c.id == merchant_staff.c.merchant_id))
        .where(
            and_(
                merchant_staff.c.msisdn == msisdn,
                merchant_staff.c.active.is_(True),
                merchant.c.status == "approved",
            )
        )
        .order_by(merchant.c.id)
    ).all()
    return [StaffRole(int(r[0]), r[1], r[2], r[3], r[4]) for r in rows]


def role_at(conn: Connection, msisdn: str, merchant_id: int) -> StaffRole | None:
    """``msisdn``'s role at ``merchant_id`` if it is active staff there now."""
    return next((r for r in roles(conn, msisdn) if r.merchant_id == merchant_id), None)


def _audit(conn: Connection, msisdn: str, action: str, result: str, now: int) -> None:
    audit.record(
        conn,
        actor_kind="staff",
        actor=msisdn,
        action=action,
        subject=f"console:{msisdn}",
        result=result,
        now=now,
    )


def _mine(msisdn: str, session: str, keyring: Keyring) -> ColumnElement[bool]:
    """The challenges of ``msisdn`` asked for by browser session ``session``."""
    return and_(
        staff_login.c.msisdn == msisdn,
        staff_login.c.session_hash == keyring.digest(SESSION_PURPOSE, session),
    )


def send_code(
    conn: Connection,
    msisdn: str,
    now: int,
    keyring: Keyring,
    home_lang: str = "zh",
    *,
    session: str,
) -> SendResult:
    """Start a login for ``msisdn`` from browser session ``session`` (a random id the
    session keeps); a staff phone gets the code by SMS. Over ``CODES_PER_PHONE`` nothing
    happens (``too_soon``); for anyone else a challenge nobody is sent (``not_staff``).
    The caller answers all three alike."""
    if not throttle.allowed(conn, CODES_PER_PHONE, msisdn, now):
        _audit(conn, msisdn, "console_code", "too_soon", now)
        return "too_soon"
    throttle.record(conn, CODES_PER_PHONE, msisdn, now)
    conn.execute(delete(staff_login).where(staff_login.c.sent_at < now - KEEP_SECONDS))
    staff = bool(roles(conn, msisdn))
    code = otp.issue(
        conn,
        otp.CONSOLE_LOGIN,
        replaces=_mine(msisdn, session, keyring),
        challenges=[
            (
                {"msisdn": msisdn, "session_hash": keyring.digest(SESSION_PURPOSE, session)},
                (msisdn, session),
            )
        ],
        now=now,
        keyring=keyring,
    )
    if not staff:
        del code  # a challenge like any other, but its code goes to nobody
        _audit(conn, msisdn, "console_code", "not_staff", now)
        return "not_staff"
    known = subscribers.find(conn, msisdn)
    lang = known.lang if known else default_lang(msisdn, home_lang)
    outbox.enqueue(
        conn,
        key=f"console-login:{msisdn}:{now}",
        recipient=msisdn,
        text=texts.notice(lang, "console_code", code=code),
        now=now,
        secrets=(code,),
        keyring=keyring,
    )
    _audit(conn, msisdn, "console_code", "sent", now)
    return "sent"


def check_code(
    conn: Connection, msisdn: str, code: str, now: int, keyring: Keyring, *, session: str
) -> LoginCheck:
    """Use the live code sent to ``msisdn`` for browser session ``session`` if ``code`` is
    it (once); count a wrong try. A number that is not staff answers exactly like a staff
    number whose code was wrong, then dead."""
    checked = otp.check(
        conn,
        otp.CONSOLE_LOGIN,
        where=_mine(msisdn, session, keyring),
        binding=lambda _row: (msisdn, session),
        code=code,
        now=now,
        keyring=keyring,
    )
    if checked.verdict in ("none", "expired"):
        _audit(conn, msisdn, "console_login", "no_code", now)
        return LoginCheck("none")
    if checked.verdict != "accepted":
        _audit(conn, msisdn, "console_login", "wrong_code", now)
        if checked.verdict == "exhausted":
            return LoginCheck("dead")
        return LoginCheck("wrong", checked.tries_left)
    if not roles(conn, msisdn):
        _audit(conn, msisdn, "console_login", "not_staff", now)
        return LoginCheck("not_staff")
    _audit(conn, msisdn, "console_login", "ok", now)
    return LoginCheck("ok")
