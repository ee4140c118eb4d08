"""Merchant admission (§3.5.5): submitted → first_review → final_review → approved | rejected.

A business admin gives the first review, an admin the final one; either may
reject with a reason. The applicant is told by SMS at each step and every
decision is audited. Approval creates the merchant (status ``approved``, the only
status whose items may be published) with the applicant as its owner.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, select, update

from core.merchants import merchants
from core.merchants import texts as merchant_texts
from core.merchants.errors import ApplicationNotPending, UnknownApplication
from core.messaging import outbox
from core.platform import audit
from core.platform.schema import merchant, merchant_application
from core.subscribers.subscribers import default_lang

TRANSITIONS: dict[str, frozenset[str]] = {
    "submitted": frozenset({"first_review", "final_review", "rejected"}),
    "first_review": frozenset({"final_review", "rejected"}),
    "final_review": frozenset({"approved", "rejected"}),
    "approved": frozenset(),
    "rejected": frozenset(),
}


@dataclass(frozen=True)
class Application:
    id: int
    code: str
    name_zh: str
    name_en: str
    applicant: str
    status: str
    merchant_id: int | None
    first_reviewer: str | None = None
    """Who passed (or took up) the first review; the final reviewer must be someone else."""


def find(conn: Connection, application_id: int) -> Application:
    row = conn.execute(
        select(
            merchant_application.c.id,
            merchant_application.c.code,
            merchant_application.c.name_zh,
            merchant_application.c.name_en,
            merchant_application.c.applicant_msisdn,
            merchant_application.c.status,
            merchant_application.c.merchant_id,
            merchant_application.c.first_reviewer,
        ).where(merchant_application.c.id == application_id)
    ).first()
    if row is None:
        raise UnknownApplication(application_id)
    return Application(int(row[0]), *row[1:6], None if row[6] is None else int(row[6]), row[7])


def _tell(conn: Connection, app: Application, key: str, now: int, **args: str) -> None:
    lang = default_lang(app.applicant)
    outbox.enqueue(
        conn,
        key=f"application:{app.id}:{key}",
        recipient=app.applicant,
        text=merchant_texts.notice(
            lang, f"application_{key}", app=str(app.id), code=app.code, **args
        ),
        now=now,
    )


def apply(
    conn: Connection, *, code: str, name_zh: str, name_en: str, applicant: str, now: int
) -> Application:
    """File an application for merchant ``code``; the applicant's phone is E.164."""
    taken = conn.execute(select(merchant.c.id).where(merchant.c.code == code)).first()
    if taken is not None:
        raise ValueError(f"merchant code {code} is taken")
    new_id = conn.execute(
        merchant_application.insert()
        .values(
            code=code,
            name_zh=name_zh,
            name_en=name_en,
            applicant_msisdn=applicant,
            status="submitted",
            submitted_at=now,
            updated_at=now,
        )
        .returning(merchant_application.c.id)
    ).scalar_one()
    app = find(conn, int(new_id))
    audit.record(
        conn,
        actor_kind="subscriber",
        actor=applicant,
        action="application_submit",
        subject=f"application:{app.id}",
        result="submitted",
        now=now,
        details={"code": code},
    )
    _tell(conn, app, "submitted", now)
    return app


def _move(
    conn: Connection,
    application_id: int,
    wanted: str,
    reviewer: str,
    reason: str,
    now: int,
    *,
    final: bool,
) -> Application:
    app = find(conn, application_id)
    if wanted not in TRANSITIONS[app.status]:
        raise ApplicationNotPending(application_id, app.status, wanted)
    who = ("final_reviewer", "final_reason") if final else ("first_reviewer", "first_reason")
    changed = conn.execute(
        update(merchant_application)
        .where(
            and_(
                merchant_application.c.id == application_id,
                merchant_application.c.status == app.status,
            )
        )
        .values({who[0]: reviewer[:64], who[1]: reason[:200], "status": wanted, "updated_at": now})
    ).rowcount
    if changed != 1:
        raise ApplicationNotPending(application_id, find(conn, application_id).status, wanted)
    audit.record(
        conn,
        actor_kind="operator",
        actor=reviewer,
        action="application_review",
        subject=f"application:{application_id}",
        result=wanted,
        now=now,
        details={"from": app.status, "reason": reason[:200]},
    )
    return find(conn, application_id)


def start_first_review(conn: Connection, application_id: int, reviewer: str, now: int) -> None:
    """A business admin takes the application up for first review."""
    app = _move(conn, application_id, "first_review", reviewer, "", now, final=False)
    _tell(conn, app, "first_review", now)


def pass_first_review(
    conn: Connection, application_id: int, reviewer: str, reason: str, now: int
) -> None:
    """A business admin passes the first review: the application goes to final review."""
    app = _move(conn, application_id, "final_review", reviewer, reason, now, final=False)
    _tell(conn, app, "final_review", now)


def approve(conn: Connection, application_id: int, reviewer: str, reason: str, now: int) -> int:
    """An admin approves: the merchant is created (approved) with the applicant as owner."""
    app = _move(conn, application_id, "approved", reviewer, reason, now, final=True)
    merchant_id = merchants.upsert(conn, app.code, app.name_zh, app.name_en, now, "approved")
    conn.execute(update(merchant).where(merchant.c.id == merchant_id).values(status="approved"))
    conn.execute(
        update(merchant_application)
        .where(merchant_application.c.id == application_id)
        .values(merchant_id=merchant_id)
    )
    merchants.add_staff(conn, app.code, app.applicant, "owner", reviewer, now)
    _tell(conn, app, "approved", now)
    return merchant_id


def reject(conn: Connection, application_id: int, reviewer: str, reason: str, now: int) -> None:
    """Reject at either review, with the reason the applicant is told."""
    pending = find(conn, application_id)
    final = pending.status == "final_review"
    app = _move(conn, application_id, "rejected", reviewer, reason, now, final=final)
    _tell(conn, app, "rejected", now, reason=reason[:60])


def listing(
    conn: Connection, *, status: str | None = None, offset: int = 0, limit: int = 50
) -> list[Application]:
    query = select(merchant_application.c.id).order_by(merchant_application.c.id.desc())
    if status is not None:
        query = query.where(merchant_application.c.status == status)
    ids = conn.execute(query.offset(offset).limit(limit)).scalars().all()
    return [find(conn, int(i)) for i in ids]
