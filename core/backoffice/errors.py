"""Domain errors of backoffice: each carries the data a channel needs to word it."""

from __future__ import annotations

from core.platform.errors import DomainError, Invalid


class UnknownRole(Invalid):
    reason_code = "unknown_role"

    def __init__(self, role: str) -> None:
        super().__init__("role", f"unknown role {role!r}")
        self.role = role


class UnknownStaff(DomainError):
    """No operator staff member has this name (the CLI's ``--by``, a change's target)."""

    reason_code = "unknown_staff"

    def __init__(self, name: str) -> None:
        super().__init__(f"no staff member {name!r}")
        self.name = name


class StaffDisabled(DomainError):
    """The member exists but is disabled (or still waits for a second admin)."""

    reason_code = "staff_disabled"

    def __init__(self, name: str) -> None:
        super().__init__(f"staff member {name!r} is not active")
        self.name = name


class NotPermitted(DomainError):
    """The member's role may not do this duty (``core.backoffice.duties.DUTIES``)."""

    reason_code = "not_permitted"

    def __init__(self, name: str, role: str, duty: str) -> None:
        super().__init__(f"{name} ({role}) may not {duty.replace('_', ' ')}")
        self.name = name
        self.role = role
        self.duty = duty


class NotIndependent(DomainError):
    """Separation of duties (issue 13 §3): ``approver`` may not decide what ``proposer``
    asked for. ``why`` names the rule: see the subclasses."""

    reason_code = "not_independent"
    why = "not_independent"

    def __init__(self, subject: str, approver: str, proposer: str) -> None:
        rule = self.why.replace("_", " ")
        super().__init__(f"{approver} may not decide {subject} proposed by {proposer}: {rule}")
        self.subject = subject
        self.approver = approver
        self.proposer = proposer


class SamePerson(NotIndependent):
    """Whoever asked for it cannot also approve it."""

    reason_code = "same_person"
    why = "same_person"


class JoinedAfter(NotIndependent):
    """The approver was created, re-enabled or given a role after the proposal."""

    reason_code = "joined_after"
    why = "joined_after"


class AppointedByProposer(NotIndependent):
    """The proposer created, re-enabled or gave a role to the approver."""

    reason_code = "appointed_by_proposer"
    why = "appointed_by_proposer"


class SelfChange(DomainError):
    """Nobody creates, promotes, re-enables or disables themselves."""

    reason_code = "self_change"

    def __init__(self, name: str) -> None:
        super().__init__(f"{name} cannot change their own staff record")
        self.name = name


class ChangeNotPending(DomainError):
    reason_code = "staff_change_not_pending"

    def __init__(self, change_id: int, status: str) -> None:
        super().__init__(f"staff change {change_id} is {status}, not pending")
        self.change_id = change_id
        self.status = status


class NamedAdminNeeded(DomainError):
    """A staff change without a named admin is only for setting up the first two admins."""

    reason_code = "named_admin_needed"

    def __init__(self, admins: int) -> None:
        super().__init__(
            f"{admins} active admins exist: name one with --by (an unnamed change only sets "
            "up the first two admins)"
        )
        self.admins = admins
