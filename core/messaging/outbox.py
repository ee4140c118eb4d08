"""Outbound messages (DESIGN.md §10): written in the same transaction as the change they
report, sent later by the drain loop. A message is identified by its idempotency key,
so the same notice can never be queued twice.

Marketing messages to an opted-out subscriber are recorded as ``suppressed`` and
never sent; service messages (OTPs, vouchers, order notices) always go.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import Connection, bindparam, func, or_, select, update

from core.messaging.transport import OutboundMessage
from core.platform.codes import Keyring, SealError, mask
from core.platform.prepared import Prepared
from core.platform.schema import OUTBOX_STATUSES, delivery_report, outbox, subscriber
from core.platform.sql import for_update, insert_ignoring

KINDS = ("service", "marketing")
SEAL = "outbox"
"""The purpose messages are sealed under (``Keyring.seal``)."""

_OPTED_OUT = Prepared(
    select(subscriber.c.id, subscriber.c.opted_out).where(subscriber.c.msisdn == bindparam("m"))
)


def enqueue(
    conn: Connection,
    *,
    key: str,
    recipient: str,
    text: str,
    now: int,
    kind: str = "service",
    channel: str = "sms",
    attachment: str | None = None,
    secrets: Sequence[str] = (),
    keyring: Keyring | None = None,
) -> bool:
    """Queue ``text`` for ``recipient``; False if a message with ``key`` was queued before.

    ``attachment`` names what goes with it (``qr:<token>``: a voucher QR code, drawn when
    sent); only the Telegram sender uses it. ``secrets`` (a code, a password) never rest
    in clear (issue 13 §1): the whole message is sealed under ``keyring`` (required then)
    into ``sealed`` and ``text`` keeps it with the secrets masked; an attachment is kept
    as its kind only (``qr``). The drain opens it to send; once the provider accepted
    the message it is wiped."""
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    sealed: str | None = None
    if secrets or (attachment is not None and ":" in attachment):
        if keyring is None:
            raise ValueError("a message carrying secrets needs the keyring to seal them")
        sealed = keyring.seal(SEAL, json.dumps({"text": text, "attachment": attachment}))
        text = mask(text, secrets)
        attachment = None if attachment is None else attachment.split(":", 1)[0]
    subscriber_id: int | None = None
    status = "pending"
    if channel == "sms":
        row = _OPTED_OUT.first(conn, m=recipient)
        if row is not None:
            subscriber_id = int(row[0])
            if kind == "marketing" and bool(row[1]):
                status = "suppressed"
    inserted = conn.execute(
        insert_ignoring(conn, outbox, "idempotency_key")
        .values(
            idempotency_key=key,
            channel=channel,
            recipient=recipient,
            subscriber_id=subscriber_id,
            kind=kind,
            text=text,
            status=status,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            attachment=attachment,
            sealed=sealed,
        )
        .returning(outbox.c.id)
    ).scalar_one_or_none()
    return inserted is not None


# ------------------------------------------------------------------ the drain's side
#
# Life of a message: pending → sending (claimed, attempts + 1) → sent (the provider
# took it) → delivered | failed (delivery reports). From sending it may also go back
# to pending (a retryable error, after a back-off), to dead (out of attempts, or the
# outcome is unknown) or to failed (the provider refused it for good).
#
# At most once: a row is claimed (status ``sending``, committed) *before* the
# provider is called, and marked ``sent`` in the next write after it answers. A
# process that dies between the two leaves the row in ``sending``; once its lease
# has run out ``recover_stale`` moves it to ``dead`` with "outcome unknown" instead
# of sending it again. Only what is in flight at that moment can be caught like
# this (the drain claims no more rows than it may send right now), and a delivery
# report still settles it: Kannel's carries our id in ``dlr-url``, Twilio's our id
# in the ``status_callback`` query, so a report moves such a row to sent or
# delivered even though the provider's answer was lost.

SENDING, PENDING, SENT, DEAD, FAILED = "sending", "pending", "sent", "dead", "failed"
UNKNOWN_OUTCOME = "outcome unknown"
UNSEALED = "its secrets were sealed under a root key no longer held"
_REPORT_BEFORE: dict[str, tuple[str, ...]] = {
    "sent": ("pending", "sending", "dead"),
    "delivered": ("pending", "sending", "dead", "sent"),
    "failed": ("pending", "sending", "dead", "sent"),
}
ERROR_LIMIT = 200


def _error(text: str) -> str:
    return text[:ERROR_LIMIT]


def claim(
    conn: Connection,
    *,
    channel: str,
    now: int,
    limit: int,
    lease: int,
    keyring: Keyring | None = None,
) -> list[OutboundMessage]:
    """Take up to ``limit`` due messages for sending; suppress marketing to opted-out numbers.

    On PostgreSQL the rows are locked with ``FOR UPDATE SKIP LOCKED``, so several
    drains share the queue without waiting on or sending each other's rows; SQLite
    has one writer, so its claim is already exclusive. A sealed message is opened with
    ``keyring``; one that does not open (sealed under a key no longer held) fails.
    """
    if limit <= 0:
        return []
    query = (
        select(outbox.c.id, outbox.c.kind, subscriber.c.opted_out)
        .select_from(outbox.outerjoin(subscriber, subscriber.c.msisdn == outbox.c.recipient))
        .where(
            outbox.c.status == PENDING,
            outbox.c.channel == channel,
            outbox.c.next_attempt_at <= now,
        )
        .order_by(outbox.c.next_attempt_at, outbox.c.id)
        .limit(limit)
    )
    if for_update(conn):
        query = query.with_for_update(skip_locked=True, of=outbox)
    rows = conn.execute(query).all()
    suppressed = [r.id for r in rows if r.kind == "marketing" and bool(r.opted_out)]
    due = [r.id for r in rows if r.id not in set(suppressed)]
    if suppressed:
        conn.execute(update(outbox).where(outbox.c.id.in_(suppressed)).values(status="suppressed"))
    if not due:
        return []
    claimed = conn.execute(
        update(outbox)
        .where(outbox.c.id.in_(due))
        .values(status=SENDING, attempts=outbox.c.attempts + 1, next_attempt_at=now + lease)
        .returning(
            outbox.c.id,
            outbox.c.idempotency_key,
            outbox.c.recipient,
            outbox.c.text,
            outbox.c.kind,
            outbox.c.attempts,
            outbox.c.attachment,
            outbox.c.sealed,
        )
    ).all()
    messages = []
    for r in claimed:
        message = OutboundMessage(int(r[0]), r[1], r[2], r[3], r[4], int(r[5]), r[6])
        if r[7] is not None:
            opened = _opened(message, r[7], keyring)
            if opened is None:
                conn.execute(
                    update(outbox)
                    .where(outbox.c.id == message.id)
                    .values(status=FAILED, last_error=UNSEALED)
                )
                continue
            message = opened
        messages.append(message)
    messages.sort(key=lambda m: m.id)
    return messages


def _opened(
    message: OutboundMessage, sealed: str, keyring: Keyring | None
) -> OutboundMessage | None:
    if keyring is None:
        raise ValueError("claiming sealed messages needs the keyring")
    try:
        whole = json.loads(keyring.unseal(SEAL, sealed))
    except SealError:
        return None
    return replace(
        message, text=whole["text"], attachment=whole["attachment"], redacted=message.text
    )


_MARK_SENT = Prepared(
    update(outbox)
    .where(
        outbox.c.id == bindparam("mid"),
        or_(outbox.c.status == bindparam("sending"), outbox.c.status == bindparam("dead")),
    )
    .values(
        status=bindparam("sent"),
        sent_at=bindparam("now"),
        provider_id=bindparam("pid"),
        last_error=None,
    )
)
_NOTE_SENT = Prepared(
    update(outbox)
    .where(outbox.c.id == bindparam("mid"), outbox.c.sent_at.is_(None))
    .values(sent_at=bindparam("now"), provider_id=bindparam("pid"))
)

SENT_ATTACHMENT = "(sent with its attachment; the text is not kept)"
_FORGET_ATTACHMENT = Prepared(
    update(outbox)
    .where(outbox.c.id == bindparam("mid"), outbox.c.attachment.is_not(None))
    .values(attachment=None, text=bindparam("text"))
)
"""A voucher's QR token and password are kept only until the message is sent."""


_FORGET_SEALED = Prepared(
    update(outbox)
    .where(outbox.c.id == bindparam("mid"), outbox.c.sealed.is_not(None))
    .values(sealed=None)
)
"""The provider has the message: its secrets are no longer kept, not even sealed."""


def mark_sent(conn: Connection, message_id: int, *, provider_id: str | None, now: int) -> None:
    """The provider took the message. A delivery report that came first is not undone."""
    moved = _MARK_SENT.run(
        conn, mid=message_id, sending=SENDING, dead=DEAD, sent=SENT, now=now, pid=provider_id
    )
    if not moved:
        _NOTE_SENT.run(conn, mid=message_id, now=now, pid=provider_id)
    _FORGET_ATTACHMENT.run(conn, mid=message_id, text=SENT_ATTACHMENT)
    _FORGET_SEALED.run(conn, mid=message_id)


def mark_retry(
    conn: Connection, message_id: int, *, now: int, delay: int, error: str, max_attempts: int
) -> str:
    """Put the message back for another try after ``delay``, or to dead when out of tries."""
    row = conn.execute(
        select(outbox.c.attempts, outbox.c.status).where(outbox.c.id == message_id)
    ).one()
    if row.status != SENDING:
        return str(row.status)
    status = DEAD if row.attempts >= max_attempts else PENDING
    conn.execute(
        update(outbox)
        .where(outbox.c.id == message_id, outbox.c.status == SENDING)
        .values(status=status, next_attempt_at=now + delay, last_error=_error(error))
    )
    return status


def mark_rejected(conn: Connection, message_id: int, *, error: str, opted_out: bool) -> None:
    """The provider refused the message for good; an opt-out at the carrier is remembered."""
    conn.execute(
        update(outbox)
        .where(outbox.c.id == message_id, outbox.c.status == SENDING)
        .values(status=FAILED, last_error=_error(error))
    )
    if opted_out:
        _opt_out(conn, message_id)


def mark_unknown(conn: Connection, message_id: int, *, error: str) -> None:
    """The provider may or may not have the message: never resent without an operator."""
    conn.execute(
        update(outbox)
        .where(outbox.c.id == message_id, outbox.c.status == SENDING)
        .values(status=DEAD, last_error=_error(f"{UNKNOWN_OUTCOME}: {error}"))
    )


def recover_stale(conn: Connection, *, channel: str, now: int) -> int:
    """Rows left in ``sending`` past their lease (the process died mid-send) become dead."""
    return int(
        conn.execute(
            update(outbox)
            .where(
                outbox.c.status == SENDING,
                outbox.c.channel == channel,
                outbox.c.next_attempt_at <= now,
            )
            .values(status=DEAD, last_error=f"{UNKNOWN_OUTCOME}: the drain stopped while sending")
        ).rowcount
    )


def _opt_out(conn: Connection, message_id: int) -> None:
    recipient = select(outbox.c.recipient).where(outbox.c.id == message_id).scalar_subquery()
    conn.execute(update(subscriber).where(subscriber.c.msisdn == recipient).values(opted_out=True))


@dataclass(frozen=True)
class Report:
    """One delivery report, already mapped to our states (sent, delivered, failed)."""

    provider: str
    code: str
    state: str
    part: int = 0
    parts: int = 1
    error_code: str | None = None
    opted_out: bool = False


def find_by_provider_id(conn: Connection, provider_id: str) -> int | None:
    found = conn.execute(
        select(outbox.c.id).where(outbox.c.provider_id == provider_id)
    ).scalar_one_or_none()
    return int(found) if found is not None else None


def record_report(conn: Connection, message_id: int, report: Report, *, now: int) -> str | None:
    """Store a delivery report once and move the message forward, never back.

    Returns the message's status afterwards, or None when the message is unknown.
    A duplicate report (same message, part and code) changes nothing. A message in
    several parts is delivered when every part is.
    """
    if report.state not in _REPORT_BEFORE:
        raise ValueError(f"unknown delivery state {report.state!r}")
    current = conn.execute(
        select(outbox.c.status).where(outbox.c.id == message_id)
    ).scalar_one_or_none()
    if current is None:
        return None
    inserted = conn.execute(
        insert_ignoring(conn, delivery_report, "outbox_id", "part", "code")
        .values(
            outbox_id=message_id,
            provider=report.provider,
            part=report.part,
            code=report.code[:16],
            state=report.state,
            error_code=report.error_code,
            received_at=now,
        )
        .returning(delivery_report.c.id)
    ).scalar_one_or_none()
    if inserted is None:
        return str(current)
    target = report.state
    if target == "delivered" and report.parts > 1:
        done = conn.execute(
            select(func.count(func.distinct(delivery_report.c.part))).where(
                delivery_report.c.outbox_id == message_id,
                delivery_report.c.state == "delivered",
            )
        ).scalar_one()
        if int(done) < report.parts:
            target = SENT
    conn.execute(
        update(outbox)
        .where(outbox.c.id == message_id, outbox.c.status.in_(_REPORT_BEFORE[target]))
        .values(status=target, sent_at=func.coalesce(outbox.c.sent_at, now))
    )
    if target != FAILED:  # the provider has it
        _FORGET_SEALED.run(conn, mid=message_id)
    if report.opted_out:
        _opt_out(conn, message_id)
    return str(conn.execute(select(outbox.c.status).where(outbox.c.id == message_id)).scalar_one())


def status_counts(conn: Connection) -> dict[str, int]:
    rows = conn.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status)).all()
    counts = dict.fromkeys(OUTBOX_STATUSES, 0)
    counts.update({str(status): int(n) for status, n in rows})
    return counts


def oldest_due(conn: Connection) -> int | None:
    """``next_attempt_at`` of the oldest pending message, or None when nothing waits."""
    found = conn.execute(
        select(func.min(outbox.c.next_attempt_at)).where(outbox.c.status == PENDING)
    ).scalar_one()
    return int(found) if found is not None else None


def requeue(
    conn: Connection, *, now: int, ids: Sequence[int] = (), status: str | None = None
) -> int:
    """Send dead (or failed) messages again from a fresh count of attempts; return how many."""
    allowed = (DEAD, FAILED)
    if status is not None and status not in allowed:
        raise ValueError(f"only {' or '.join(allowed)} messages can be retried")
    query = update(outbox).where(outbox.c.status.in_((status,) if status else allowed))
    if ids:
        query = query.where(outbox.c.id.in_(list(ids)))
    elif status is None:
        raise ValueError("name the messages or a status to retry")
    return int(
        conn.execute(
            query.values(status=PENDING, attempts=0, next_attempt_at=now, last_error=None)
        ).rowcount
    )
