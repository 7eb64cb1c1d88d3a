"""The single-poller lease: at most one desk polls Stripe; another takes over when it closes or hangs.

PostgreSQL: a session advisory lock (``pg_try_advisory_lock``) held on a dedicated connection. The
server ends that connection when the holder's process exits, and ``idle_session_timeout`` ends it when
the holder stops renewing (hangs), so the lock frees itself without help from the holder.

SQLite: a lease row in ``sync_state`` (key ``lease:<name>``) holding the holder and an expiry, taken
and renewed under the database write lock.

Use: call ``ensure()`` before each poll and poll only when it returns True; ``release()`` on close.
A holder that misses its renewal past the lease time stops believing it holds the lease, so a desk
waking from a hang does not poll beside the new holder (and event processing is idempotent anyway).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from boxoffice.db.engine import Database, create_db_engine
from boxoffice.domain.models import SyncState
from boxoffice.timeutil import Clock, SystemClock, ensure_aware

log = logging.getLogger(__name__)

DEFAULT_LEASE_SECONDS = 30.0
LEASE_PREFIX = "lease:"


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_try_advisory_lock`` derived from the lease name."""
    digest = hashlib.sha256(f"boxoffice:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def new_holder_id(desk_name: str = "") -> str:
    """Unique per process and instance, readable in the lease row: desk, host, pid, random."""
    desk = desk_name.strip() or "desk"
    return f"{desk}@{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True)
class LeaseInfo:
    """Who holds a lease (SQLite lease row), for the status bar and diagnostics."""

    name: str
    holder: str
    expires_at: datetime | None


class PollerLease:
    """One named lease (default ``stripe-poller``) for one desk process; thread-safe."""

    def __init__(
        self,
        db: Database,
        *,
        name: str = "stripe-poller",
        holder: str | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        clock: Clock | None = None,
    ) -> None:
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be positive")
        self.db = db
        self.name = name
        self.holder = holder or new_holder_id()
        self.lease_seconds = lease_seconds
        self.clock: Clock = clock or SystemClock()
        self._mutex = threading.Lock()
        self._held = False
        self._last_confirmed = 0.0  # time.monotonic() of the last successful acquire/renew
        self._pg_engine: Engine | None = None
        self._pg_conn: Connection | None = None

    # ------------------------------------------------------------------ public API

    @property
    def held(self) -> bool:
        """True while the lease was confirmed less than one lease time ago."""
        with self._mutex:
            return self._still_valid()

    def ensure(self) -> bool:
        """Renew the lease if held, otherwise try to take it. True: this desk may poll now."""
        with self._mutex:
            if self._held and self._still_valid():
                ok = self._renew()
            else:
                if self._held:
                    log.warning("lease %s: renewal overdue, giving it up", self.name)
                    self._drop()
                ok = self._acquire()
            self._held = ok
            if ok:
                self._last_confirmed = time.monotonic()
            return ok

    def try_acquire(self) -> bool:
        """Take the lease if it is free (or already ours)."""
        return self.ensure()

    def release(self) -> None:
        """Give the lease up now so another desk can take it at its next try."""
        with self._mutex:
            self._drop()

    def holder_info(self) -> LeaseInfo | None:
        """The current holder on SQLite (None when free or expired); on PostgreSQL, None unless ours."""
        if self.db.is_postgresql:
            return LeaseInfo(self.name, self.holder, None) if self.held else None
        with self.db.read() as session:
            row = session.get(SyncState, LEASE_PREFIX + self.name)
            if row is None:
                return None
            data = _decode(row.value)
        if data is None or data[1] <= self.clock.now():
            return None
        return LeaseInfo(self.name, data[0], data[1])

    def close(self) -> None:
        self.release()

    # ------------------------------------------------------------------ internals

    def _still_valid(self) -> bool:
        return self._held and (time.monotonic() - self._last_confirmed) < self.lease_seconds

    def _acquire(self) -> bool:
        return self._pg_acquire() if self.db.is_postgresql else self._row_claim(renew_only=False)

    def _renew(self) -> bool:
        return self._pg_renew() if self.db.is_postgresql else self._row_claim(renew_only=True)

    def _drop(self) -> None:
        was_held = self._held
        self._held = False
        if self.db.is_postgresql:
            self._pg_close()
        elif was_held:
            try:
                self._row_release()
            except Exception:  # the database may be gone; the lease then simply expires
                log.warning("lease %s: could not release the lease row", self.name, exc_info=True)

    # ---- PostgreSQL: advisory lock on a dedicated connection

    def _pg_connection(self) -> Connection:
        if self._pg_conn is None:
            if self._pg_engine is None:
                self._pg_engine = create_db_engine(self.db.url, poolclass=NullPool)
            conn = self._pg_engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            # The server closes this session (and frees the lock) if the holder falls silent.
            timeout_ms = int(self.lease_seconds * 1000)
            conn.execute(text(f"SET idle_session_timeout = {timeout_ms}"))
            conn.execute(text("SET tcp_keepalives_idle = 10"))
            conn.execute(text("SET tcp_keepalives_interval = 5"))
            conn.execute(text("SET tcp_keepalives_count = 3"))
            self._pg_conn = conn
        return self._pg_conn

    def _pg_acquire(self) -> bool:
        try:
            conn = self._pg_connection()
            got: bool = conn.execute(
                text("SELECT pg_try_advisory_lock(CAST(:k AS bigint))"), {"k": advisory_key(self.name)}
            ).scalar_one()
        except DBAPIError:
            log.warning("lease %s: database unreachable while acquiring", self.name, exc_info=True)
            self._pg_close()
            return False
        if got:
            log.info("lease %s: acquired by %s", self.name, self.holder)
        return bool(got)

    def _pg_renew(self) -> bool:
        """Touch the session (resets the idle timeout) and check the lock is still ours."""
        try:
            conn = self._pg_connection()
            still: int = conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND pid = pg_backend_pid() AND objsubid = 1 "
                    "AND objid::bigint = (CAST(:k AS bigint) & 4294967295) "
                    "AND classid::bigint = ((CAST(:k AS bigint) >> 32) & 4294967295)"
                ),
                {"k": advisory_key(self.name)},
            ).scalar_one()
        except DBAPIError:
            log.warning("lease %s: lost the lease connection", self.name, exc_info=True)
            self._pg_close()
            return False
        return bool(still)

    def _pg_close(self) -> None:
        conn, self._pg_conn = self._pg_conn, None
        if conn is not None:
            try:
                # Unlock first: the server frees a closed session's locks only once its backend exits.
                conn.execute(text("SELECT pg_advisory_unlock_all()"))
            except Exception:
                log.debug("lease %s: unlock on a dead connection", self.name, exc_info=True)
            try:
                conn.close()  # ends the session: the server frees the advisory lock
            except Exception:
                log.debug("lease %s: closing a dead connection", self.name, exc_info=True)
        if self._pg_engine is not None:
            self._pg_engine.dispose()
            self._pg_engine = None

    # ---- SQLite (and any other database): lease row with expiry

    def _row_claim(self, *, renew_only: bool) -> bool:
        key = LEASE_PREFIX + self.name
        now = ensure_aware(self.clock.now())
        expires = now + timedelta(seconds=self.lease_seconds)
        try:
            with self.db.write() as session:
                row = session.get(SyncState, key)
                current = _decode(row.value) if row is not None else None
                ours = current is not None and current[0] == self.holder
                free = current is None or current[1] <= now
                if not ours and (renew_only or not free):
                    return False
                value = _encode(self.holder, expires)
                if row is None:
                    session.add(SyncState(key=key, value=value, updated_at=now))
                else:
                    row.value = value
                    row.updated_at = now
        except Exception:
            log.warning("lease %s: could not write the lease row", self.name, exc_info=True)
            return False
        if not ours:
            log.info("lease %s: acquired by %s", self.name, self.holder)
        return True

    def _row_release(self) -> None:
        key = LEASE_PREFIX + self.name
        with self.db.write() as session:
            row = session.get(SyncState, key)
            if row is not None:
                current = _decode(row.value)
                if current is not None and current[0] == self.holder:
                    session.delete(row)


def _encode(holder: str, expires_at: datetime) -> str:
    return json.dumps({"holder": holder, "expires_at": ensure_aware(expires_at).isoformat()})


def _decode(value: str) -> tuple[str, datetime] | None:
    try:
        data: Any = json.loads(value)
        return str(data["holder"]), ensure_aware(datetime.fromisoformat(data["expires_at"]))
    except (ValueError, KeyError, TypeError):
        return None


def lease_rows(db: Database) -> list[LeaseInfo]:
    """Every lease row (SQLite mode), for diagnostics."""
    with db.read() as session:
        rows = session.scalars(select(SyncState).where(SyncState.key.startswith(LEASE_PREFIX))).all()
        out = []
        for row in rows:
            data = _decode(row.value)
            if data is not None:
                out.append(LeaseInfo(row.key[len(LEASE_PREFIX):], data[0], data[1]))
        return out
