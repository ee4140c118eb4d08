"""Merchant statements (§6.3): list by period and merchant, show, finance approve and pay."""

from __future__ import annotations

from api.admin.fields import code, integer, text
from api.admin.registry import ADMIN, FINANCE, Call, Route
from core.backoffice import decisions, duties
from core.settlement import settlement
from core.settlement.errors import UnknownStatement
from core.settlement.settlement import StatementView

READ = frozenset({FINANCE, ADMIN})
MOVE = duties.DUTIES[duties.STATEMENT_APPROVE] | duties.DUTIES[duties.STATEMENT_PAY]
ID = (integer("id", 1, 2**53 - 1),)
PERIOD = r"^20[0-9]{2}-(0[1-9]|1[0-2])$"  # years the calendar maths handles
FILTER = (text("period", 7, pattern=PERIOD, required=False), code("merchant", required=False))


async def list_statements(call: Call) -> list[StatementView]:
    """List statements, optionally of one period and/or merchant."""
    merchant = call.query.get("merchant")
    return await call.read(
        settlement.statements,
        period=call.query.get("period"),
        merchant_code=merchant.upper() if merchant else None,
    )


async def get_statement(call: Call) -> StatementView:
    """Show one statement."""
    found = await call.read(settlement.statement_by_id, statement_id=call.path["id"])
    if found is None:
        raise UnknownStatement(call.path["id"])
    return found


async def approve(call: Call) -> StatementView:
    """Finance approves a statement the merchant confirmed."""
    return await call.write(
        decisions.move_statement,
        member=call.staff,
        statement_id=call.path["id"],
        action="approve",
        now=call.now,
    )


async def pay(call: Call) -> StatementView:
    """Finance marks an approved statement paid."""
    return await call.write(
        decisions.move_statement,
        member=call.staff,
        statement_id=call.path["id"],
        action="pay",
        now=call.now,
    )


TAG = "statements"
ROUTES = (
    Route(
        "GET",
        "/statements",
        list_statements,
        READ,
        "list statements",
        TAG,
        list[StatementView],
        query=FILTER,
    ),
    Route(
        "GET", "/statements/{id}", get_statement, READ, "show a statement", TAG, StatementView, ID
    ),
    Route(
        "POST",
        "/statements/{id}/approve",
        approve,
        MOVE,
        "approve a statement",
        TAG,
        StatementView,
        ID,
    ),
    Route(
        "POST", "/statements/{id}/pay", pay, MOVE, "mark a statement paid", TAG, StatementView, ID
    ),
)
