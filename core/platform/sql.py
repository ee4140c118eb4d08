"""Small helpers for SQL that differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def ignoring(dialect: str, table: Table, *conflict_columns: str) -> Any:
    """``insert_ignoring`` for a dialect name, to build a ``Prepared`` statement."""
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    if not conflict_columns:
        return dialect_insert(table).on_conflict_do_nothing()
    return dialect_insert(table).on_conflict_do_nothing(index_elements=list(conflict_columns))


def insert_ignoring(conn: Connection, table: Table, *conflict_columns: str) -> Any:
    """``INSERT … ON CONFLICT (cols) DO NOTHING`` for the connection's dialect (any
    unique constraint when no column is named).

    The atomic way to claim an idempotency key: the database, not a prior
    SELECT, decides who was first.
    """
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    if not conflict_columns:
        return dialect_insert(table).on_conflict_do_nothing()
    return dialect_insert(table).on_conflict_do_nothing(index_elements=list(conflict_columns))


def for_update(conn: Connection) -> bool:
    """Whether ``SELECT … FOR UPDATE`` means anything here (SQLite locks the whole file)."""
    return conn.dialect.name == "postgresql"
