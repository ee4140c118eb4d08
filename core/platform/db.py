"""Storage: one ``Database`` API over SQLite (default) and PostgreSQL.

A *unit of work* is a plain synchronous function ``fn(conn) -> T`` written with
SQLAlchemy Core against a ``sqlalchemy.Connection``. ``await db.write(fn)`` runs
it in one transaction: it commits if ``fn`` returns and rolls back if it raises.
The same function runs on both databases:

* **SQLite**: every write goes to one writer thread holding one connection
  (stdlib ``sqlite3``, WAL, ``BEGIN IMMEDIATE``). The whole unit of work runs
  there in one hop instead of one thread hop per statement, and the writer
  commits whatever units are queued together in one transaction (group commit),
  each inside its own SAVEPOINT so one failing unit never undoes another. Reads
  go through aiosqlite connections so long reads never queue behind writes.
* **PostgreSQL**: ``AsyncConnection.run_sync`` over asyncpg, pooled; serialization
  failures and deadlocks are retried.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

T = TypeVar("T")
UnitOfWork = Callable[[Connection], T]

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 10_000
MAX_GROUP_COMMIT = 256
PG_RETRY_SQLSTATES = frozenset({"40001", "40P01"})
PG_MAX_RETRIES = 8


class Database:
    """What the rest of the product sees of storage."""

    dialect: str
    url: URL

    async def write(self, fn: UnitOfWork[T]) -> T:
        raise NotImplementedError

    async def read(self, fn: UnitOfWork[T]) -> T:
        raise NotImplementedError

    @property
    def async_engine(self) -> AsyncEngine:
        """The async engine, for migrations and streaming reads."""
        raise NotImplementedError

    async def dispose(self) -> None:
        raise NotImplementedError


def open_database(url: str, *, pool_size: int = 10) -> Database:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return SqliteDatabase(parsed)
    if parsed.get_backend_name() == "postgresql":
        return PostgresDatabase(parsed, pool_size=pool_size)
    raise ValueError(f"unsupported database URL {parsed.render_as_string(hide_password=True)}")


_AT_END = "pointshall.at_end"


def at_end(conn: Connection, step: Callable[[Connection], object]) -> None:
    """Run ``step(conn)`` when the unit of work ends, just before it commits, in the same
    transaction (issue 15 §2): for an update of a row every unit touches (an item's
    ``sold``), whose row lock PostgreSQL would otherwise hold from the middle of the unit
    to its commit while other units queue for it. Dropped with the savepoint (or unit)
    that registered it if that rolls back; the steps run in the order registered. Outside
    a unit of work of this module (no end to wait for) it runs at once."""
    pending = conn.info.get(_AT_END)
    if pending is None:
        step(conn)
    else:
        pending.append(step)


_MEMO = "pointshall.unit_memo"
_ATTEMPT = "pointshall.attempt"


class Redo(Exception):
    """Raised by a unit of work that ran ``optimistic``ally and failed: the database rolls
    the whole transaction back and runs the unit once more from the start, no longer
    optimistic. The cause is the exception it was raised from."""


def optimistic(conn: Connection) -> bool:
    """Whether the unit of work on ``conn`` may leave out a savepoint it takes only to
    survive a failure of its own making (issue 15 §2: a ``SAVEPOINT`` and its ``RELEASE``
    are two round trips on PostgreSQL): true on PostgreSQL in a unit's first attempt run
    by ``Database.write``. Such a unit raises ``Redo`` from the failure instead, and its
    second attempt takes the savepoint. Never on SQLite (a savepoint costs no round trip
    there, and its writer's group commit shares one transaction among units)."""
    return conn.info.get(_ATTEMPT) == 0


def unit_memo(conn: Connection) -> dict[str, Any]:
    """A dict that lives as long as the unit of work running on ``conn``: for what a unit
    learnt that spares it a statement later in the same transaction (that a subscriber
    has no conversation, say). Outside a unit of work of this module, an empty dict each
    call (nothing is remembered)."""
    memo = conn.info.get(_MEMO)
    return memo if memo is not None else {}


def _finish(fn: UnitOfWork[T], attempt: int | None = None) -> UnitOfWork[T]:
    """``fn``, then the steps it left for the end of its unit of work. ``attempt`` (0, 1)
    is given by a database whose units may be ``optimistic`` on their first attempt."""

    def unit(conn: Connection) -> T:
        conn.info[_AT_END] = []
        conn.info[_MEMO] = {}
        if attempt is not None:
            conn.info[_ATTEMPT] = attempt
        try:
            result = fn(conn)
            for step in conn.info[_AT_END]:
                step(conn)
            return result
        finally:
            conn.info.pop(_AT_END, None)
            conn.info.pop(_MEMO, None)
            conn.info.pop(_ATTEMPT, None)

    return unit


@contextmanager
def _dropping_at_end(conn: Connection) -> Iterator[None]:
    pending = conn.info.get(_AT_END)
    mark = len(pending) if pending is not None else 0
    try:
        yield
    except BaseException:
        if pending is not None:
            del pending[mark:]
        raise


@contextmanager
def savepoint(conn: Connection, name: str = "unit") -> Iterator[None]:
    """Run the block inside a SAVEPOINT: released on success, rolled back if it raises
    (with the ``at_end`` steps the block registered).

    The exception propagates. On SQLite the three statements go straight to the
    driver (SQLAlchemy's ``begin_nested`` compiles them anew each time, which
    costs more than everything else on the SMS hot path).
    """
    if conn.dialect.name != "sqlite":
        with _dropping_at_end(conn), conn.begin_nested():
            yield
        return
    raw = conn.connection.dbapi_connection
    assert raw is not None
    raw.execute(f"SAVEPOINT {name}")
    try:
        with _dropping_at_end(conn):
            yield
    except BaseException:
        raw.execute(f"ROLLBACK TO {name}")
        raw.execute(f"RELEASE {name}")
        raise
    raw.execute(f"RELEASE {name}")


# --------------------------------------------------------------------------- SQLite


def _sqlite_path(url: URL) -> str:
    database = url.database or ""
    if database in ("", ":memory:"):
        raise ValueError("SQLite needs a file (WAL and a separate writer need one)")
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    return database


def _configure_sqlite(engine: Engine, begin: str) -> None:
    """Take transaction control from the driver so we choose how each one begins."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA temp_store=MEMORY")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql(begin)


@dataclass
class _Job:
    fn: UnitOfWork[Any]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    ok: bool = False
    result: Any = None
    error: BaseException | None = None


@dataclass
class _Writer:
    """The single SQLite writer thread and its queue."""

    engine: Engine
    jobs: queue.SimpleQueue[_Job | None] = field(default_factory=queue.SimpleQueue)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="sqlite-writer", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.thread is not None:
            self.jobs.put(None)
            self.thread.join()
            self.thread = None

    def _run(self) -> None:
        try:
            conn = self.engine.connect()
        except Exception as exc:  # not a database, no permission: every write gets the error
            self._refuse_all(exc)
            return
        try:
            stopping = False
            while not stopping:
                first = self.jobs.get()
                if first is None:
                    break
                batch = [first]
                while len(batch) < MAX_GROUP_COMMIT:
                    try:
                        nxt = self.jobs.get_nowait()
                    except queue.Empty:
                        break
                    if nxt is None:
                        stopping = True
                        break
                    batch.append(nxt)
                self._run_batch(conn, batch)
        finally:
            conn.close()

    def _refuse_all(self, error: Exception) -> None:
        while (job := self.jobs.get()) is not None:
            job.error = error
            _hand_back([job])

    @staticmethod
    def _run_batch(conn: Connection, batch: list[_Job]) -> None:
        try:
            with conn.begin():
                if len(batch) == 1:
                    job = batch[0]
                    try:
                        job.result, job.ok = job.fn(conn), True
                    except BaseException as exc:
                        job.error = exc
                        raise
                else:
                    for job in batch:
                        try:
                            with savepoint(conn, "job"):
                                job.result, job.ok = job.fn(conn), True
                        except BaseException as exc:
                            job.error = exc
        except BaseException as exc:
            for job in batch:
                if job.ok or job.error is None:
                    job.ok, job.error = False, exc
        _hand_back(batch)


def _hand_back(batch: list[_Job]) -> None:
    """Give each job's outcome to the event loop that waits for it."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Job]] = {}
    for job in batch:
        by_loop.setdefault(job.loop, []).append(job)
    for loop, jobs in by_loop.items():
        try:
            loop.call_soon_threadsafe(_deliver, jobs)
        except RuntimeError:  # the caller's loop has closed; nobody is waiting
            log.warning("dropped %d results for a closed event loop", len(jobs))


def _deliver(jobs: list[_Job]) -> None:
    for job in jobs:
        if job.future.done():
            continue
        if job.ok:
            job.future.set_result(job.result)
        else:
            assert job.error is not None
            job.future.set_exception(job.error)


class SqliteDatabase(Database):
    dialect = "sqlite"

    def __init__(self, url: URL) -> None:
        self.url = url
        path = _sqlite_path(url)
        writer_engine = create_engine(
            f"sqlite+pysqlite:///{path}",
            poolclass=StaticPool,
            connect_args={"check_same_thread": False},
        )
        _configure_sqlite(writer_engine, "BEGIN IMMEDIATE")
        self._writer = _Writer(writer_engine)
        self._writer.start()
        self._async = create_async_engine(f"sqlite+aiosqlite:///{path}", pool_size=4)
        _configure_sqlite(self._async.sync_engine, "BEGIN")

    @property
    def async_engine(self) -> AsyncEngine:
        return self._async

    async def write(self, fn: UnitOfWork[T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._writer.jobs.put(_Job(_finish(fn), loop, future))
        return await future

    async def read(self, fn: UnitOfWork[T]) -> T:
        async with self._async.connect() as conn:
            try:
                return await conn.run_sync(fn)
            finally:
                await conn.rollback()

    async def dispose(self) -> None:
        await asyncio.to_thread(self._writer.stop)
        self._writer.engine.dispose()
        await self._async.dispose()


# ----------------------------------------------------------------------- PostgreSQL


PG_PING_AFTER_IDLE_S = 10.0
"""A pooled connection idle this long is pinged before use (a restarted server or a
dropped connection is found then, not by the unit of work)."""


def _ping_when_idle(engine: Engine) -> None:
    """Ping a connection on checkout only if it sat idle in the pool (issue 15 §2).

    ``pool_pre_ping`` pings on every checkout: on asyncpg that is BEGIN, a query and
    ROLLBACK, three round trips before each unit of work. A connection in steady use
    needs none; one idle past ``PG_PING_AFTER_IDLE_S`` gets the same ping, and a failed
    ping makes the pool replace it, as ``pool_pre_ping`` would.
    """

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PG_PING_AFTER_IDLE_S:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError(f"idle connection failed its ping: {exc}") from exc
        if not alive:
            raise DisconnectionError("idle connection failed its ping")


def _transaction(fn: UnitOfWork[T]) -> UnitOfWork[T]:
    """``fn`` in a transaction begun and committed (or rolled back) on its side of the
    greenlet: one hop into it per unit of work instead of three (begin, the unit, commit)."""

    def unit(conn: Connection) -> T:
        with conn.begin():
            return fn(conn)

    return unit


def _is_retryable(exc: DBAPIError) -> bool:
    orig = exc.orig
    code = getattr(orig, "pgcode", None) or getattr(orig, "sqlstate", None)
    return code in PG_RETRY_SQLSTATES


class PostgresDatabase(Database):
    dialect = "postgresql"

    def __init__(self, url: URL, *, pool_size: int) -> None:
        self.url = url.set(drivername="postgresql+asyncpg")
        self._async = create_async_engine(self.url, pool_size=pool_size, max_overflow=0)
        _ping_when_idle(self._async.sync_engine)
        # Callers wait here, in asyncio, for a connection: a burst of requests queues
        # without a pool timeout turning it into errors.
        self._slots = asyncio.Semaphore(pool_size)

    @property
    def async_engine(self) -> AsyncEngine:
        return self._async

    async def write(self, fn: UnitOfWork[T]) -> T:
        """Run ``fn`` in one transaction. A serialization failure or deadlock is retried
        up to ``PG_MAX_RETRIES`` attempts in all, with back-off; a ``Redo`` runs the unit
        once more, no longer optimistic, and that run is not counted against the retries
        (a refusal on the last attempt is still recorded; a command that deadlocks on
        every optimistic attempt gets its careful run, which records the failure)."""
        redone = 0
        retries = 0
        while True:
            try:
                async with self._slots, self._async.connect() as conn:
                    return await conn.run_sync(_transaction(_finish(fn, redone)))
            except Redo as redo:
                if redone:
                    raise AssertionError("a unit asked to be redone when not optimistic") from redo
                cause = redo.__cause__
                if (
                    isinstance(cause, DBAPIError)
                    and _is_retryable(cause)
                    and retries < PG_MAX_RETRIES - 1
                ):
                    await asyncio.sleep(0.005 * (2**retries))  # a deadlock: again, optimistic
                    retries += 1
                    continue
                redone = 1
            except DBAPIError as exc:
                if not _is_retryable(exc) or retries >= PG_MAX_RETRIES - 1:
                    raise
                await asyncio.sleep(0.005 * (2**retries))
                retries += 1

    async def read(self, fn: UnitOfWork[T]) -> T:
        async with self._slots, self._async.connect() as conn:
            try:
                return await conn.run_sync(fn)
            finally:
                await conn.rollback()

    async def dispose(self) -> None:
        await self._async.dispose()
