"""Backup copies of the desk's SQLite file, taken with SQLite's online backup API before a migration.

A copy is consistent even while another desk process has the file open (WAL included). Copies live
in the user data directory's ``backups`` folder, named ``<stem>-<UTC time>-<from>-to-<to>.sqlite3``;
only the newest ``KEEP_BACKUPS`` of each database are kept.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from boxoffice import paths
from boxoffice.db.engine import Database
from boxoffice.db.migrate import packaged_head, stored_revision

log = logging.getLogger(__name__)

KEEP_BACKUPS = 5
SUFFIX = ".sqlite3"


class BackupFailed(Exception):
    """The copy could not be written or did not verify; the original is untouched."""


def sqlite_file(db: Database) -> Path | None:
    """The file behind a SQLite database (None for PostgreSQL, in-memory or not yet created)."""
    if not db.is_sqlite:
        return None
    name = make_url(db.url).database
    if not name or name == ":memory:":
        return None
    path = Path(name)
    return path if path.is_file() else None


def backup_sqlite(source: Path, directory: Path | None = None, *, label: str = "") -> Path:
    """Copy ``source`` into ``directory`` (default: the user backups folder) and verify the copy."""
    try:
        directory = directory or paths.backup_dir()
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupFailed(f"the backups folder {directory or 'in the user data folder'} cannot be made "
                           f"({exc})") from exc
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = directory / f"{source.stem}-{stamp}{'-' + label if label else ''}{SUFFIX}"
    partial = target.with_name(target.name + ".partial")
    try:
        src = sqlite3.connect(source)  # read-write so a WAL left by a crash can be recovered first
        try:
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst)
                verdict = dst.execute("PRAGMA quick_check").fetchone()[0]
            finally:
                dst.close()
        finally:
            src.close()
        if verdict != "ok":
            raise BackupFailed(f"the copy of {source} failed its integrity check ({verdict})")
        os.replace(partial, target)
    except (OSError, sqlite3.Error) as exc:
        partial.unlink(missing_ok=True)
        raise BackupFailed(f"{source} could not be copied to {directory} ({exc})") from exc
    log.info("database %s backed up to %s", source, target)
    return target


def backups_of(stem: str, directory: Path | None = None) -> list[Path]:
    """The backups of the database file named ``stem``, oldest first."""
    directory = directory or paths.backup_dir()
    prefix = f"{stem}-"
    found = [p for p in directory.glob(f"{prefix}*{SUFFIX}") if p.name[len(prefix):len(prefix) + 1].isdigit()]
    return sorted(found, key=lambda p: p.name)


def prune_backups(stem: str, directory: Path | None = None, *, keep: int = KEEP_BACKUPS) -> list[Path]:
    """Delete all but the newest ``keep`` backups of ``stem``; returns the deleted paths."""
    old = backups_of(stem, directory)[:-keep] if keep > 0 else backups_of(stem, directory)
    for path in old:
        path.unlink(missing_ok=True)
        log.info("old backup %s removed (keeping the last %d)", path.name, keep)
    return old


def backup_before_upgrade(db: Database, *, from_revision: str, to_revision: str,
                          directory: Path | None = None, keep: int = KEEP_BACKUPS) -> Path | None:
    """Back up ``db``'s file before it is migrated; None when there is no file to copy (PostgreSQL)."""
    source = sqlite_file(db)
    if source is None:
        return None
    copy = backup_sqlite(source, directory, label=f"{from_revision}-to-{to_revision}")
    prune_backups(source.stem, directory, keep=keep)
    return copy


def backup_if_migrating(db: Database, *, directory: Path | None = None, keep: int = KEEP_BACKUPS) -> Path | None:
    """Before a new version migrates an existing SQLite file, copy it (None when no migration is due)."""
    if not db.is_sqlite:
        return None
    stored, head = stored_revision(db), packaged_head()
    if stored is None or stored >= head:   # a new file, or current (or newer: refused by the upgrade)
        return None
    copy = backup_before_upgrade(db, from_revision=stored, to_revision=head, directory=directory, keep=keep)
    if copy is not None:
        log.warning("database %s is at schema %s; backed up to %s before upgrading to %s",
                    db.display_url, stored, copy, head)
    return copy
