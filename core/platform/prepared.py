"""Hot-path statements: SQLAlchemy Core, compiled once per dialect, run on the driver cursor.

Building a Core expression and executing it through ``Connection.execute`` costs
about 100 µs of Python per statement (expression construction, cache-key
generation, execution context, result processing), while the driver itself
needs a few µs on SQLite. A ``Prepared`` statement is written in Core like any
other, but compiled the first time it meets a dialect; afterwards each call is
one ``cursor.execute`` with a positional tuple. Values come back as the driver
gives them: use it for integer and text columns, where no type processing is
needed (booleans arrive as 0/1 from SQLite and as bool from asyncpg).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql import Executable


class Prepared:
    """``statement`` is a Core statement, or a function of the dialect name that builds one
    (for ``INSERT … ON CONFLICT``, which each dialect spells with its own construct)."""

    def __init__(self, statement: Executable | Callable[[str], Executable]) -> None:
        self._statement = statement
        self._compiled: dict[str, tuple[str, tuple[str, ...], dict[str, Any]]] = {}

    def _for(self, conn: Connection) -> tuple[str, tuple[str, ...], dict[str, Any]]:
        name = conn.dialect.name
        hit = self._compiled.get(name)
        if hit is None:
            statement = self._statement(name) if callable(self._statement) else self._statement
            compiled = statement.compile(dialect=conn.dialect)  # type: ignore[attr-defined]
            order = tuple(compiled.positiontup or ())
            defaults = compiled.construct_params(_check=False)
            hit = (str(compiled), order, defaults)
            self._compiled[name] = hit
        return hit

    def _cursor(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        sql, order, defaults = self._for(conn)
        if not conn.in_transaction():
            conn.begin()
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(sql, tuple(params[n] if n in params else defaults[n] for n in order))
        return cursor

    def rows(self, conn: Connection, **params: Any) -> list[tuple[Any, ...]]:
        cursor = self._cursor(conn, params)
        try:
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def first(self, conn: Connection, **params: Any) -> tuple[Any, ...] | None:
        cursor = self._cursor(conn, params)
        try:
            row = cursor.fetchone()
            return tuple(row) if row is not None else None
        finally:
            cursor.close()

    def scalar(self, conn: Connection, **params: Any) -> Any:
        row = self.first(conn, **params)
        return row[0] if row is not None else None

    def many(self, conn: Connection, names: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Execute once per row with the driver's ``executemany``; ``names`` are the
        parameters each row's values stand for, in the row's order (no per-row dicts)."""
        sql, order, _defaults = self._for(conn)
        if not conn.in_transaction():
            conn.begin()
        if tuple(names) != order:
            at = [list(names).index(n) for n in order]
            rows = [tuple(row[i] for i in at) for row in rows]
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(sql, rows)
        finally:
            cursor.close()

    def run(self, conn: Connection, **params: Any) -> int:
        """Execute; return the number of rows changed."""
        cursor = self._cursor(conn, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()
