"""Tables, as SQLAlchemy Core. The schema itself is created only by Alembic migrations.

Conventions: ids are 64-bit (``INTEGER PRIMARY KEY`` on SQLite so they alias the
rowid); points and cents are 64-bit integers; every ``*_at`` column is Unix
seconds (UTC). Check constraints are the last line of defence for the ledger
rules that the services already enforce.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = BigInteger().with_variant(Integer(), "sqlite")

ACCOUNT_TYPES = ("mobile", "fixed", "broadband")
ENTRY_KINDS = ("earn", "redeem", "expire", "refund", "adjust")


def _id() -> Column[int]:
    return Column("id", ID, primary_key=True, autoincrement=True)


subscriber = Table(
    "subscriber",
    metadata,
    _id(),
    Column("msisdn", String(16), nullable=False, unique=True),
    Column("name", String(64)),
    Column("lang", String(2), nullable=False),
    Column("opted_out", Boolean, nullable=False, server_default=false()),
    Column("created_at", BigInteger, nullable=False),
    CheckConstraint("lang IN ('zh', 'en')", name="lang"),
)

account = Table(
    "account",
    metadata,
    _id(),
    Column("subscriber_id", ID, ForeignKey("subscriber.id"), nullable=False, unique=True),
    Column("type", String(16), nullable=False),
    Column("balance", BigInteger, nullable=False, server_default="0"),
    Column("held", BigInteger, nullable=False, server_default="0"),
    Column("created_at", BigInteger, nullable=False),
    CheckConstraint("type IN ('mobile', 'fixed', 'broadband')", name="type"),
    CheckConstraint("balance >= 0", name="balance_not_negative"),
    CheckConstraint("held >= 0 AND held <= balance", name="held_within_balance"),
)

feed_import = Table(
    "feed_import",
    metadata,
    _id(),
    Column("period", String(7), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("started_at", BigInteger, nullable=False),
    Column("finished_at", BigInteger),
    Column("rows_ok", BigInteger, nullable=False, server_default="0"),
    Column("rows_bad", BigInteger, nullable=False, server_default="0"),
    Column("rows_skipped", BigInteger, nullable=False, server_default="0"),
    Column("points", BigInteger, nullable=False, server_default="0"),
    Column("status", String(10), nullable=False, server_default="running"),
)

feed_check = Table(
    "feed_check",
    metadata,
    _id(),
    Column("import_id", ID, ForeignKey("feed_import.id"), nullable=False),
    Column("line", BigInteger, nullable=False),
    Column("msisdn", String(16), nullable=False),
    Column("service", String(16), nullable=False),
    Column("points", BigInteger, nullable=False),
    Index(None, "import_id", "msisdn", "service"),
)

entry = Table(
    "entry",
    metadata,
    _id(),
    Column("account_id", ID, ForeignKey("account.id"), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("source", String(16), nullable=False),
    Column("idempotency_key", String(160), nullable=False, unique=True),
    Column("reason_key", String(32), nullable=False),
    Column("reason_args", Text, nullable=False, server_default="{}"),
    Column("ref", String(64), nullable=False),
    Column("import_id", ID, ForeignKey("feed_import.id")),
    Column("created_at", BigInteger, nullable=False),
    CheckConstraint("amount <> 0", name="amount_not_zero"),
    CheckConstraint("kind IN ('earn', 'redeem', 'expire', 'refund', 'adjust')", name="kind"),
    Index(None, "account_id", "id"),
)

lot = Table(
    "lot",
    metadata,
    _id(),
    Column("account_id", ID, ForeignKey("account.id"), nullable=False),
    Column("entry_id", ID, ForeignKey("entry.id"), nullable=False, unique=True),
    Column("service", String(16), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("remaining", BigInteger, nullable=False),
    Column("earned_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint("remaining >= 0 AND remaining <= amount", name="remaining_within_amount"),
    Index(None, "account_id", "expires_at"),
    Index(None, "expires_at"),
)

lot_use = Table(
    "lot_use",
    metadata,
    Column("entry_id", ID, ForeignKey("entry.id"), primary_key=True),
    Column("lot_id", ID, ForeignKey("lot.id"), primary_key=True),
    Column("amount", BigInteger, nullable=False),
    CheckConstraint("amount > 0", name="amount_positive"),
)

hold = Table(
    "hold",
    metadata,
    _id(),
    Column("account_id", ID, ForeignKey("account.id"), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("status", String(10), nullable=False),
    Column("idempotency_key", String(160), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint("status IN ('active', 'captured', 'released')", name="status"),
    Index(None, "status", "expires_at"),
)

inbound = Table(
    "inbound",
    metadata,
    _id(),
    Column("channel", String(16), nullable=False),
    Column("external_id", String(64), nullable=False),
    Column("sender", String(32), nullable=False),
    Column("recipient", String(32), nullable=False, server_default=""),
    Column("text", Text, nullable=False),
    Column("received_at", BigInteger, nullable=False),
    Column("status", String(10), nullable=False),
    Column("reply", Text),
    UniqueConstraint("channel", "external_id"),
    Index(None, "sender", "received_at"),
)

conversation = Table(
    "conversation",
    metadata,
    Column("subscriber_id", ID, ForeignKey("subscriber.id"), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("payload", Text, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)
