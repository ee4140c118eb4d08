"""One-time codes sent by SMS: one service for every flow that proves a phone by a code.

The flows (§2.2.12 redeem confirm and chat checkout, §2.2.8 Telegram login,
§3.4.3 merchant console login, §3.6.3 setting the points passwords) share one rule,
DESIGN §5 "OTP": a code of ``OTP_DIGITS`` random digits; only its keyed hash
(HMAC-SHA256 under the flow's purpose's subkey of the current root key, bound to what
the code is for) is stored; it lives ``lifetime_seconds``; ``tries`` wrong guesses
end it; the right code is accepted once. What differs between flows is data
(``OtpFlow``): the table that holds the challenge, lifetime, tries, how soon and
how often a new code may be sent, and whether a used challenge is kept or deleted.

The service never sends anything and never raises for a wrong guess: ``issue``
returns the code for the caller to queue by SMS in the same unit of work, and
``check`` returns a ``Check`` so that a wrong try is counted in the caller's
transaction rather than rolled back with an exception.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, Row, Table, and_, delete, func, select, update

from core.platform.codes import OTP_DIGITS, Keyring, digits
from core.platform.schema import chat_login, otp, password_otp, staff_login

HOUR = 3600

Verdict = Literal["accepted", "wrong", "exhausted", "expired", "none"]
"""``accepted``: right and now used; ``wrong``: counted, tries left; ``exhausted``: that
was the last try; ``expired``: past its lifetime; ``none``: no live code."""


@dataclass(frozen=True)
class OtpFlow:
    """How one flow keeps its codes. Times in seconds; 0 means no limit of that kind."""

    purpose: str
    """Binds the keyed hash to this flow, so a code of one flow never verifies in another."""
    table: Table
    """Holds ``code_hash``, ``expires_at``, ``attempts`` and, where used rows are kept,
    ``used_at``; ``sent_at`` where sends are limited."""
    lifetime_seconds: int = 5 * 60
    tries: int = 5
    resend_seconds: int = 0
    """No new code sooner than this after the last one (a guard against SMS bombing)."""
    sends_per_hour: int = 0
    replace_by: Literal["use", "delete"] = "use"
    """How a new code retires the old: ``use`` keeps the row (sends are counted from
    the rows), ``delete`` makes room where the challenge's key is the primary key."""

    @property
    def keep_used(self) -> bool:
        """A table with ``used_at`` keeps accepted challenges; one without deletes them."""
        return "used_at" in self.table.c

    @property
    def used(self) -> Any:
        return self.table.c.used_at


@dataclass(frozen=True)
class Check:
    verdict: Verdict
    tries_left: int = 0
    challenge: Row[Any] | None = field(default=None, compare=False)
    """The challenge row the code was checked against (its flow-specific columns)."""


ORDER_CONFIRM = OtpFlow("otp", otp)
"""Confirms a points redemption by SMS, or every order of one chat checkout (§2.2.12)."""
CHAT_LOGIN = OtpFlow("chat-login", chat_login, resend_seconds=60, replace_by="delete")
"""Binds a Telegram chat to the number the code was sent to (§2.2.8)."""
CONSOLE_LOGIN = OtpFlow("console-login", staff_login)
"""Logs merchant staff in to the self-service console (§3.4.3); its sends are capped per
number for staff and non-staff alike (``core.merchants.console_login.CODES_PER_PHONE``)."""
POINTS_PASSWORD = OtpFlow("password-otp", password_otp, replace_by="delete")
"""Allows setting the points password and second password by SMS (§3.6.3, ``MM``)."""

FLOWS = (ORDER_CONFIRM, CHAT_LOGIN, CONSOLE_LOGIN, POINTS_PASSWORD)


def may_send(conn: Connection, flow: OtpFlow, where: ColumnElement[bool], now: int) -> bool:
    """Whether a new code may go out now: none sent within ``resend_seconds`` and fewer
    than ``sends_per_hour`` in the last hour to the challenges ``where`` selects."""
    if not flow.resend_seconds and not flow.sends_per_hour:
        return True
    sent_at = flow.table.c.sent_at
    count, last = conn.execute(
        select(func.count(), func.max(sent_at)).where(and_(where, sent_at > now - HOUR))
    ).one()
    if flow.sends_per_hour and int(count) >= flow.sends_per_hour:
        return False
    return not (flow.resend_seconds and last is not None and int(last) > now - flow.resend_seconds)


def issue(
    conn: Connection,
    flow: OtpFlow,
    *,
    replaces: ColumnElement[bool] | None,
    challenges: Sequence[tuple[Mapping[str, object], Sequence[str]]],
    now: int,
    keyring: Keyring,
) -> str:
    """Store one new code for ``challenges`` and return it, to be sent once and forgotten.

    Each challenge is ``(row values, binding)``: the row is inserted with the keyed
    hash of ``(flow.purpose, *binding, code)``, ``expires_at`` and no tries. One code
    may stand for several rows (a chat checkout: one per order, tries counted on all).
    Live challenges ``replaces`` selects stop working first (used or deleted).
    """
    code = digits(OTP_DIGITS)
    if replaces is not None and flow.replace_by == "delete":
        conn.execute(delete(flow.table).where(replaces))
    elif replaces is not None:
        _retire(conn, flow, replaces, now)
    extra = {"sent_at": now} if "sent_at" in flow.table.c else {}
    for values, binding in challenges:
        conn.execute(
            flow.table.insert().values(
                **values,
                **extra,
                code_hash=keyring.digest(flow.purpose, *binding, code),
                expires_at=now + flow.lifetime_seconds,
                attempts=0,
            )
        )
    return code


def check(
    conn: Connection,
    flow: OtpFlow,
    *,
    where: ColumnElement[bool],
    binding: Callable[[Row[Any]], Sequence[str]],
    code: str,
    now: int,
    keyring: Keyring,
) -> Check:
    """Check ``code`` against the live challenge(s) ``where`` selects, once.

    ``binding`` gives, from the first challenge row, what its hash was bound to at
    ``issue``. A wrong code counts a try on every selected challenge; the right one
    uses them all (a concurrent request that used them first gets ``none``).
    """
    live = and_(where, flow.used.is_(None)) if flow.keep_used else where
    rows = conn.execute(select(flow.table).where(live).order_by(*flow.table.primary_key)).all()
    if not rows:
        return Check("none")
    first = rows[0]
    if int(first.attempts) >= flow.tries:
        return Check("none", challenge=first)
    if now >= int(first.expires_at):
        return Check("expired", challenge=first)
    if not keyring.matches(first.code_hash, flow.purpose, *binding(first), code):
        tried = conn.execute(
            update(flow.table)
            .where(live)
            .values(attempts=flow.table.c.attempts + 1)
            .returning(flow.table.c.attempts)
        ).all()
        tries = max((int(r[0]) for r in tried), default=flow.tries)
        if tries >= flow.tries:
            return Check("exhausted", challenge=first)
        return Check("wrong", flow.tries - tries, challenge=first)
    if _retire(conn, flow, live, now) != len(rows):
        return Check("none", challenge=first)
    return Check("accepted", challenge=first)


def live(conn: Connection, flow: OtpFlow, where: ColumnElement[bool], now: int) -> Row[Any] | None:
    """The first challenge ``where`` selects that a right code would still open, if any."""
    return conn.execute(
        select(flow.table)
        .where(_opens(flow, where, now))
        .order_by(*flow.table.primary_key)
        .limit(1)
    ).first()


def _opens(flow: OtpFlow, where: ColumnElement[bool], now: int) -> ColumnElement[bool]:
    """``where``, narrowed to challenges a right code would still open at ``now``."""
    if flow.keep_used:
        where = and_(where, flow.used.is_(None))
    return and_(where, flow.table.c.expires_at > now, flow.table.c.attempts < flow.tries)


def matching(
    conn: Connection,
    flow: OtpFlow,
    *,
    where: ColumnElement[bool],
    binding: Callable[[Row[Any]], Sequence[str]],
    code: str,
    now: int,
    keyring: Keyring,
    joined: tuple[Table, ColumnElement[bool], Sequence[ColumnElement[Any]]] | None = None,
) -> Row[Any] | None:
    """The live challenge among those ``where`` selects that ``code`` opens, if any.

    ``joined`` is ``(table, on, columns)``: the challenges are read joined to ``table``
    (``where`` may then name its columns) with ``columns`` added to each row, so that
    ``binding`` can use them without a second statement.

    Counts no try and uses nothing: it only tells which challenge a code belongs to
    (a subscriber with two orders waiting texts the code of either), so that ``check``
    is then run against that one.
    """
    query = select(flow.table)
    if joined is not None:
        other, on, columns = joined
        query = query.add_columns(*columns).select_from(flow.table.join(other, on))
    rows = conn.execute(
        query.where(_opens(flow, where, now)).order_by(*flow.table.primary_key)
    ).all()
    for row in rows:
        if keyring.matches(row.code_hash, flow.purpose, *binding(row), code):
            return row
    return None


def end(conn: Connection, flow: OtpFlow, where: ColumnElement[bool], now: int) -> None:
    """Make the live challenges ``where`` selects unusable (their order ended, say)."""
    _retire(conn, flow, where, now)


def _retire(conn: Connection, flow: OtpFlow, where: ColumnElement[bool], now: int) -> int:
    if flow.keep_used:
        done = conn.execute(
            update(flow.table).where(and_(where, flow.used.is_(None))).values(used_at=now)
        )
    else:
        done = conn.execute(delete(flow.table).where(where))
    return int(done.rowcount)
