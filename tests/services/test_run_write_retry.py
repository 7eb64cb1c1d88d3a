"""Database.run_write retries transient conflicts a bounded number of times, then reports them."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from boxoffice.db.engine import Database
from boxoffice.errors import DatabaseBusy


class _Locked(Exception):
    sqlstate = None

    def __str__(self) -> str:
        return "database is locked"


def _conflict() -> OperationalError:
    return OperationalError("UPDATE ...", {}, _Locked())


def test_a_transient_conflict_is_retried_and_only_the_last_attempt_commits(db: Database) -> None:
    attempts: list[int] = []

    def work(session: Session) -> int:
        attempts.append(1)
        session.execute(text("INSERT INTO staff (name, is_active, created_at, updated_at) "
                             "VALUES (:n, 1, '2027-01-01 00:00:00', '2027-01-01 00:00:00')"),
                        {"n": f"try {len(attempts)}"})
        if len(attempts) < 3:
            raise _conflict()
        return len(attempts)

    assert db.run_write(work) == 3
    with db.read() as session:
        names = session.execute(text("SELECT name FROM staff")).scalars().all()
    assert names == ["try 3"]  # the failed attempts were rolled back


def test_a_conflict_that_persists_is_reported_after_the_bound(db: Database) -> None:
    calls: list[int] = []

    def always(session: Session) -> None:
        calls.append(1)
        raise _conflict()

    with pytest.raises(DatabaseBusy, match="Nothing was saved"):
        db.run_write(always, attempts=3)
    assert len(calls) == 3
