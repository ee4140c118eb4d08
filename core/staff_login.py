"""Merchant staff log in to the self-service console with an SMS code (§3.4.3, §3.4.4).

Only an active staff phone of an approved merchant gets a code: 6 digits, stored
as a keyed hash, valid 5 minutes, 5 tries, single use, queued through the outbox
in the same transaction. Sends are rate-limited per phone (one a minute, five an
hour), so nobody can make the hall bomb a number. Every send and every check is
audited. Outcomes are returned, not raised, so a wrong try is counted and
audited in the caller's unit of work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection, and_, func, select, update

from core import audit, outbox, subscribers
from core.codes import OTP_DIGITS, Keyring, digits
from core.schema import merchant, merchant_staff, staff_login
from core.subscribers import default_lang

CODE_SECONDS = 5 * 60
CODE_TRIES = 5
RESEND_SECONDS = 60
HOUR = 3600
SENDS_PER_HOUR = 5
PURPOSE = "console-login"

LOGIN_SMS = {
    "zh": "您正在登录商户自助平台,验证码{code},5分钟内有效。如非本人操作请忽略。",
    "en": "Your merchant console login code is {code}, valid 5 minutes. "
    "If you did not ask for it, ignore this message.",
}

SendResult = Literal["sent", "not_staff", "too_soon"]
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


def send_code(
    conn: Connection, msisdn: str, now: int, keyring: Keyring, home_lang: str = "zh"
) -> SendResult:
    """Queue a login code by SMS to a staff phone; nothing for anyone else or too often."""
    if not roles(conn, msisdn):
        _audit(conn, msisdn, "console_code", "not_staff", now)
        return "not_staff"
    recent = conn.execute(
        select(func.count(), func.max(staff_login.c.sent_at)).where(
            and_(staff_login.c.msisdn == msisdn, staff_login.c.sent_at > now - HOUR)
        )
    ).one()
    count, last = int(recent[0]), recent[1]
    if count >= SENDS_PER_HOUR or (last is not None and int(last) > now - RESEND_SECONDS):
        _audit(conn, msisdn, "console_code", "too_soon", now)
        return "too_soon"
    code = digits(OTP_DIGITS)
    # A new code replaces any older one still live.
    conn.execute(
        update(staff_login)
        .where(and_(staff_login.c.msisdn == msisdn, staff_login.c.used_at.is_(None)))
        .values(used_at=now)
    )
    login_id = conn.execute(
        staff_login.insert()
        .values(
            msisdn=msisdn,
            code_hash="",
            sent_at=now,
            expires_at=now + CODE_SECONDS,
            attempts=0,
        )
        .returning(staff_login.c.id)
    ).scalar_one()
    conn.execute(
        update(staff_login)
        .where(staff_login.c.id == login_id)
        .values(code_hash=keyring.digest(PURPOSE, str(login_id), msisdn, code))
    )
    known = subscribers.find(conn, msisdn)
    lang = known.lang if known else default_lang(msisdn, home_lang)
    outbox.enqueue(
        conn,
        key=f"console-login:{login_id}",
        recipient=msisdn,
        text=LOGIN_SMS[lang].format(code=code),
        now=now,
    )
    _audit(conn, msisdn, "console_code", "sent", now)
    return "sent"


def check_code(conn: Connection, msisdn: str, code: str, now: int, keyring: Keyring) -> LoginCheck:
    """Use the live code sent to ``msisdn`` if ``code`` is it (once); count a wrong try."""
    row = conn.execute(
        select(
            staff_login.c.id,
            staff_login.c.code_hash,
            staff_login.c.expires_at,
            staff_login.c.attempts,
        )
        .where(and_(staff_login.c.msisdn == msisdn, staff_login.c.used_at.is_(None)))
        .order_by(staff_login.c.id.desc())
        .limit(1)
    ).first()
    if row is None or now >= int(row.expires_at) or int(row.attempts) >= CODE_TRIES:
        _audit(conn, msisdn, "console_login", "no_code", now)
        return LoginCheck("none")
    login_id = int(row.id)
    if not keyring.matches(row.code_hash, PURPOSE, str(login_id), msisdn, code):
        tried = conn.execute(
            update(staff_login)
            .where(and_(staff_login.c.id == login_id, staff_login.c.used_at.is_(None)))
            .values(attempts=staff_login.c.attempts + 1)
            .returning(staff_login.c.attempts)
        ).scalar_one_or_none()
        tries = CODE_TRIES if tried is None else int(tried)
        _audit(conn, msisdn, "console_login", "wrong_code", now)
        if tries >= CODE_TRIES:
            return LoginCheck("dead")
        return LoginCheck("wrong", CODE_TRIES - tries)
    used = conn.execute(
        update(staff_login)
        .where(and_(staff_login.c.id == login_id, staff_login.c.used_at.is_(None)))
        .values(used_at=now)
    ).rowcount
    if used != 1:  # used by a simultaneous request
        _audit(conn, msisdn, "console_login", "no_code", now)
        return LoginCheck("none")
    if not roles(conn, msisdn):
        _audit(conn, msisdn, "console_login", "not_staff", now)
        return LoginCheck("not_staff")
    _audit(conn, msisdn, "console_login", "ok", now)
    return LoginCheck("ok")
