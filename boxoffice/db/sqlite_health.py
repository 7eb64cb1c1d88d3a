"""The SQLite file's health: refused before use when empty, read-only or damaged; writes wait out another program's lock.

``check_file`` runs when a desk or command opens the file (``app.open_database``): a zero-byte file
is an error (not a new database), a file this account cannot write is refused (a desk that cannot
save sales must not start as one), and ``PRAGMA quick_check`` must pass, or the desk names the
newest backup as the way back. The desk's window does not wait for the quick check (seconds on a
large file): ``FileCheck`` runs it on a worker once, and every write waits for its verdict, so none
goes to a damaged file. ``integrity_findings`` is the full ``PRAGMA integrity_check`` of
``boxoffice db check``.

``begin_immediate`` takes the write lock for every write transaction: while another program holds
it, it keeps trying (each try waits ``TRY_MS``) and tells the ``WriteWait`` listeners after the
first failed try, so the desk can say so within seconds instead of waiting silently.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from boxoffice.errors import DatabaseBusy, DatabaseDamaged, DatabaseReadOnly

log = logging.getLogger(__name__)

TRY_MS = 1000          # one try for the write lock; the listeners hear of a wait after the first
WAIT_LIMIT_S = 120.0   # then the write gives up: nothing was saved, the operator may try again
WAITING_MESSAGE = ("Another program is using the database, so this desk cannot save yet. "
                   "Still trying; close the other program (or wait for it) and the sale goes through.")


class WriteWait:
    """Who is told when a write waits for another program's lock (``True``) and when it stops (``False``).

    Listeners are called on the thread that waits (a worker in the desk): a GUI listener must
    hand the news to its own thread (a queued signal).
    """

    def __init__(self) -> None:
        self._listeners: list[Callable[[bool], None]] = []
        self._lock = threading.Lock()

    def add(self, listener: Callable[[bool], None]) -> None:
        with self._lock:
            self._listeners.append(listener)

    def remove(self, listener: Callable[[bool], None]) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def notify(self, waiting: bool) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(waiting)
            except Exception:   # a broken listener must not lose the sale
                log.exception("write-wait listener failed")


def _locked(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", None) or exc).lower()
    return "database is locked" in text or "database is busy" in text


def begin_immediate(conn: Any, wait: WriteWait, *, restore_ms: int) -> None:
    """``BEGIN IMMEDIATE`` on ``conn``, retried while another program holds the write lock.

    The first try waits ``TRY_MS`` (SQLite's busy timeout); after it fails the listeners hear
    ``True``, and ``False`` once the lock is taken or the wait gives up (``DatabaseBusy``).
    """
    try_ms, limit_s = TRY_MS, WAIT_LIMIT_S
    # These three statements run on the driver's connection itself: every write transaction of
    # every desk pays for them, and they need none of SQLAlchemy's statement handling.
    driver = conn.connection.driver_connection
    driver.execute(f"PRAGMA busy_timeout={try_ms}")
    started = time.monotonic()
    told = False
    try:
        while True:
            try:
                driver.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.Error as exc:
                if not _locked(exc):
                    # Once more through SQLAlchemy, which raises the failure as its own error (as
                    # every other statement's), for the write to translate.
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                    return
                waited = time.monotonic() - started
                if waited >= limit_s:
                    log.warning("gave up waiting %.0f s for the database's write lock", waited)
                    raise DatabaseBusy(
                        "Another program is using the database and did not let go for "
                        f"{int(limit_s)} seconds. Nothing was saved. Close the other program, then "
                        "try again.") from exc
                if not told:
                    log.warning("another program holds the database's write lock; still trying")
                    told = True
                    wait.notify(True)
    finally:
        if told:
            wait.notify(False)
        driver.execute(f"PRAGMA busy_timeout={restore_ms}")


def _newest_backup(path: Path) -> Path | None:
    from boxoffice.db.backup import backups_of

    try:
        found = backups_of(path.stem)
    except OSError:
        return None
    return found[-1] if found else None


def way_back(path: Path) -> str:
    backup = _newest_backup(path)
    if backup is None:
        return ("No backup of it was found in the backups folder; restore a copy you keep elsewhere, "
                "or move the file away to start with a new database.")
    return (f"The way back: close Box Office, move {path.name} aside and copy the newest backup, "
            f"{backup}, in its place (sales made after that backup must be entered again).")


def check_file(path: Path, *, quick_check: bool = True) -> None:
    """Refuse ``path`` before anything uses it: empty, not writable, or failing ``quick_check``.

    A missing file is fine (a new database is made). Raises ``DatabaseDamaged`` or
    ``DatabaseReadOnly`` with what to do. ``quick_check=False``: only the checks that take no
    time; the caller runs the quick check later (``FileCheck``).
    """
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return
    except OSError as exc:
        raise DatabaseReadOnly(f"The database file {path} cannot be read ({exc.strerror}). "
                               "Check its permissions, then start again.") from exc
    if size == 0:
        raise DatabaseDamaged(
            f"The database file {path} is empty (0 bytes): it is not a Box Office database, and "
            f"nothing was written to it. {way_back(path)}")
    if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK | os.X_OK):
        raise DatabaseReadOnly(
            f"The database file {path} (or its folder) is read-only for this account, so this desk "
            "could not save a single sale and does not start. Make the file and its folder writable "
            "(or copy the file somewhere writable and open that), then start again.")
    if quick_check:
        damage = _damage(path)
        if damage:
            raise DatabaseDamaged(damage)


def _damage(path: Path) -> str:
    """"" when ``path`` passes SQLite's quick check, else the refusal the operator reads."""
    verdict = _quick_check(path)
    if not verdict:
        return ""
    return (f"The database file {path} is damaged (SQLite's check found: {verdict}). This desk "
            f"does not use it, so nothing more is lost. {way_back(path)}")


class FileCheck:
    """The quick check of an open file, run once: on a worker, or by the first write if that comes first.

    ``require`` runs it unless it ran (a second caller waits for the first) and raises
    ``DatabaseDamaged``, naming the newest backup, every time it failed.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._verdict: str | None = None   # None until checked; "" when it passed

    def require(self) -> None:
        with self._lock:
            if self._verdict is None:
                started = time.monotonic()
                self._verdict = _damage(self.path)
                log.info("quick check of %s: %s in %.2f s", self.path.name,
                         "damaged" if self._verdict else "ok", time.monotonic() - started)
        if self._verdict:
            raise DatabaseDamaged(self._verdict)


def _quick_check(path: Path) -> str:
    """"" when ``PRAGMA quick_check`` passes, else the first problems it names."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=TRY_MS / 1000)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        rows = [row[0] for row in conn.execute("PRAGMA quick_check(5)")]
    except sqlite3.DatabaseError as exc:
        if _locked(exc):
            return ""   # another desk is writing: the file opened; the check runs next time
        return str(exc)
    finally:
        conn.close()
    return "" if rows == ["ok"] else "; ".join(rows)


def integrity_findings(path: Path, *, limit: int = 20) -> list[str]:
    """The problems ``PRAGMA integrity_check`` finds in ``path`` ([] when it passes)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        rows = [row[0] for row in conn.execute(f"PRAGMA integrity_check({int(limit)})")]
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    finally:
        conn.close()
    return [] if rows == ["ok"] else rows
