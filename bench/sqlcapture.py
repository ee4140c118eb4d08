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
_SPACED_FROM = re.compile(r"\sFROM\s")
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


def _split_top(text: str) -> list[str]:
    """``text`` split at its commas outside parentheses."""
    items, depth, start = [], 0, 0
    for k, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(text[start:k].strip())
            start = k + 1
    items.append(text[start:].strip())
    return items


def _main_select(sql: str) -> tuple[list[str], str | None]:
    """The items of the statement's outermost ``SELECT`` list (after any ``WITH``), and the
    table its ``FROM`` names (None when it has none)."""
    depth, k, upper = 0, 0, sql.upper()
    start = end = -1
    while k < len(sql):
        ch = sql[k]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and start < 0 and upper.startswith("SELECT", k):
            start = k + 6
        elif depth == 0 and start >= 0 and _SPACED_FROM.match(upper, k):
            end = k
            break
        k += 1
    if start < 0:
        return [], None
    items = _split_top(sql[start : end if end >= 0 else len(sql)])
    frm = _FROM.match(sql, end + 1) if end >= 0 else None
    return items, frm.group(1) if frm else None


def _selected_tables(sql: str, metadata: MetaData) -> list[str | None]:
    """For each result column of a ``SELECT`` (or ``WITH … SELECT``): the table whose ids it
    holds, or None. A column is ``t.c`` of the ``FROM`` table, or a scalar subquery
    ``(SELECT t.c FROM t …)`` (the hall's peek columns), where ``t`` may be a CTE that
    inserts into a table (``WITH claimed AS (INSERT INTO inbound …)``)."""
    ctes = dict(re.findall(r"(\w+) AS\s+\(\s*INSERT INTO (\w+)", sql))
    items, table = _main_select(sql)
    tables: list[str | None] = []
    for item in items:
        inner = re.match(r"\(\s*SELECT\s+(\w+)\.(\w+)\b", item)
        if inner:
            tables.append(
                _referenced(metadata, ctes.get(inner.group(1), inner.group(1)), inner.group(2))
            )
            continue
        name = item.split(" AS ")[0].strip().split(".")[-1]
        tables.append(_referenced(metadata, table, name) if table else None)
    return tables


def _selected_columns(sql: str, columns: list[str]) -> dict[int, str]:
    """For ``INSERT INTO t (c1, c2…) SELECT e1, e2… FROM …``: the index (among all the
    statement's parameters) of each parameter that is a whole ``e`` by itself, and the
    column it fills. Parameters inside an expression are left out."""
    head = re.search(r"\)\s*SELECT\s+(.*?)\s+FROM\s", sql, re.S)
    if head is None:
        return {}
    items = _split_top(head.group(1))
    before = len(_PARAM.findall(sql[: head.start(1)]))
    found: dict[int, str] = {}
    index = before
    for column, expr in zip(columns, items, strict=False):
        bare = re.sub(r"::\w+$", "", re.sub(r"\s+AS\s+\w+$", "", expr))
        if _PARAM.fullmatch(bare):
            found[index] = column
        index += len(_PARAM.findall(expr))
    return found


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
            selected = _selected_columns(sql, columns) if insert else {}
            for i, match in enumerate(_PARAM.finditer(sql)):
                before = sql[: match.start()]
                ref = None
                if insert and i < len(columns) and " SELECT " not in sql.upper():
                    ref = _referenced(metadata, insert.group(1), columns[i])
                elif i in selected:
                    ref = _referenced(metadata, insert.group(1), selected[i])  # type: ignore[union-attr]
                elif tc := _TABLE_COL.search(before):
                    ref = _referenced(metadata, tc.group(1), tc.group(2))
                elif target and (sc := _SET_COL.search(before)):
                    ref = _referenced(metadata, target, sc.group(1))
                # PostgreSQL numbers its parameters and names a repeated one once ($1 … $1)
                at = int(match.group()[1:]) - 1 if match.group().startswith("$") else i
                while len(tables) <= at:
                    tables.append(None)
                tables[at] = tables[at] or ref
            tables.extend([None] * (len(params) - len(tables)))
            result_tables: list[str | None] = []
            returning = re.search(r"RETURNING (.*)$", sql, re.S)
            if returning and target:
                names = [c.strip().split(".")[-1] for c in returning.group(1).split(",")]
                result_tables = [_referenced(metadata, target, n) for n in names]
            elif sql.lstrip().upper().startswith(("SELECT", "WITH")):
                result_tables = _selected_tables(sql, metadata)
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
