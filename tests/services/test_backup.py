"""Upgrading an older database: a verified backup copy first (last N kept), then the migration, no row lost."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from boxoffice import paths
from boxoffice.app import open_database
from boxoffice.db import backup
from boxoffice.db.engine import Database, sqlite_url
from boxoffice.db.migrate import packaged_head, stored_revision, upgrade
from tests.services.test_migrations import _fill_revision_0001


def _counts(path: Path) -> dict[str, int]:
    """Rows per table, read with the sqlite3 module (no engine, no model)."""
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
    finally:
        conn.close()


@pytest.fixture
def backups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user home of this test's own, so the backups folder starts empty."""
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path / "home"))
    return paths.backup_dir()


@pytest.fixture
def old_database(tmp_path: Path) -> Path:
    """A desk database made by the first migration and filled the way that version wrote rows."""
    path = tmp_path / "desk.sqlite3"
    db = Database(sqlite_url(path))
    upgrade(db, "0001")
    _fill_revision_0001(db)
    db.dispose()
    return path


def test_upgrade_of_a_first_revision_database_backs_it_up_first_and_loses_no_row(
        old_database: Path, backups: Path) -> None:
    before = _counts(old_database)
    assert before["order"] == 5 and before["customer"] == 2

    db, revision = open_database(sqlite_url(old_database))
    try:
        assert revision == packaged_head() != "0001"
        with db.engine.connect() as conn:
            assert inspect(conn).has_table("cash_shift")
            references = conn.execute(text('SELECT reference FROM "order" ORDER BY id')).scalars().all()
    finally:
        db.dispose()
    assert references == ["PY-AAAA", "PY-BBBB", "PY-CCCC", "PY-DDDD", "PY-EEEE"]
    after = _counts(old_database)
    # Every row is still there; the upgrade adds one attendee per ticket unit of the settled orders
    # (PY-AAAA: 2 tickets, PY-DDDD: 1).
    assert {t: after[t] for t in before if t not in ("alembic_version", "attendee")} == {
        t: n for t, n in before.items() if t not in ("alembic_version", "attendee")}
    assert (before["attendee"], after["attendee"]) == (0, 3)

    copies = list(backups.glob("desk-*.sqlite3"))
    assert len(copies) == 1, copies
    assert copies[0].name.endswith(f"-0001-to-{packaged_head()}.sqlite3")
    assert _counts(copies[0]) == before           # the copy is the database as it was
    copy_db = Database(sqlite_url(copies[0]))
    try:
        assert stored_revision(copy_db) == "0001"
    finally:
        copy_db.dispose()


def test_no_backup_when_the_schema_is_current_or_the_file_is_new(tmp_path: Path, backups: Path) -> None:
    db, _ = open_database(sqlite_url(tmp_path / "fresh.sqlite3"))   # new file: nothing to save
    db.dispose()
    db, _ = open_database(sqlite_url(tmp_path / "fresh.sqlite3"))   # current: nothing to migrate
    db.dispose()
    assert list(backups.iterdir()) == []


def test_only_the_newest_backups_are_kept(old_database: Path, backups: Path) -> None:
    names = []
    for _ in range(backup.KEEP_BACKUPS + 2):
        names.append(backup.backup_sqlite(old_database, label="0001-to-0003").name)
        backup.prune_backups(old_database.stem)
    kept = [p.name for p in backup.backups_of(old_database.stem)]
    assert kept == names[-backup.KEEP_BACKUPS:]
    unrelated = backups / "other-20260101T000000000000Z.sqlite3"
    unrelated.write_bytes(b"")
    backup.prune_backups(old_database.stem, keep=1)
    assert unrelated.exists() and [p.name for p in backup.backups_of(old_database.stem)] == names[-1:]


def test_a_failed_backup_stops_the_upgrade_and_leaves_the_database_alone(
        old_database: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the backups folder should be")
    monkeypatch.setattr(paths, "backup_dir", lambda: blocked / "backups")
    from boxoffice.errors import DatabaseUnavailable

    with pytest.raises(DatabaseUnavailable, match="backup copy taken first failed.*Nothing was changed"):
        open_database(sqlite_url(old_database))
    db = Database(sqlite_url(old_database))
    try:
        assert stored_revision(db) == "0001"
    finally:
        db.dispose()
