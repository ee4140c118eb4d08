"""Settlement by a per-merchant watermark (issue 15 §3, §6.3): a statement covers its
merchant's lines numbered after ``lines_after`` up to ``lines_upto``; lines no longer
carry their statement.

Existing statements get the range of the lines they claimed: ``lines_upto`` the highest
line id claimed, ``lines_after`` the highest ``lines_upto`` of the merchant's earlier
statements (0 for the first).

Revision ID: 0018_15a
Revises: 0017_15b
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_15a"
down_revision: str | None = "0017_15b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("statement") as batch:
        batch.add_column(
            sa.Column("lines_after", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("lines_upto", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.execute(
        "UPDATE statement SET lines_upto = COALESCE((SELECT max(l.id) FROM settlement_line l"
        " WHERE l.statement_id = statement.id), 0)"
    )
    op.execute(
        "UPDATE statement SET lines_after = COALESCE((SELECT max(s.lines_upto) FROM statement s"
        " WHERE s.merchant_id = statement.merchant_id AND s.id < statement.id), 0)"
    )
    with op.batch_alter_table("statement") as batch:
        batch.create_unique_constraint(
            op.f("uq_statement_merchant_id_lines_after"), ["merchant_id", "lines_after"]
        )
        batch.create_check_constraint(op.f("ck_statement_lines_range"), "lines_upto > lines_after")
    op.drop_index(
        op.f("ix_settlement_line_merchant_id_statement_id_consumed_at"), "settlement_line"
    )
    op.drop_index(op.f("ix_settlement_line_statement_id"), "settlement_line")
    with op.batch_alter_table("settlement_line") as batch:
        batch.drop_constraint(op.f("fk_settlement_line_statement_id_statement"), type_="foreignkey")
        batch.drop_column("statement_id")
    op.create_index(
        op.f("ix_settlement_line_merchant_id_id"), "settlement_line", ["merchant_id", "id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_settlement_line_merchant_id_id"), "settlement_line")
    with op.batch_alter_table("settlement_line") as batch:
        batch.add_column(sa.Column("statement_id", ID, nullable=True))
        batch.create_foreign_key(
            op.f("fk_settlement_line_statement_id_statement"),
            "statement",
            ["statement_id"],
            ["id"],
        )
    op.execute(
        "UPDATE settlement_line SET statement_id = (SELECT s.id FROM statement s"
        " WHERE s.merchant_id = settlement_line.merchant_id"
        " AND settlement_line.id > s.lines_after AND settlement_line.id <= s.lines_upto)"
    )
    op.create_index(op.f("ix_settlement_line_statement_id"), "settlement_line", ["statement_id"])
    op.create_index(
        op.f("ix_settlement_line_merchant_id_statement_id_consumed_at"),
        "settlement_line",
        ["merchant_id", "statement_id", "consumed_at"],
    )
    with op.batch_alter_table("statement") as batch:
        batch.drop_constraint(op.f("ck_statement_lines_range"), type_="check")
        batch.drop_constraint(op.f("uq_statement_merchant_id_lines_after"), type_="unique")
        batch.drop_column("lines_upto")
        batch.drop_column("lines_after")
