"""Eight desks sending 48 wrong PINs for one name at once: exactly five are checked, then it locks.

The failure count is read and raised under a row lock, so the lockout holds on PostgreSQL as it
does on SQLite (whose writers are serialized anyway). The audit log is the judge: every checked
PIN leaves one ``sign_in_failed`` row.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from boxoffice.db.engine import Database, sqlite_url
from boxoffice.domain.models import AuditEntry, Staff
from boxoffice.services.context import ServiceContext
from boxoffice.services.staff import audit
from boxoffice.services.staff.access import Role
from boxoffice.services.staff.auth import MAX_FAILED_ATTEMPTS, AuthService
from tests.multidesk.lockout_workers import wrong_pins

DESKS, TRIES = 8, 6


@pytest.fixture
def spawn() -> Iterator[multiprocessing.context.SpawnContext]:
    ctx = multiprocessing.get_context("spawn")
    yield ctx
    for child in multiprocessing.active_children():
        child.kill()
        child.join(5)


def _race(url: str, spawn: multiprocessing.context.SpawnContext) -> tuple[list[dict[str, int]], int, int]:
    db = Database(url)
    auth = AuthService(ServiceContext(db=db))
    auth.add_staff("Vera", Role.VOLUNTEER, "135790")
    barrier, results = spawn.Barrier(DESKS), spawn.Queue()
    procs = [spawn.Process(target=wrong_pins, args=(url, d, "Vera", TRIES, barrier, results))
             for d in range(DESKS)]
    for proc in procs:
        proc.start()
    out: list[dict[str, Any]] = [results.get(timeout=300) for _ in procs]
    for proc in procs:
        proc.join(10)
        assert proc.exitcode == 0
    with db.read() as session:
        checked = len(list(session.scalars(
            select(AuditEntry.id).where(AuditEntry.action == audit.SIGN_IN_FAILED))))
        failed = session.scalars(select(Staff.failed_attempts).where(Staff.name == "Vera")).one()
    db.dispose()
    return out, checked, failed


def _assert_exactly_five(out: list[dict[str, int]], checked: int, failed: int) -> None:
    assert sum(o["other"] for o in out) == 0
    assert checked == MAX_FAILED_ATTEMPTS
    assert failed == MAX_FAILED_ATTEMPTS
    assert sum(o["wrong"] for o in out) == MAX_FAILED_ATTEMPTS - 1   # the fifth answers "locked"
    assert sum(o["locked"] for o in out) == DESKS * TRIES - (MAX_FAILED_ATTEMPTS - 1)


@pytest.mark.slow
def test_postgresql_checks_exactly_five_pins_of_48_sent_at_once(pg_url: str, spawn: Any) -> None:
    _assert_exactly_five(*_race(pg_url, spawn))


@pytest.mark.slow
def test_sqlite_checks_exactly_five_pins_of_48_sent_at_once(db_path: Path, spawn: Any) -> None:
    _assert_exactly_five(*_race(sqlite_url(db_path), spawn))
