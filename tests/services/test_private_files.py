"""The database, its folder, the log and the backups are the user's only: 0600 files in 0700 folders."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from boxoffice.db.engine import Database, sqlite_url
from tests.services.test_cli import boxoffice

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_desk_creates_its_folders_and_files_for_the_user_only(tmp_path: Path) -> None:
    home = tmp_path / "home"
    done = boxoffice("db", "upgrade", home=home)
    assert done.returncode == 0, done.stderr
    data = home / "data"
    database = data / "boxoffice.sqlite3"
    assert _mode(data) == 0o700 and _mode(database) == 0o600
    for extra in (data / "boxoffice.sqlite3-wal", data / "boxoffice.sqlite3-shm"):
        if extra.exists():
            assert _mode(extra) == 0o600
    done = boxoffice("run", "--no-gui", home=home)
    for folder in (home / "config", home / "logs"):
        if folder.exists():
            assert _mode(folder) == 0o700
    for log in (home / "logs").glob("*.log"):
        assert _mode(log) == 0o600


def test_an_earlier_versions_readable_database_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "old" / "desk.sqlite3"
    path.parent.mkdir()
    path.touch()
    path.chmod(0o644)
    Database(sqlite_url(path)).dispose()
    assert _mode(path) == 0o600
