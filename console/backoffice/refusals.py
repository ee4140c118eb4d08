"""Domain errors → the back office's answer: one table, looked up along the error's MRO.

A refusal is shown on the page it came from, in the reader's language, worded by the
error's ``reason_code`` (``err_<code>`` in ``console.backoffice.words``) and filled from its
attributes; a code without words of its own is shown as ``err_error`` with the English
diagnostic, so a new error is never a 500.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.backoffice.errors import (
    ChangeNotPending,
    NamedAdminNeeded,
    NotIndependent,
    NotPermitted,
    SelfChange,
    StaffDisabled,
    UnknownStaff,
)
from core.catalogue.errors import ItemCodeTaken, UnknownItem
from core.feedback.errors import UnknownMessage, UnknownQuestion
from core.merchants.errors import ApplicationNotPending, UnknownApplication, UnknownMerchant
from core.orders.errors import CannotCancel, IllegalTransition, UnknownOrder
from core.platform.errors import AlreadyExists, DomainError, NotFound
from core.points.errors import AdjustmentNotPending, InsufficientPoints, NoAccount, SameStaff
from core.recharge.errors import TopupFinished, UnknownTopup
from core.settlement.errors import IllegalStatementMove, UnknownStatement
from core.subscribers.errors import UnknownSubscriber

STATUSES: dict[type[DomainError], int] = {
    NotFound: 404,
    UnknownSubscriber: 404,
    NoAccount: 404,
    UnknownItem: 404,
    UnknownOrder: 404,
    UnknownApplication: 404,
    UnknownMerchant: 404,
    UnknownStatement: 404,
    UnknownMessage: 404,
    UnknownQuestion: 404,
    UnknownTopup: 404,
    AlreadyExists: 409,
    ItemCodeTaken: 409,
    AdjustmentNotPending: 409,
    ApplicationNotPending: 409,
    IllegalTransition: 409,
    CannotCancel: 409,
    TopupFinished: 409,
    IllegalStatementMove: 409,
    InsufficientPoints: 409,
    SameStaff: 403,
    NotIndependent: 403,
    NotPermitted: 403,
    StaffDisabled: 403,
    SelfChange: 403,
    UnknownStaff: 404,
    ChangeNotPending: 409,
    NamedAdminNeeded: 409,
    DomainError: 422,
}


@dataclass(frozen=True)
class Refusal:
    """How a page shows a refused action: the HTTP status, the words key and its arguments."""

    status: int
    key: str
    args: dict[str, object]


def refusal(exc: DomainError, known: frozenset[str]) -> Refusal:
    """The refusal for ``exc``; ``known`` are the words keys that exist."""
    status = 422
    for cls in type(exc).__mro__:
        if cls in STATUSES:
            status = STATUSES[cls]
            break
    args: dict[str, object] = {
        k: v for k, v in vars(exc).items() if not k.startswith("_") and k != "reason_code"
    }
    args["detail"] = str(exc)
    key = f"err_{exc.reason_code}"
    return Refusal(status, key if key in known else "err_error", args)
