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
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
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

FEED_FILE_STATUSES = ("importing", "processed", "rejected")

feed_file = Table(
    "feed_file",
    metadata,
    _id(),
    # A file dropped into POINTSHALL_FEED_INBOX (issue 16 §4), claimed once by its name and
    # content: the unique (name, sha256) decides which replica imports it.
    Column("name", String(255), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("period", String(7)),
    Column("status", String(10), nullable=False),
    Column("claimed_by", String(64), nullable=False),
    Column("claimed_at", BigInteger, nullable=False),
    Column("finished_at", BigInteger),
    Column("import_id", ID, ForeignKey("feed_import.id")),
    Column("moved_to", String(300)),
    Column("detail", String(300), nullable=False, server_default=""),
    UniqueConstraint("name", "sha256"),
    CheckConstraint("status IN ('importing', 'processed', 'rejected')", name="status"),
    Index(None, "status", "claimed_at"),
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
    Column("entry_id", ID, ForeignKey("entry.id"), nullable=False, index=True),
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

# ----------------------------------------------------------------- catalogue (§2.2)

ITEM_KINDS = ("credit", "physical", "voucher")

category = Table(
    "category",
    metadata,
    _id(),
    Column("code", String(16), nullable=False, unique=True),
    Column("name_zh", String(64), nullable=False),
    Column("name_en", String(64), nullable=False),
    Column("sort", Integer, nullable=False, server_default="0"),
)

brand = Table(
    "brand",
    metadata,
    _id(),
    Column("code", String(16), nullable=False, unique=True),
    Column("name_zh", String(64), nullable=False),
    Column("name_en", String(64), nullable=False),
)

merchant = Table(
    "merchant",
    metadata,
    _id(),
    Column("code", String(16), nullable=False, unique=True),
    Column("name_zh", String(64), nullable=False),
    Column("name_en", String(64), nullable=False),
    Column("status", String(16), nullable=False, server_default="approved"),
    Column("created_at", BigInteger, nullable=False),
)

activity = Table(
    "activity",
    metadata,
    _id(),
    Column("code", String(16), nullable=False, unique=True),
    Column("title_zh", String(64), nullable=False),
    Column("title_en", String(64), nullable=False),
    Column("body_zh", Text, nullable=False, server_default=""),
    Column("body_en", Text, nullable=False, server_default=""),
    Column("starts_at", BigInteger, nullable=False),
    Column("ends_at", BigInteger, nullable=False),
    Column("per_account_limit", Integer),
    CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    Index(None, "starts_at", "ends_at"),
)

item = Table(
    "item",
    metadata,
    _id(),
    Column("code", String(16), nullable=False, unique=True),
    Column("name_zh", String(64), nullable=False),
    Column("name_en", String(64), nullable=False),
    Column("description_zh", Text, nullable=False, server_default=""),
    Column("description_en", Text, nullable=False, server_default=""),
    Column("category_id", ID, ForeignKey("category.id"), nullable=False),
    Column("brand_id", ID, ForeignKey("brand.id")),
    Column("merchant_id", ID, ForeignKey("merchant.id")),
    Column("activity_id", ID, ForeignKey("activity.id")),
    Column("kind", String(10), nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("cash_cents", BigInteger),
    Column("face_value_cents", BigInteger),
    Column("stock", BigInteger),
    Column("sold", BigInteger, nullable=False, server_default="0"),
    Column("views", BigInteger, nullable=False, server_default="0"),
    Column("per_account_limit", Integer),
    Column("voucher_days", Integer, nullable=False, server_default="30"),
    Column("listed_at", BigInteger, nullable=False),
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("review", String(10)),
    Column("review_note", String(200)),
    Column("pay_methods", String(64), nullable=False, server_default="points"),
    Column("price_cents", BigInteger),
    CheckConstraint("kind IN ('credit', 'physical', 'voucher')", name="kind"),
    CheckConstraint("review IN ('pending', 'approved', 'rejected')", name="review"),
    CheckConstraint("points > 0", name="points_positive"),
    CheckConstraint("cash_cents IS NULL OR cash_cents >= 0", name="cash_not_negative"),
    CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
    CheckConstraint("kind <> 'voucher' OR merchant_id IS NOT NULL", name="voucher_has_merchant"),
    Index(None, "category_id", "active"),
)

announcement = Table(
    "announcement",
    metadata,
    _id(),
    Column("title_zh", String(64), nullable=False),
    Column("title_en", String(64), nullable=False),
    Column("body_zh", Text, nullable=False),
    Column("body_en", Text, nullable=False),
    Column("published_at", BigInteger, nullable=False),
    Column("pinned", Boolean, nullable=False, server_default=false()),
)

banner = Table(
    "banner",
    metadata,
    _id(),
    Column("activity_id", ID, ForeignKey("activity.id"), nullable=False),
    Column("image", String(255)),
    Column("sort", Integer, nullable=False, server_default="0"),
    Column("active", Boolean, nullable=False, server_default=true()),
)

ad = Table(
    "ad",
    metadata,
    _id(),
    Column("title_zh", String(64), nullable=False),
    Column("title_en", String(64), nullable=False),
    Column("target_kind", String(12), nullable=False),  # fits "announcement" (0011a)
    Column("target", String(255), nullable=False),
    Column("sort", Integer, nullable=False, server_default="0"),
    Column("active", Boolean, nullable=False, server_default=true()),
    CheckConstraint(
        "target_kind IN ('item', 'activity', 'category', 'announcement', 'url')", name="target_kind"
    ),
)

address = Table(
    "address",
    metadata,
    _id(),
    Column("subscriber_id", ID, ForeignKey("subscriber.id"), nullable=False),
    Column("text", String(200), nullable=False),
    Column("is_default", Boolean, nullable=False, server_default=false()),
    Column("created_at", BigInteger, nullable=False),
    Index(None, "subscriber_id"),
)

# ------------------------------------------------------------ orders (DESIGN §5)

ORDER_STATUSES = (
    "created",
    "awaiting_otp",
    "paid",
    "shipped",
    "delivered",
    "voucher_issued",
    "verified",
    "cancelled",
    "expired",
    "refunded",
)

orders = Table(
    "orders",
    metadata,
    _id(),
    Column("no", String(20), nullable=False, unique=True),
    Column("subscriber_id", ID, ForeignKey("subscriber.id"), nullable=False),
    Column("account_id", ID, ForeignKey("account.id"), nullable=False),
    Column("item_id", ID, ForeignKey("item.id"), nullable=False),
    Column("activity_id", ID, ForeignKey("activity.id")),
    Column("qty", Integer, nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("cash_cents", BigInteger, nullable=False, server_default="0"),
    Column("status", String(16), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("hold_id", ID, ForeignKey("hold.id")),
    Column("address", String(200)),
    Column("carrier", String(32)),
    Column("tracking_no", String(64)),
    Column("idempotency_key", String(160), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("pay_by", BigInteger, nullable=False),
    Column("paid_at", BigInteger),
    Column("pay_method", String(12), nullable=False, server_default="points"),
    CheckConstraint("qty > 0", name="qty_positive"),
    CheckConstraint("points >= 0", name="points_not_negative"),
    CheckConstraint(
        "status IN ('created', 'awaiting_otp', 'paid', 'shipped', 'delivered', "
        "'voucher_issued', 'verified', 'cancelled', 'expired', 'refunded')",
        name="status",
    ),
    Index(None, "subscriber_id", "id"),
    Index(None, "status", "pay_by"),
    Index(None, "account_id", "item_id", "created_at"),
)

order_event = Table(
    "order_event",
    metadata,
    _id(),
    Column("order_id", ID, ForeignKey("orders.id"), nullable=False),
    Column("from_status", String(16), nullable=False),
    Column("to_status", String(16), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("note", String(200), nullable=False, server_default=""),
    Index(None, "order_id"),
)

otp = Table(
    "otp",
    metadata,
    _id(),
    Column("order_id", ID, ForeignKey("orders.id"), nullable=False, unique=True),
    Column("msisdn", String(16), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("used_at", BigInteger),
)

voucher = Table(
    "voucher",
    metadata,
    _id(),
    Column("order_id", ID, ForeignKey("orders.id"), nullable=False, unique=True),
    Column("merchant_id", ID, ForeignKey("merchant.id"), nullable=False),
    Column("password_hash", String(64), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("status", String(10), nullable=False),
    Column("failed_attempts", Integer, nullable=False, server_default="0"),
    Column("issued_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("verified_at", BigInteger),
    CheckConstraint(
        "status IN ('issued', 'verified', 'locked', 'expired', 'refunded')", name="status"
    ),
    Index(None, "status", "expires_at"),
)

TOPUP_STATUSES = ("requested", "unknown", "submitted", "succeeded", "failed", "stalled")

topup = Table(
    "topup",
    metadata,
    _id(),
    Column("order_id", ID, ForeignKey("orders.id"), nullable=False, unique=True),
    Column("msisdn", String(16), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("status", String(10), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    # phone credit delivered (issue 16 §2, 0015_16b): core.recharge.topups
    Column("updated_at", BigInteger, nullable=False, server_default="0"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", BigInteger),
    Column("provider_id", String(64)),
    Column("last_error", String(200)),
    CheckConstraint(
        "status IN ('requested', 'unknown', 'submitted', 'succeeded', 'failed', 'stalled')",
        name="status",
    ),
    Index(None, "status", "next_attempt_at"),
)

topup_event = Table(
    "topup_event",
    metadata,
    _id(),
    Column("topup_id", ID, ForeignKey("topup.id"), nullable=False),
    Column("from_status", String(10), nullable=False),
    Column("to_status", String(10), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("detail", String(200), nullable=False, server_default=""),
    Index(None, "topup_id"),
)

# -------------------------------------------------------------- outbox (DESIGN §10)

OUTBOX_STATUSES = ("pending", "sending", "sent", "delivered", "failed", "dead", "suppressed")

outbox = Table(
    "outbox",
    metadata,
    _id(),
    Column("idempotency_key", String(160), nullable=False, unique=True),
    Column("channel", String(10), nullable=False),
    Column("recipient", String(32), nullable=False),
    Column("subscriber_id", ID, ForeignKey("subscriber.id")),
    Column("kind", String(10), nullable=False),
    Column("text", Text, nullable=False),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("sent_at", BigInteger),
    Column("provider_id", String(64)),
    Column("last_error", String(200)),
    CheckConstraint("kind IN ('service', 'marketing')", name="kind"),
    CheckConstraint(
        "status IN ('pending', 'sending', 'sent', 'delivered', 'failed', 'dead', 'suppressed')",
        name="status",
    ),
    Index(None, "status", "next_attempt_at"),
    Index(None, "provider_id"),
)

DELIVERY_STATES = ("sent", "delivered", "failed")

delivery_report = Table(
    "delivery_report",
    metadata,
    _id(),
    Column("outbox_id", ID, ForeignKey("outbox.id"), nullable=False),
    Column("provider", String(16), nullable=False),
    Column("part", Integer, nullable=False, server_default="0"),
    Column("code", String(16), nullable=False),
    Column("state", String(10), nullable=False),
    Column("error_code", String(16)),
    Column("received_at", BigInteger, nullable=False),
    CheckConstraint("state IN ('sent', 'delivered', 'failed')", name="state"),
    UniqueConstraint("outbox_id", "part", "code"),
)

# The key older installations kept here; only read, to be moved out (core.platform.secret_key).
app_secret = Table(
    "app_secret",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", String(128), nullable=False),
)

# ------------------------------------------------- merchants (§3.4.4, §3.5.5, §3.6)

STAFF_ROLES = ("owner", "verifier")
APPLICATION_STATUSES = ("submitted", "first_review", "final_review", "approved", "rejected")

merchant_staff = Table(
    "merchant_staff",
    metadata,
    _id(),
    Column("merchant_id", ID, ForeignKey("merchant.id"), nullable=False),
    Column("msisdn", String(16), nullable=False),
    Column("role", String(10), nullable=False),
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("created_at", BigInteger, nullable=False),
    CheckConstraint("role IN ('owner', 'verifier')", name="role"),
    UniqueConstraint("merchant_id", "msisdn"),
    Index(None, "msisdn"),
)

terminal = Table(
    "terminal",
    metadata,
    _id(),
    Column("merchant_id", ID, ForeignKey("merchant.id"), nullable=False),
    Column("terminal_id", String(32), nullable=False, unique=True),
    # The HMAC key is never stored: it is derived from root key ``key_id``, the terminal
    # id and this version (core.merchants.merchants.terminal_secret), so it can be
    # recomputed to verify a signature; bumping the version rotates it.
    Column("secret_version", Integer, nullable=False, server_default="1"),
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("created_at", BigInteger, nullable=False),
    # The root key (core.platform.keys) the HMAC key is derived from; rows from before
    # key ids were derived from the database's own key, now ``k0`` (issue 13 §2).
    Column("key_id", String(8), nullable=False, server_default="k0"),
)

pos_nonce = Table(
    "pos_nonce",
    metadata,
    _id(),
    Column("terminal_ref", ID, ForeignKey("terminal.id"), nullable=False),
    Column("nonce", String(64), nullable=False),
    Column("seen_at", BigInteger, nullable=False),
    UniqueConstraint("terminal_ref", "nonce"),
    Index(None, "seen_at"),
)

merchant_application = Table(
    "merchant_application",
    metadata,
    _id(),
    Column("code", String(16), nullable=False),
    Column("name_zh", String(64), nullable=False),
    Column("name_en", String(64), nullable=False),
    Column("applicant_msisdn", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("first_reviewer", String(64)),
    Column("first_reason", String(200)),
    Column("final_reviewer", String(64)),
    Column("final_reason", String(200)),
    Column("merchant_id", ID, ForeignKey("merchant.id")),
    Column("submitted_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    CheckConstraint(
        "status IN ('submitted', 'first_review', 'final_review', 'approved', 'rejected')",
        name="status",
    ),
    Index(None, "status"),
)

audit_log = Table(
    "audit_log",
    metadata,
    _id(),
    Column("actor_kind", String(16), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("subject", String(64), nullable=False),
    Column("result", String(32), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("details", Text, nullable=False, server_default="{}"),
    Index(None, "subject", "at"),
    Index(None, "at"),
)

subscriber_secret = Table(
    "subscriber_secret",
    metadata,
    Column("subscriber_id", ID, ForeignKey("subscriber.id"), primary_key=True),
    # scrypt over a keyed digest (core.subscribers.passwords): slow and peppered.
    Column("points_password_hash", String(160), nullable=False),
    Column("second_password_hash", String(160), nullable=False),
    Column("failed_attempts", Integer, nullable=False, server_default="0"),
    Column("updated_at", BigInteger, nullable=False),
)

password_otp = Table(
    "password_otp",
    metadata,
    Column("subscriber_id", ID, ForeignKey("subscriber.id"), primary_key=True),
    Column("code_hash", String(64), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("used_at", BigInteger),
)

# ------------------------------------------------------ settlement (§6.3, issue 6)

STATEMENT_STATUSES = ("draft", "confirmed", "disputed", "approved", "paid")
LINE_SOURCES = ("voucher", "pos")

merchant_rate = Table(
    "merchant_rate",
    metadata,
    _id(),
    Column("merchant_id", ID, ForeignKey("merchant.id"), nullable=False),
    # ``cents`` per ``points``: a rational, integers only (the CLI sets cents per 1,000).
    Column("cents", BigInteger, nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("set_by", String(64), nullable=False),
    Column("set_at", BigInteger, nullable=False),
    CheckConstraint("cents >= 0", name="cents_not_negative"),
    CheckConstraint("points > 0", name="points_positive"),
    Index(None, "merchant_id", "id"),
)

statement = Table(
    "statement",
    metadata,
    _id(),
    Column("merchant_id", ID, ForeignKey("merchant.id"), nullable=False),
    Column("period", String(7), nullable=False),
    Column("status", String(10), nullable=False),
    Column("cutoff", BigInteger, nullable=False),
    Column("lines", BigInteger, nullable=False, server_default="0"),
    Column("points", BigInteger, nullable=False, server_default="0"),
    Column("amount_cents", BigInteger, nullable=False, server_default="0"),
    Column("reason", String(200)),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("updated_by", String(64), nullable=False),
    # The merchant's lines it covers: ids in (lines_after, lines_upto] (issue 15 §3); the
    # next statement starts where this one ends, and no two start at the same place.
    Column("lines_after", BigInteger, nullable=False, server_default="0"),
    Column("lines_upto", BigInteger, nullable=False, server_default="0"),
    CheckConstraint(
        "status IN ('draft', 'confirmed', 'disputed', 'approved', 'paid')", name="status"
    ),
    CheckConstraint("lines_upto > lines_after", name="lines_range"),
    UniqueConstraint("merchant_id", "period"),
    UniqueConstraint("merchant_id", "lines_after"),
    Index(None, "period"),
)

settlement_line = Table(
    "settlement_line",
    metadata,
    _id(),
    Column("merchant_id", ID, ForeignKey("merchant.id"), nullable=False),
    Column("source", String(8), nullable=False),
    Column("ref", String(160), nullable=False, unique=True),
    Column("order_id", ID, ForeignKey("orders.id")),
    Column("points", BigInteger, nullable=False),
    Column("rate_cents", BigInteger, nullable=False),
    Column("rate_points", BigInteger, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("consumed_at", BigInteger, nullable=False),
    CheckConstraint("source IN ('voucher', 'pos')", name="source"),
    CheckConstraint("points > 0", name="points_positive"),
    CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
    Index(None, "merchant_id", "id"),
    Index(None, "consumed_at"),
)

# ------------------------------------------------------------ Telegram chats (§2.2.8)

chat_binding = Table(
    "chat_binding",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("subscriber_id", ID, ForeignKey("subscriber.id"), nullable=False),
    Column("bound_at", BigInteger, nullable=False),
    Index(None, "subscriber_id"),
)

chat_login = Table(
    "chat_login",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("msisdn", String(16), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("sent_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Index(None, "msisdn"),
)

# ------------------------------------------------- merchant console logins (§3.4.3)

staff_login = Table(
    "staff_login",
    metadata,
    _id(),
    Column("msisdn", String(16), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("sent_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("used_at", BigInteger),
    # keyed hash of the random id the requesting browser holds: a code is tried only from
    # the session that asked for it, so nobody spends another's tries (issue 13 §4)
    Column("session_hash", String(64)),
    Index(None, "msisdn", "sent_at"),
)

# ------------------------------------------------------------ payments (§3.5.6, DESIGN.md §5)

PAY_METHODS = ("points", "cash", "points_cash", "phone_bill", "online_bank")
SAGA_STATUSES = (
    "started",  # order made (points held for points_cash), no charge known yet
    "charge_pending",  # the gateway has a charge, waiting for the money
    "cash_captured",  # the money arrived; the points step has not run yet
    "completed",  # points deducted, order paid
    "refunding",  # the points step (or a phone top-up, later) failed: the money must go back
    "refunded",  # the money went back (exactly once)
    "cancelled",  # no money was taken; the charge (if any) is cancelled
)

payment_saga = Table(
    "payment_saga",
    metadata,
    _id(),
    Column("order_id", ID, ForeignKey("orders.id"), nullable=False, unique=True),
    Column("method", String(12), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("charge_id", String(64), unique=True),
    Column("pay_url", String(300)),
    Column("refund_id", String(64)),
    Column("note", String(200), nullable=False, server_default=""),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    CheckConstraint("amount_cents > 0", name="amount_positive"),
    CheckConstraint("points >= 0", name="points_not_negative"),
    CheckConstraint(
        "status IN ('started', 'charge_pending', 'cash_captured', 'completed', "
        "'refunding', 'refunded', 'cancelled')",
        name="status",
    ),
    Index(None, "status", "updated_at"),
)

payment_step = Table(
    "payment_step",
    metadata,
    _id(),
    Column("saga_id", ID, ForeignKey("payment_saga.id"), nullable=False),
    Column("step", String(24), nullable=False),
    Column("from_status", String(16), nullable=False),
    Column("to_status", String(16), nullable=False),
    Column("detail", String(200), nullable=False, server_default=""),
    Column("at", BigInteger, nullable=False),
    UniqueConstraint("saga_id", "step"),
)

# ------------------------------------------------ operator staff, admin API (issue 8)

OPERATOR_ROLES = ("business_admin", "admin", "finance", "support")
ADJUSTMENT_STATUSES = ("proposed", "approved", "rejected")

staff = Table(
    "staff",
    metadata,
    _id(),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    # keyed hash (core.platform.codes.Keyring) of the bearer token, which is shown once.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
    Column("disabled_at", BigInteger),
    CheckConstraint("role IN ('business_admin', 'admin', 'finance', 'support')", name="role"),
)

adjustment = Table(
    "adjustment",
    metadata,
    _id(),
    Column("subscriber_id", ID, ForeignKey("subscriber.id"), nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("reason", String(200), nullable=False),
    Column("status", String(10), nullable=False),
    Column("proposed_by", String(64), nullable=False),
    Column("proposed_at", BigInteger, nullable=False),
    Column("decided_by", String(64)),
    Column("decided_at", BigInteger),
    Column("entry_id", ID, ForeignKey("entry.id")),
    # the newest ``staff_change.id`` when it was proposed: the approver's standing must be
    # older (core.backoffice.duties, issue 13 §3)
    Column("staff_seq", BigInteger),
    CheckConstraint("points <> 0", name="points_not_zero"),
    CheckConstraint("status IN ('proposed', 'approved', 'rejected')", name="status"),
    Index(None, "status", "id"),
)

# (``picture`` and ``ad_image`` of 0011a were folded into ``photo`` by 0013m.)

# ------------------------------------------------- mall browsing in the chat (§2.2)

photo = Table(
    "photo",
    metadata,
    _id(),
    # What the picture shows: ``item:<id>``, ``banner:<id>`` or ``ad:<id>`` (core.catalogue.photos).
    Column("subject", String(32), nullable=False, unique=True),
    Column("content_type", String(32), nullable=False),
    Column("data", LargeBinary, nullable=False),
    # Telegram's id for the uploaded copy, so the bytes travel once.
    Column("telegram_file_id", String(200)),
    Column("updated_at", BigInteger, nullable=False),
)

# ------------------------------------------------------------ chat mall: buying and after-sales
# (§2.2.10 cart, §2.2.11 note, §2.2.13/19 messages, §2.2.17 reviews, §2.2.20 address labels)

orders.append_column(Column("note", String(200)))
orders.append_column(Column("checkout_no", String(20), index=True))
address.append_column(Column("label", String(32)))
outbox.append_column(Column("attachment", String(200)))
# outbox.attachment: ``qr:<token>`` is a voucher's QR code, drawn at send time
# (``qr`` alone once its token is sealed; issue 13 §1)
outbox.append_column(Column("sealed", Text))
# outbox.sealed: the whole message (text and attachment) encrypted when it carries a
# secret (a code, a voucher password); ``text`` then holds it with the secrets masked.
# Wiped once the provider accepted the message (issue 13 §1).

cart_line = Table(
    "cart_line",
    metadata,
    _id(),
    Column("subscriber_id", ID, ForeignKey("subscriber.id"), nullable=False),
    Column("item_id", ID, ForeignKey("item.id"), nullable=False),
    Column("qty", Integer, nullable=False),
    Column("added_at", BigInteger, nullable=False),
    UniqueConstraint("subscriber_id", "item_id"),
    CheckConstraint("qty > 0", name="qty_positive"),
)

favourite = Table(
    "favourite",
    metadata,
    _id(),
    Column("subscriber_id", ID, ForeignKey("subscriber.id"), nullable=False),
    Column("item_id", ID, ForeignKey("item.id"), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("subscriber_id", "item_id"),
)

question = Table(
    "question",
    metadata,
    _id(),
    Column("item_id", ID, ForeignKey("item.id"), nullable=False),
    Column("subscriber_id", ID, ForeignKey("subscriber.id"), nullable=False),
    Column("text", String(500), nullable=False),
    Column("asked_at", BigInteger, nullable=False),
    Column("answer", Text),
    Column("answered_by", String(64)),
    Column("answered_at", BigInteger),
    Index(None, "item_id", "answered_at"),
    Index(None, "subscriber_id", "id"),
    Index(None, "answered_at"),
)

chat_prompt = Table(
    "chat_prompt",
    metadata,
    # What the chat's next text answers (a search keyword, a question about an item).
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),
    Column("arg", String(32), nullable=False, server_default=""),
    Column("expires_at", BigInteger, nullable=False),
)

REVIEW_STATUSES = ("visible", "hidden")

goods_review = Table(
    "goods_review",
    metadata,
    _id(),
    Column("order_id", ID, ForeignKey("orders.id"), nullable=False, unique=True),
    Column("subscriber_id", ID, ForeignKey("subscriber.id"), nullable=False),
    Column("item_id", ID, ForeignKey("item.id"), nullable=False),
    Column("score", Integer, nullable=False),
    Column("text", String(500), nullable=False, server_default=""),
    Column("status", String(10), nullable=False, server_default="visible"),
    Column("created_at", BigInteger, nullable=False),
    CheckConstraint("score BETWEEN 1 AND 5", name="score"),
    CheckConstraint("status IN ('visible', 'hidden')", name="status"),
    Index(None, "item_id", "status"),
)

message = Table(
    "message",
    metadata,
    _id(),
    Column("subscriber_id", ID, ForeignKey("subscriber.id"), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("reply_to", String(32), nullable=False),
    # where replies go: the chat id (telegram) or the number (sms)
    Column("text", String(500), nullable=False),
    Column("status", String(10), nullable=False, server_default="open"),
    Column("created_at", BigInteger, nullable=False),
    CheckConstraint("status IN ('open', 'replied')", name="status"),
    Index(None, "subscriber_id", "id"),
    Index(None, "status", "id"),
)

message_reply = Table(
    "message_reply",
    metadata,
    _id(),
    Column("message_id", ID, ForeignKey("message.id"), nullable=False),
    Column("staff", String(64), nullable=False),
    Column("text", String(500), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index(None, "message_id"),
)

# ------------------------------------- several replicas as one service (issue 15 §4)

send_rate = Table(
    "send_rate",
    metadata,
    Column("name", String(80), primary_key=True),
    # the next free send slot, microseconds since the epoch (UTC): one row per outbound
    # rate (an SMS provider's sender, a Telegram bot), shared by every replica
    Column("next_slot_us", BigInteger, nullable=False),
)

job_run = Table(
    "job_run",
    metadata,
    Column("job", String(40), primary_key=True),
    Column("period_start", BigInteger, primary_key=True),
    Column("started_at", BigInteger, nullable=False),
    Column("finished_at", BigInteger),
    Column("changed", BigInteger),
    Column("runner", String(80), nullable=False),
)

# --------------------------------------- separation of duties, guessing limits (issue 13)

STAFF_CHANGE_KINDS = ("create", "role", "enable", "disable")
STAFF_CHANGE_STATUSES = ("done", "pending", "approved", "rejected")

staff_change = Table(
    "staff_change",
    metadata,
    _id(),
    # every creation, role change, re-enabling and disabling of an operator staff member,
    # made at once ("done") or waiting for a second admin ("pending" → "approved"|"rejected")
    Column("name", String(64), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("role", String(16)),
    # a pending creation's bearer token (keyed hash) until a second admin approves it
    Column("token_hash", String(64)),
    Column("status", String(10), nullable=False),
    Column("requested_by", String(64), nullable=False),
    Column("requested_at", BigInteger, nullable=False),
    Column("decided_by", String(64)),
    Column("decided_at", BigInteger),
    CheckConstraint("kind IN ('create', 'role', 'enable', 'disable')", name="kind"),
    CheckConstraint("status IN ('done', 'pending', 'approved', 'rejected')", name="status"),
    Index(None, "name", "id"),
    Index(None, "requested_by", "requested_at"),
    Index(None, "status", "id"),
)

throttle_event = Table(
    "throttle_event",
    metadata,
    _id(),
    # one row per counted event (a code sent, a code tried) of ``kind`` against ``subject``
    # (a number, a chat); core.platform.throttle counts them in sliding windows
    Column("kind", String(24), nullable=False),
    Column("subject", String(64), nullable=False),
    Column("at", BigInteger, nullable=False),
    Index(None, "kind", "subject", "at"),
    Index(None, "at"),
)

web_session = Table(
    "web_session",
    metadata,
    # a console session, server-side: the cookie holds a random id, this row its keyed hash;
    # logout, removal from staff and disabling end it (core.platform.web_sessions)
    Column("id_hash", String(64), primary_key=True),
    Column("kind", String(10), nullable=False),
    Column("who", String(64), nullable=False),
    Column("started_at", BigInteger, nullable=False),
    Column("ended_at", BigInteger),
    CheckConstraint("kind IN ('merchant', 'operator')", name="kind"),
    Index(None, "kind", "who"),
)

pos_lockout = Table(
    "pos_lockout",
    metadata,
    # wrong points passwords of one subscriber at one terminal, and that terminal's back-off
    # (core.payments.lockout): a lock at one till never refuses the others
    Column("terminal_ref", ID, ForeignKey("terminal.id"), primary_key=True),
    Column("subscriber_id", ID, ForeignKey("subscriber.id"), primary_key=True),
    Column("wrong", Integer, nullable=False, server_default="0"),
    Column("locks", Integer, nullable=False, server_default="0"),
    Column("locked_until", BigInteger, nullable=False, server_default="0"),
    Column("updated_at", BigInteger, nullable=False),
    Index(None, "subscriber_id"),
)
