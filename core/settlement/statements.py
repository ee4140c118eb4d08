"""The statement state machine (DESIGN §3 "statement"), as a table of moves.

``draft → confirmed`` (merchant) or ``draft → disputed`` (merchant, with a reason);
``disputed → confirmed`` once the merchant accepts it; ``confirmed → approved``
(finance); ``approved → paid`` (finance). Anything else raises
``IllegalStatementMove``. Each move is a conditional UPDATE from the state it was
read in, so two simultaneous moves cannot both win; each is audited.
"""

from __future__ import annotations

from sqlalchemy import Connection, and_, select, update

from core.merchants import console_login
from core.merchants.errors import NotOwner
from core.platform import audit
from core.platform.schema import (
    statement,
)
from core.settlement.errors import IllegalStatementMove, ReasonRequired, UnknownStatement
from core.settlement.settlement import StatementView, statement_by_id

MOVES: dict[str, dict[str, str]] = {
    "confirm": {"draft": "confirmed", "disputed": "confirmed"},
    "dispute": {"draft": "disputed"},
    "approve": {"confirmed": "approved"},
    "pay": {"approved": "paid"},
}
ACTIONS = tuple(MOVES)


def move(
    conn: Connection,
    statement_id: int,
    action: str,
    *,
    by: str,
    now: int,
    reason: str | None = None,
    by_kind: str = "operator",
) -> StatementView:
    """Apply ``action`` to statement ``statement_id``; the new view."""
    if action not in MOVES:
        raise ValueError(f"unknown statement action {action!r}")
    current = statement_by_id(conn, statement_id)
    if current is None:
        raise UnknownStatement(statement_id)
    target = MOVES[action].get(current.status)
    if target is None:
        raise IllegalStatementMove(statement_id, current.status, action)
    if action == "dispute" and not (reason and reason.strip()):
        raise ReasonRequired(statement_id)
    values: dict[str, object] = {"status": target, "updated_at": now, "updated_by": by[:64]}
    if action == "dispute":
        values["reason"] = (reason or "").strip()[:200]
    changed = conn.execute(
        update(statement)
        .where(and_(statement.c.id == statement_id, statement.c.status == current.status))
        .values(**values)
    ).rowcount
    if changed != 1:
        fresh = statement_by_id(conn, statement_id)
        raise IllegalStatementMove(statement_id, fresh.status if fresh else "?", action)
    audit.record(
        conn,
        actor_kind=by_kind,
        actor=by,
        action=f"statement_{action}",
        subject=f"statement:{statement_id}",
        result=target,
        now=now,
        details={"from": current.status, "reason": values.get("reason")},
    )
    done = statement_by_id(conn, statement_id)
    assert done is not None
    return done


MERCHANT_ACTIONS = ("confirm", "dispute")


def move_as_owner(
    conn: Connection,
    statement_id: int,
    action: str,
    *,
    msisdn: str,
    now: int,
    reason: str | None = None,
) -> StatementView:
    """The merchant's own decision on its statement (``confirm`` or ``dispute``, §6.3), made
    by ``msisdn``, which must be an active owner of the statement's merchant now (the
    console's rule, for the command line too; issue 13 §3). Raises ``UnknownStatement``,
    ``NotOwner``, and as ``move``."""
    if action not in MERCHANT_ACTIONS:
        raise ValueError(f"a merchant may only {' or '.join(MERCHANT_ACTIONS)}")
    current = statement_by_id(conn, statement_id)
    if current is None:
        raise UnknownStatement(statement_id)
    role = console_login.role_at(conn, msisdn, current.merchant_id)
    if role is None or role.role != "owner":
        raise NotOwner(msisdn, current.merchant_code)
    return move(conn, statement_id, action, by=msisdn, now=now, reason=reason, by_kind="staff")


def of_merchant(conn: Connection, merchant_id: int) -> list[StatementView]:
    ids = conn.execute(
        select(statement.c.id)
        .where(statement.c.merchant_id == merchant_id)
        .order_by(statement.c.period.desc())
    ).scalars()
    found = [statement_by_id(conn, int(i)) for i in ids]
    return [s for s in found if s is not None]


def one_of_merchant(conn: Connection, merchant_id: int, statement_id: int) -> StatementView | None:
    """The statement if it is this merchant's; None otherwise (as if it did not exist)."""
    found = statement_by_id(conn, statement_id)
    return found if found is not None and found.merchant_id == merchant_id else None
