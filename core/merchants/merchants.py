"""Merchant staff phones and POS terminals (§3.4.4), and who may act for which merchant.

A terminal's HMAC key is derived, not stored: an HMAC of ``(terminal id, version)`` under
the ``pos-terminal`` subkey of root key ``key_id`` (``Keyring.mac``). The terminal gets it
once, when it is added; the hall recomputes it to check a signature. Nothing in the
``terminal`` table is secret; adding it again bumps ``secret_version`` and moves it to the
current root key, which rotates the key.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, delete, select, update

from core.merchants.errors import MerchantNotApproved, NotStaffOf, UnknownMerchant
from core.platform import audit, naming, web_sessions
from core.platform.codes import Keyring
from core.platform.schema import (
    STAFF_ROLES,
    merchant,
    merchant_staff,
    pos_nonce,
    terminal,
)
from core.platform.sql import insert_ignoring


@dataclass(frozen=True)
class MerchantView:
    id: int
    code: str
    name_zh: str
    name_en: str
    status: str

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh


@dataclass(frozen=True)
class Actor:
    """Who is verifying: a staff phone, a terminal or a bot user, and the merchants it serves."""

    kind: str
    ref: str
    merchant_ids: frozenset[int]


@dataclass(frozen=True)
class TerminalView:
    id: int
    terminal_id: str
    merchant_id: int
    secret_version: int
    key_id: str
    """The root key its HMAC key is derived from (``core.platform.keys``)."""


def find_merchant(conn: Connection, code: str) -> MerchantView:
    row = conn.execute(
        select(
            merchant.c.id,
            merchant.c.code,
            merchant.c.name_zh,
            merchant.c.name_en,
            merchant.c.status,
        ).where(merchant.c.code == code)
    ).first()
    if row is None:
        raise UnknownMerchant(code)
    return MerchantView(int(row[0]), row[1], row[2], row[3], row[4])


def merchant_by_id(conn: Connection, merchant_id: int) -> MerchantView:
    row = conn.execute(
        select(
            merchant.c.id,
            merchant.c.code,
            merchant.c.name_zh,
            merchant.c.name_en,
            merchant.c.status,
        ).where(merchant.c.id == merchant_id)
    ).one()
    return MerchantView(int(row[0]), row[1], row[2], row[3], row[4])


def _approved(conn: Connection, code: str) -> MerchantView:
    found = find_merchant(conn, code)
    if found.status != "approved":
        raise MerchantNotApproved(code, found.status)
    return found


def add_staff(
    conn: Connection,
    code: str,
    msisdn: str,
    role: str,
    by: str,
    now: int,
    *,
    by_kind: str = "operator",
) -> int:
    """Register (or re-activate with ``role``) a staff phone of an approved merchant."""
    if role not in STAFF_ROLES:
        raise ValueError(f"role must be one of {STAFF_ROLES}")
    found = _approved(conn, code)
    conn.execute(
        insert_ignoring(conn, merchant_staff, "merchant_id", "msisdn").values(
            merchant_id=found.id, msisdn=msisdn, role=role, active=True, created_at=now
        )
    )
    conn.execute(
        update(merchant_staff)
        .where(and_(merchant_staff.c.merchant_id == found.id, merchant_staff.c.msisdn == msisdn))
        .values(role=role, active=True)
    )
    audit.record(
        conn,
        actor_kind=by_kind,
        actor=by,
        action="staff_add",
        subject=f"merchant:{code}",
        result="ok",
        now=now,
        details={"msisdn": msisdn, "role": role},
    )
    return found.id


def remove_staff(
    conn: Connection, code: str, msisdn: str, by: str, now: int, *, by_kind: str = "operator"
) -> bool:
    found = find_merchant(conn, code)
    changed = conn.execute(
        update(merchant_staff)
        .where(
            and_(
                merchant_staff.c.merchant_id == found.id,
                merchant_staff.c.msisdn == msisdn,
                merchant_staff.c.active.is_(True),
            )
        )
        .values(active=False)
    ).rowcount
    if changed:  # a copied console cookie of the phone opens nothing from now on
        web_sessions.end_all(conn, kind="merchant", who=msisdn, now=now)
    audit.record(
        conn,
        actor_kind=by_kind,
        actor=by,
        action="staff_remove",
        subject=f"merchant:{code}",
        result="ok" if changed else "not_found",
        now=now,
        details={"msisdn": msisdn},
    )
    return bool(changed)


def staff_phones(conn: Connection, merchant_id: int) -> list[str]:
    return list(
        conn.execute(
            select(merchant_staff.c.msisdn)
            .where(
                and_(merchant_staff.c.merchant_id == merchant_id, merchant_staff.c.active.is_(True))
            )
            .order_by(merchant_staff.c.role, merchant_staff.c.id)
        ).scalars()
    )


def require_staff(conn: Connection, shop: MerchantView, msisdn: str) -> None:
    """Refuse anyone but an active staff phone (owner or verifier, E.164) of ``shop``: raises
    ``NotStaffOf`` (issue 16 §5: goods are submitted by the merchant's own people)."""
    if msisdn not in staff_phones(conn, shop.id):
        raise NotStaffOf(msisdn, shop.code)


def owned_by(conn: Connection, msisdn: str) -> MerchantView | None:
    """The approved merchant this phone is an active owner of (the first, if several)."""
    found = conn.execute(
        select(merchant_staff.c.merchant_id)
        .join(merchant, merchant.c.id == merchant_staff.c.merchant_id)
        .where(
            and_(
                merchant_staff.c.msisdn == msisdn,
                merchant_staff.c.role == "owner",
                merchant_staff.c.active.is_(True),
                merchant.c.status == "approved",
            )
        )
        .order_by(merchant_staff.c.merchant_id)
        .limit(1)
    ).scalar_one_or_none()
    return None if found is None else merchant_by_id(conn, int(found))


def staff_actor(conn: Connection, msisdn: str) -> Actor:
    """The merchants this phone may verify for (none: the number is not staff)."""
    ids = conn.execute(
        select(merchant_staff.c.merchant_id)
        .join(merchant, merchant.c.id == merchant_staff.c.merchant_id)
        .where(
            and_(
                merchant_staff.c.msisdn == msisdn,
                merchant_staff.c.active.is_(True),
                merchant.c.status == "approved",
            )
        )
    ).scalars()
    return Actor("staff", msisdn, frozenset(int(i) for i in ids))


def terminal_secret(keyring: Keyring, terminal_id: str, version: int, key_id: str) -> str:
    """The terminal's HMAC key (hex), recomputed from root key ``key_id``, never stored.

    Raises ``core.platform.codes.UnknownKey`` when that root key is no longer held."""
    return keyring.mac("pos-terminal", terminal_id, str(version), kid=key_id)


def add_terminal(
    conn: Connection, code: str, terminal_id: str, by: str, now: int, keyring: Keyring
) -> str:
    """Register a terminal of an approved merchant (or rotate its key); return its HMAC key."""
    found = _approved(conn, code)
    conn.execute(
        insert_ignoring(conn, terminal, "terminal_id").values(
            merchant_id=found.id,
            terminal_id=terminal_id,
            secret_version=0,
            key_id=keyring.current_id,
            created_at=now,
        )
    )
    conn.execute(
        update(terminal)
        .where(and_(terminal.c.terminal_id == terminal_id, terminal.c.merchant_id == found.id))
        .values(
            secret_version=terminal.c.secret_version + 1,
            active=True,
            key_id=keyring.current_id,
        )
    )
    view = find_terminal(conn, terminal_id)
    if view is None or view.merchant_id != found.id:
        raise ValueError(f"terminal {terminal_id} belongs to another merchant")
    audit.record(
        conn,
        actor_kind="operator",
        actor=by,
        action="terminal_add",
        subject=f"merchant:{code}",
        result="ok",
        now=now,
        details={"terminal": terminal_id, "version": view.secret_version},
    )
    return terminal_secret(keyring, terminal_id, view.secret_version, view.key_id)


def find_terminal(conn: Connection, terminal_id: str) -> TerminalView | None:
    row = conn.execute(
        select(
            terminal.c.id,
            terminal.c.terminal_id,
            terminal.c.merchant_id,
            terminal.c.secret_version,
            terminal.c.key_id,
        )
        .join(merchant, merchant.c.id == terminal.c.merchant_id)
        .where(
            and_(
                terminal.c.terminal_id == terminal_id,
                terminal.c.active.is_(True),
                merchant.c.status == "approved",
            )
        )
    ).first()
    return TerminalView(int(row[0]), row[1], int(row[2]), int(row[3]), row[4]) if row else None


def terminal_actor(view: TerminalView) -> Actor:
    return Actor("terminal", view.terminal_id, frozenset({view.merchant_id}))


def claim_nonce(conn: Connection, terminal_ref: int, nonce: str, now: int) -> bool:
    """Record a POS request's nonce; False if this terminal used it before (a replay)."""
    inserted = conn.execute(
        insert_ignoring(conn, pos_nonce, "terminal_ref", "nonce")
        .values(terminal_ref=terminal_ref, nonce=nonce, seen_at=now)
        .returning(pos_nonce.c.id)
    ).scalar_one_or_none()
    return inserted is not None


def nonce_seen(conn: Connection, terminal_ref: int, nonce: str) -> bool:
    found = conn.execute(
        select(pos_nonce.c.id).where(
            and_(pos_nonce.c.terminal_ref == terminal_ref, pos_nonce.c.nonce == nonce)
        )
    ).first()
    return found is not None


def prune_nonces(conn: Connection, before: int) -> int:
    """Forget nonces older than any timestamp still accepted. Idempotent."""
    return int(conn.execute(delete(pos_nonce).where(pos_nonce.c.seen_at < before)).rowcount)


def staff_of(conn: Connection, merchant_id: int) -> list[tuple[str, str]]:
    """Active staff phones and roles, owners first."""
    return [
        (r[0], r[1])
        for r in conn.execute(
            select(merchant_staff.c.msisdn, merchant_staff.c.role)
            .where(
                and_(merchant_staff.c.merchant_id == merchant_id, merchant_staff.c.active.is_(True))
            )
            .order_by(merchant_staff.c.role, merchant_staff.c.id)
        ).all()
    ]


def upsert(
    conn: Connection, code: str, name_zh: str, name_en: str, now: int, status: str = "approved"
) -> int:
    """Create or rename merchant ``code`` (status only on creation); ``ValueError`` for a bad
    code or a blank name (``core.platform.naming``)."""
    code = naming.code(code, "merchant code")
    name_zh, name_en = naming.name(name_zh, "name_zh"), naming.name(name_en, "name_en")
    conn.execute(
        insert_ignoring(conn, merchant, "code").values(
            code=code, name_zh=name_zh, name_en=name_en, status=status, created_at=now
        )
    )
    conn.execute(
        update(merchant).where(merchant.c.code == code).values(name_zh=name_zh, name_en=name_en)
    )
    return int(conn.execute(select(merchant.c.id).where(merchant.c.code == code)).scalar_one())


def listing(conn: Connection) -> list[MerchantView]:
    """Every merchant, approved or not, by code (issue 16 §1: the back office's list)."""
    rows = conn.execute(
        select(
            merchant.c.id,
            merchant.c.code,
            merchant.c.name_zh,
            merchant.c.name_en,
            merchant.c.status,
        ).order_by(merchant.c.code)
    ).all()
    return [MerchantView(int(r[0]), r[1], r[2], r[3], r[4]) for r in rows]


@dataclass(frozen=True)
class TerminalLine:
    """A terminal as staff list it; its key is never shown again (it is derived, not kept)."""

    terminal_id: str
    secret_version: int
    active: bool
    created_at: int


def terminals_of(conn: Connection, merchant_id: int) -> list[TerminalLine]:
    """The merchant's POS terminals, active or not, by terminal id."""
    rows = conn.execute(
        select(
            terminal.c.terminal_id,
            terminal.c.secret_version,
            terminal.c.active,
            terminal.c.created_at,
        )
        .where(terminal.c.merchant_id == merchant_id)
        .order_by(terminal.c.terminal_id)
    ).all()
    return [TerminalLine(r[0], int(r[1]), bool(r[2]), int(r[3])) for r in rows]
