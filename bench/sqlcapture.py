"""Capture the SQL a unit of work sends to the driver, for replaying it bare (issue 15 §1).

``Capture.unit`` records one unit of work run alone: every statement the unit
sends through the driver connection — SQLAlchemy's, ``Prepared``'s and the SQLite
savepoints — is recorded with its parameters, what it returned and its row count.
The transaction around it (``BEGIN``/``COMMIT``, and on SQLite the group commit's
savepoints) is the database layer's and is not part of the unit.

On SQLite the stdlib connection type has no ``__dict__``, so ``install_sqlite_factory``
makes every ``sqlite3.connect`` of this process build a subclass that does; call it
before the database is opened.
"""

from __future__ import annotations

import re
import sqlite3
import sqlite3.dbapi2
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import MetaData


@dataclass
class Statement:
    sql: str
    params: Any
    many: bool
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    rowcount: int = -1


class _Connection(sqlite3.Connection):
    """A stdlib SQLite connection whose methods can be wrapped per instance."""


_INSTALLED: list[bool] = []


def install_sqlite_factory() -> None:
    if _INSTALLED:
        return
    _INSTALLED.append(True)
    original = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        kwargs.setdefault("factory", _Connection)
        return original(*args, **kwargs)

    sqlite3.connect = connect  # type: ignore[assignment]
    sqlite3.dbapi2.connect = connect  # type: ignore[assignment]  # what SQLAlchemy calls


class _Cursor:
    """A driver cursor that records what goes through it."""

    def __init__(self, inner: Any, log: list[Statement]) -> None:
        self._inner = inner
        self._log = log
        self._last: Statement | None = None

    def execute(self, sql: str, params: Any = ()) -> Any:
        self._last = Statement(sql, params, False)
        self._log.append(self._last)
        out = self._inner.execute(sql, params)
        self._last.rowcount = getattr(self._inner, "rowcount", -1)
        return self if out is self._inner else out

    def executemany(self, sql: str, rows: Sequence[Any]) -> Any:
        self._last = Statement(sql, list(rows), True)
        self._log.append(self._last)
        out = self._inner.executemany(sql, self._last.params)
        self._last.rowcount = getattr(self._inner, "rowcount", -1)
        return out

    def _keep(self, rows: list[Any]) -> list[Any]:
        if self._last is not None:
            self._last.rows.extend(tuple(r) for r in rows)
        return rows

    def fetchone(self) -> Any:
        row = self._inner.fetchone()
        if row is not None:
            self._keep([row])
        return row

    def fetchall(self) -> list[Any]:
        return self._keep(list(self._inner.fetchall()))

    def fetchmany(self, size: int | None = None) -> list[Any]:
        rows = self._inner.fetchmany(size) if size is not None else self._inner.fetchmany()
        return self._keep(list(rows))

    def __iter__(self) -> Any:
        return iter(self.fetchall())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def driver_connection_class(dialect: str) -> type:
    """The class of the driver connections a database of ``dialect`` hands to units."""
    if dialect == "sqlite":
        return _Connection
    from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

    return AsyncAdapt_asyncpg_connection


@dataclass
class Capture:
    """Record the statements of units of work; ``units[i]`` is the i-th recorded."""

    units: list[list[Statement]] = field(default_factory=list)

    @contextmanager
    def unit(self, cls: type) -> Iterator[None]:
        """Record what goes through connections of ``cls`` (the driver's) while the block
        runs one unit of work, alone: the unit and the steps it left for its end, not the
        transaction around it (``BEGIN``; ``COMMIT`` is not a statement)."""
        log: list[Statement] = []
        original_cursor = cls.cursor  # type: ignore[attr-defined]
        original_execute = getattr(cls, "execute", None)

        def cursor(self: Any, *args: Any, **kwargs: Any) -> _Cursor:
            return _Cursor(original_cursor(self, *args, **kwargs), log)

        def execute(self: Any, sql: str, params: Any = ()) -> Any:
            return cursor(self).execute(sql, params)

        cls.cursor = cursor  # type: ignore[attr-defined]
        if original_execute is not None:
            cls.execute = execute  # type: ignore[attr-defined]
        try:
            yield
        finally:
            cls.cursor = original_cursor  # type: ignore[attr-defined]
            if original_execute is not None:
                cls.execute = original_execute  # type: ignore[attr-defined]
            self.units.append([s for s in log if not s.sql.lstrip().upper().startswith("BEGIN")])


# ---------------------------------------------------------------------------- replay

_PARAM = re.compile(r"\?|\$\d+")
_INSERT = re.compile(r"^\s*INSERT INTO (\w+) \(([^)]*)\)", re.S)
_TABLE_COL = re.compile(r"(\w+)\.(\w+)\s*(?:=|>=|<=|<>|!=|>|<|IN \()\s*$")
_SET_COL = re.compile(r"(\w+)\s*=\s*\(?(?:\w+\.\w+\s*[-+]\s*)?$")
_FROM = re.compile(r"\bFROM (\w+)")
_TARGET = re.compile(r"^\s*(?:UPDATE|DELETE FROM) (\w+)")


def _referenced(metadata: MetaData, table: str, column: str) -> str | None:
    """The table whose ids ``table.column`` holds: itself for ``id``, else its foreign key's."""
    found = metadata.tables.get(table)
    if found is None or column not in found.c:
        return None
    if column == "id":
        return table
    for fk in found.c[column].foreign_keys:
        return str(fk.column.table.name)
    return None


@dataclass
class Step:
    """One captured statement made replayable: which of its parameters and result columns
    are ids of which table, so a replay can carry its own ids through."""

    sql: str
    params: tuple[Any, ...]
    param_tables: tuple[str | None, ...]
    rows: list[tuple[Any, ...]]
    result_tables: tuple[str | None, ...]
    rowcount: int


def plan(units: list[list[Statement]], metadata: MetaData) -> list[list[Step]]:
    """Classify every parameter and result column of the captured ``units``."""
    planned: list[list[Step]] = []
    for unit in units:
        steps = []
        for st in unit:
            if st.many:
                raise ValueError("executemany in a captured unit is not replayable")
            sql = st.sql
            params = tuple(st.params or ())
            tables: list[str | None] = []
            insert = _INSERT.match(sql)
            columns = [c.strip() for c in insert.group(2).split(",")] if insert else []
            target = (insert.group(1) if insert else None) or (
                m.group(1) if (m := _TARGET.match(sql)) else None
            )
            for i, match in enumerate(_PARAM.finditer(sql)):
                before = sql[: match.start()]
                ref = None
                if insert and i < len(columns) and " SELECT " not in sql.upper():
                    ref = _referenced(metadata, insert.group(1), columns[i])
                elif tc := _TABLE_COL.search(before):
                    ref = _referenced(metadata, tc.group(1), tc.group(2))
                elif target and (sc := _SET_COL.search(before)):
                    ref = _referenced(metadata, target, sc.group(1))
                tables.append(ref)
            result_tables: list[str | None] = []
            returning = re.search(r"RETURNING (.*)$", sql, re.S)
            if returning and target:
                names = [c.strip().split(".")[-1] for c in returning.group(1).split(",")]
                result_tables = [_referenced(metadata, target, n) for n in names]
            elif sql.lstrip().upper().startswith("SELECT") and (frm := _FROM.search(sql)):
                head = sql[: frm.start()]
                names = [c.strip().split(" AS ")[0].split(".")[-1] for c in head[6:].split(",")]
                result_tables = [_referenced(metadata, frm.group(1), n) for n in names]
            steps.append(
                Step(sql, params, tuple(tables), st.rows, tuple(result_tables), st.rowcount)
            )
        planned.append(steps)
    return planned


@dataclass
class Rewriter:
    """The values one replayed redemption uses instead of the captured ones: ids by
    table (learnt from what the replay's own statements return) and unique strings."""

    ids: dict[tuple[str, Any], Any] = field(default_factory=dict)
    strings: dict[str, str] = field(default_factory=dict)

    def params(self, step: Step) -> tuple[Any, ...]:
        out = []
        for value, table in zip(step.params, step.param_tables, strict=False):
            if table is not None and (table, value) in self.ids:
                value = self.ids[(table, value)]
            elif isinstance(value, str):
                for old, new in self.strings.items():
                    if old in value:
                        value = value.replace(old, new)
            out.append(value)
        return tuple(out)

    def learn(self, step: Step, rows: Sequence[Sequence[Any]]) -> None:
        for captured, replayed in zip(step.rows, rows, strict=False):
            for table, old, new in zip(step.result_tables, captured, replayed, strict=False):
                if table is not None:
                    self.ids[(table, old)] = new


@dataclass
class RoundTrips:
    """Counts the calls into asyncpg that each cost one network round trip (a statement,
    a prepare, BEGIN, COMMIT, a ping), while ``counting``."""

    count: int = 0
    counting: bool = False
    _undo: list[tuple[type, str, Any]] = field(default_factory=list)

    def install(self) -> None:
        from asyncpg import connection, prepared_stmt

        targets = [
            (connection.Connection, ("execute", "fetch", "fetchrow", "fetchval", "prepare")),
            (prepared_stmt.PreparedStatement, ("fetch", "fetchrow", "fetchval")),
        ]  # a transaction's BEGIN/COMMIT go through Connection.execute
        for cls, names in targets:
            for name in names:
                original = cls.__dict__[name]
                self._undo.append((cls, name, original))
                setattr(cls, name, self._counted(original))

    def _counted(self, original: Any) -> Any:
        trips = self

        async def counted(*args: Any, **kwargs: Any) -> Any:
            if trips.counting:
                trips.count += 1
            return await original(*args, **kwargs)

        return counted

    def uninstall(self) -> None:
        for cls, name, original in reversed(self._undo):
            setattr(cls, name, original)
        self._undo.clear()
