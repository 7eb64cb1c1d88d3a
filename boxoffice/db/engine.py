"""Engines and sessions: SQLite (WAL, FULL sync, IMMEDIATE writes) or PostgreSQL, with error mapping.

A PostgreSQL write whose COMMIT got no answer (the connection dropped, the backend was killed) may
have been saved or not. Each write transaction notes its own transaction id before it commits; when
the commit fails that way, a new connection asks the server what became of that id
(``txid_status``), and the operator is told the truth: saved (the write returns normally), not
saved, or (when the server cannot be reached at all) not known yet.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from boxoffice.db import input_errors
from boxoffice.db.sqlite_health import FileCheck, WriteWait, begin_immediate
from boxoffice.errors import ConcurrentChange, DatabaseBusy, DatabaseUnavailable, DiskFull

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 5000
PG_CONNECT_TIMEOUT_S = 5  # libpq's connect_timeout: how long connecting may take (statements wait unbounded)

_PG_SCHEMES = frozenset(
    {"postgresql", "postgres", "postgresql+pg8000", "postgresql+psycopg", "postgresql+psycopg2"}
)
# Deadlock, serialization failure, lock not available: nothing was saved, the write may be retried.
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
# Invalid password, invalid authorization (no such role, pg_hba refused): the server answered.
_AUTH_SQLSTATES = frozenset({"28P01", "28000"})
_DISK_FULL_SQLSTATE = "53100"   # PostgreSQL; SQLite says "database or disk is full"
# libpq's own words for the same when it happens while connecting (no SQLSTATE reaches psycopg then).
_REFUSED_TEXT = (
    "password authentication failed", "no password supplied", "no pg_hba.conf entry",
    "authentication failed", "role \"",
)
_UNREACHABLE_TEXT = (
    "connection", "could not connect", "server closed", "network error", "communication error",
    "unable to open database",
)


class DatabaseRefused(DatabaseUnavailable):
    """The server answered but refused the desk's user name or password."""


# What became of a write transaction whose commit got no answer (PostgreSQL 10 and later).
_TXID = text("SELECT txid_current()")
_TXID_STATUS = text("SELECT txid_status(:xid)")
_OUTCOME_WAITS = (0.05, 0.1, 0.2, 0.4, 0.8)  # "in progress" only while a dying backend finishes


class CommitOutcomeUnknown(Exception):
    """A COMMIT got no answer; ``saved`` says what the server said afterwards (None: not asked)."""

    def __init__(self, saved: bool | None, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.saved = saved
        self.cause = cause


def sqlite_url(path: Path | str) -> str:
    return f"sqlite:///{Path(path)}"


def postgresql_url(url: str) -> str:
    """Any PostgreSQL URL with the psycopg (3) driver, the only one Box Office ships and tests.

    ``postgresql://`` and ``postgres://`` name no driver; ``postgresql+pg8000://`` and
    ``postgresql+psycopg2://`` URLs come from settings files written by earlier versions and keep
    working. Other URLs are returned unchanged.
    """
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() in _PG_SCHEMES:
        return f"postgresql+psycopg://{rest}"
    return url


def _private_file(path: Path) -> None:
    """The database's folder exists (0700 when made here); a file of an earlier version becomes 0600."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if os.name != "posix":
        return
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if candidate.stat().st_mode & 0o077:
                candidate.chmod(0o600)
        except OSError:   # missing, or not ours: SQLite reports what matters when it opens the file
            pass


def _install_sqlite_pragmas(engine: Engine, wait: WriteWait) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own handling is off).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        # A sale must survive a power cut.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode == "IMMEDIATE":   # keeps trying while another program holds the lock, and says so
            begin_immediate(conn, wait, restore_ms=SQLITE_BUSY_TIMEOUT_MS)
        else:
            conn.exec_driver_sql(f"BEGIN {mode}")


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` with the settings Box Office relies on.

    ``write_wait``: told when a SQLite write waits for another program's lock.
    """
    wait = kwargs.pop("write_wait", None) or WriteWait()
    url = postgresql_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _private_file(Path(parsed.database))
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)
        _install_sqlite_pragmas(engine, wait)
        input_errors.install(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        kwargs.setdefault("pool_pre_ping", True)
        kwargs.setdefault("connect_args", {"connect_timeout": PG_CONNECT_TIMEOUT_S})
        engine = create_engine(url, **kwargs)
        input_errors.install(engine)
        return engine
    raise ValueError(
        f"Unsupported database URL '{parsed.render_as_string(hide_password=True)}'. "
        "Use a SQLite file path or postgresql://user@host/dbname."
    )


def _sqlstate(orig: object) -> str | None:
    """The SQLSTATE of a driver error, or None (SQLite, or no server answer behind it).

    psycopg 3 carries it as ``sqlstate`` (None for its own failures, e.g. a refused connection).
    """
    code = getattr(orig, "sqlstate", None)
    return code if isinstance(code, str) else None


def _unreachable(exc: BaseException, orig: object, sqlstate: str | None, text: str) -> bool:
    """The server cannot be reached, refused the session, or ended it.

    With an answer from the server (a SQLSTATE): connection exceptions (08), operator intervention
    such as a shutdown (57P), or a FATAL error, which ends the session (unknown role or database at
    connect time, a terminated backend). Without one: the driver's own connection failures, which
    psycopg and SQLite raise as OperationalError ("connection failed: ...", "server closed the
    connection unexpectedly", "the connection is closed"); SQLAlchemy reports a connection it
    already found closed as InterfaceError.
    """
    if sqlstate is not None:
        return sqlstate.startswith(("08", "57P")) or _severity(orig) in ("FATAL", "PANIC")
    return isinstance(exc, (OperationalError, InterfaceError)) and any(
        marker in text for marker in _UNREACHABLE_TEXT
    )


def _severity(orig: object) -> str | None:
    """psycopg: the non-localised severity of the server's error (FATAL, ERROR, ...)."""
    diag = getattr(orig, "diag", None)
    severity = getattr(diag, "severity_nonlocalized", None) if diag is not None else None
    return severity if isinstance(severity, str) else None


def _is_retryable(exc: BaseException) -> bool:
    """Deadlocks and serialization failures (PostgreSQL), busy/locked (SQLite)."""
    orig = getattr(exc, "orig", None)
    if _sqlstate(orig) in _RETRYABLE_SQLSTATES:
        return True
    text = str(orig or exc).lower()
    return "database is locked" in text or "database is busy" in text


def _lost_at_commit(exc: BaseException) -> bool:
    """The commit failed because the connection went away, not because the server refused it.

    SQLAlchemy marks the errors it recognises as disconnects (``connection_invalidated``); a driver
    may also let a bare socket error through (``ConnectionResetError``, ``BrokenPipeError``).
    """
    if isinstance(exc, OSError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        orig = getattr(exc, "orig", None)
        return _unreachable(exc, orig, _sqlstate(orig), str(orig or exc).lower())
    return False


def translate_error(exc: BaseException) -> BaseException:
    """Turn infrastructure failures into errors the operator can act on."""
    if isinstance(exc, (DatabaseBusy, DatabaseUnavailable, ConcurrentChange, DiskFull)):
        return exc
    if isinstance(exc, CommitOutcomeUnknown):
        if exc.saved is False:
            return DatabaseUnavailable(
                "The connection to the database broke while saving; the database confirms that nothing "
                "was saved. Try again."
            )
        return DatabaseUnavailable(
            "The connection to the database broke while saving, and the database cannot be asked yet "
            "whether it was saved. Once it is back, look the order up on the Orders screen before "
            "trying again."
        )
    orig = getattr(exc, "orig", None)
    sqlstate = _sqlstate(orig)
    text = str(orig or exc).lower()
    if "database is locked" in text or "database is busy" in text:
        return DatabaseBusy()
    if "database or disk is full" in text or sqlstate == _DISK_FULL_SQLSTATE:
        return DiskFull()
    if sqlstate in _AUTH_SQLSTATES or (sqlstate is None and any(m in text for m in _REFUSED_TEXT)):
        return DatabaseRefused(
            "The database server refused this desk's user name or password. Nothing was saved. "
            "Check the user and password in the database URL (an admin sets up the desk's role), "
            "then try again."
        )
    if sqlstate in _RETRYABLE_SQLSTATES:
        return ConcurrentChange(
            "Another desk changed the same records at the same moment. Nothing was saved; try again."
        )
    if _unreachable(exc, orig, sqlstate, text):
        return DatabaseUnavailable(
            "The database cannot be reached. Nothing was saved. Check the network or the server, "
            "then try again."
        )
    return exc


class Database:
    """One database: an engine, a read session factory and an IMMEDIATE-write session factory.

    The session factories (and with them SQLAlchemy's ORM) are made on first use: the desk's
    sign-in screen reads through ``connect`` (Core) and shows before the ORM is loaded.
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = postgresql_url(url)
        self.write_wait = WriteWait()   # SQLite: told while a write waits for another program's lock
        self.engine = create_db_engine(url, echo=echo, write_wait=self.write_wait)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self.is_postgresql = self.engine.dialect.name == "postgresql"
        self._sessions: tuple[sessionmaker[Session], sessionmaker[Session]] | None = None
        # SQLite: the file's quick check, when the desk runs it after opening (every write waits for it).
        self.file_check: FileCheck | None = None
        self._write_engine = self.engine.execution_options(sqlite_begin="IMMEDIATE") if self.is_sqlite else self.engine

    def _factories(self) -> tuple[sessionmaker[Session], sessionmaker[Session]]:
        """(read, write) session factories; two threads making them at once make equal ones."""
        if self._sessions is None:
            from sqlalchemy.orm import sessionmaker

            self._sessions = (sessionmaker(self.engine, expire_on_commit=False, autoflush=False),
                              sessionmaker(self._write_engine, expire_on_commit=False, autoflush=False))
        return self._sessions

    @property
    def display_url(self) -> str:
        url = make_url(self.url)
        if self.is_sqlite:
            return str(url.database)
        return url.render_as_string(hide_password=True)

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A read through SQLAlchemy Core, without the ORM (rolled back at the end)."""
        try:
            with self.engine.connect() as conn:
                yield conn
        except DBAPIError as exc:
            raise translate_error(exc) from exc

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work (rolled back at the end)."""
        session = self._factories()[0]()
        try:
            yield session
        except DBAPIError as exc:
            raise translate_error(exc) from exc
        finally:
            session.rollback()
            session.close()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: commits on success, rolls back on any exception.

        On SQLite it begins IMMEDIATE, so the write lock is taken before anything is read.
        """
        if self.file_check is not None:
            self.file_check.require()   # nothing is written to a damaged file
        session = self._factories()[1]()
        try:
            session.begin()
            try:
                yield session
            except BaseException:
                session.rollback()
                raise
            self._commit(session)
        except (DBAPIError, CommitOutcomeUnknown) as exc:
            raise translate_error(exc) from exc
        finally:
            _close_quietly(session)

    def run_write(self, fn: Callable[[Session], T], *, attempts: int = 5) -> T:
        """Run ``fn`` in a write transaction, retrying deadlocks/serialization failures/busy.

        A commit lost with the connection is not retried: it is looked up, and returns normally when
        the server saved it.
        """
        if self.file_check is not None:
            self.file_check.require()
        write = self._factories()[1]
        return self._run(write, fn, attempts)

    def run_core_write(self, fn: Callable[[Connection], T], *, attempts: int = 5) -> T:
        """``run_write`` for Core statements: ``fn`` gets the transaction's connection, no ORM session.

        The same transaction (``BEGIN IMMEDIATE`` on SQLite), retries and commit lookup; for hot
        paths such as a scan at the door, which need no unit of work.
        """
        if self.file_check is not None:
            self.file_check.require()
        return self._run(self._write_engine.connect, fn, attempts)

    def _run(self, open_unit: Callable[[], Any], fn: Callable[[Any], T], attempts: int) -> T:
        """Open a session or connection, run ``fn`` in its transaction and commit; retried as ``run_write`` says."""
        for attempt in range(1, attempts + 1):
            unit = None
            try:
                unit = open_unit()
                unit.begin()
                try:
                    result = fn(unit)
                except BaseException:
                    unit.rollback()
                    raise
                self._commit(unit)
                return result
            except DBAPIError as exc:
                if attempt < attempts and _is_retryable(exc):
                    delay = min(0.5, 0.01 * (2 ** attempt)) * (0.5 + random.random())
                    log.info("retrying write after %s (attempt %d)", type(exc.orig).__name__, attempt)
                    time.sleep(delay)
                    continue
                raise translate_error(exc) from exc
            except CommitOutcomeUnknown as exc:
                raise translate_error(exc) from exc
            finally:
                if unit is not None:
                    _close_quietly(unit)
        raise AssertionError("unreachable")

    def _commit(self, unit: Session | Connection) -> None:
        """Commit; on PostgreSQL a commit lost with the connection is looked up by its transaction id.

        Returns when the transaction is saved; raises ``CommitOutcomeUnknown`` when it was not, or
        when the server cannot be asked. Errors before the COMMIT (a failed flush) pass unchanged.
        """
        if not self.is_postgresql:
            unit.commit()
            return
        if not isinstance(unit, Connection):
            unit.flush()  # a constraint error here is a plain refusal: nothing was sent to commit
        xid = unit.execute(_TXID).scalar()
        try:
            unit.commit()
        except (DBAPIError, OSError) as exc:
            if not _lost_at_commit(exc):
                raise
            saved = self._committed(int(xid)) if xid is not None else None
            log.warning("commit of transaction %s lost with its connection (%s): %s", xid, type(exc).__name__,
                        {True: "it was saved", False: "nothing was saved", None: "outcome not known"}[saved])
            if saved:
                return
            raise CommitOutcomeUnknown(saved, exc) from exc

    def _committed(self, xid: int) -> bool | None:
        """Ask the server, on a new connection, whether transaction ``xid`` committed (None: cannot)."""
        for wait in (*_OUTCOME_WAITS, None):
            try:
                with self.engine.connect() as conn:
                    status = conn.execute(_TXID_STATUS, {"xid": xid}).scalar()
            except (DBAPIError, OSError) as exc:
                log.info("cannot ask about transaction %s yet: %s", xid, exc)
                status = None
            if status == "committed":
                return True
            if status == "aborted":
                return False
            if wait is None:
                return None
            time.sleep(wait)  # "in progress" while the old backend ends, or the server restarting
        return None

    def dispose(self) -> None:
        self.engine.dispose()


def _close_quietly(unit: Session | Connection) -> None:
    """Close a session or connection whose connection may be dead (its rollback then fails; the pool drops it)."""
    try:
        unit.close()
    except (DBAPIError, OSError) as exc:
        log.info("closing a session on a broken connection: %s", exc)
