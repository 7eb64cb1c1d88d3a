"""Rows cut off the end of the audit log, or the whole log emptied, are found: the desk notes the last
row it wrote to its SQLite file outside the file, and the next row after a cut records the cut."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy import select

from boxoffice.db.engine import Database, sqlite_url
from boxoffice.domain.models import AuditEntry
from boxoffice.services.context import ServiceContext
from boxoffice.services.staff import audit, audit_anchor
from boxoffice.services.staff.access import SYSTEM
from tests.services.audit_helpers import verify, write_rows
from tests.services.test_cli import boxoffice


def _cut(db_path: Path, where: str) -> None:
    """What someone with the file does: drop the append-only triggers, then delete."""
    conn = sqlite3.connect(db_path)
    try:
        triggers = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'")]
        for name in triggers:
            conn.execute(f'DROP TRIGGER "{name}"')
        conn.execute(f"DELETE FROM audit_log WHERE {where}")
        conn.commit()
    finally:
        conn.close()


def _actions(db: Database) -> list[str]:
    with db.read() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_an_untouched_log_verifies_and_its_end_is_noted(ctx: ServiceContext, db: Database, db_path: Path) -> None:
    write_rows(ctx, 3)
    assert verify(db).intact
    note = json.loads(audit_anchor.anchor_path(db_path.resolve()).read_text(encoding="utf-8"))
    with db.read() as session:
        last = session.execute(select(AuditEntry.id, AuditEntry.chain_hash).order_by(AuditEntry.id.desc())).first()
    assert last is not None and (note["row_id"], note["chain_hash"]) == (last.id, last.chain_hash)
    assert audit_anchor.anchor_path(db_path.resolve()).stat().st_mode & 0o777 == 0o600


def test_rows_cut_off_the_end_are_found(ctx: ServiceContext, db: Database, db_path: Path) -> None:
    write_rows(ctx, 4)
    with db.read() as session:
        ids = list(session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))
    _cut(db_path, f"id >= {ids[2]}")
    report = verify(db)
    assert report.first_break is not None and report.first_break.row_id == ids[3]
    assert "deleted from the end of the log" in report.first_break.reason
    assert f"the log now ends at row {ids[1]}" in report.first_break.reason


def test_an_emptied_log_is_found_and_the_command_line_says_so(ctx: ServiceContext, db: Database, db_path: Path,
                                                               tmp_path: Path) -> None:
    write_rows(ctx, 2)
    _cut(db_path, "1 = 1")
    report = verify(db)
    assert report.first_break is not None and "the log is empty" in report.first_break.reason
    done = boxoffice("audit", "verify", "--database", str(db_path), home=Path(os.environ["BOXOFFICE_HOME"]))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "BROKEN" in done.stdout and "deleted from the end" in done.stdout


def test_the_next_row_after_a_cut_records_it_in_the_chain(ctx: ServiceContext, db: Database, db_path: Path) -> None:
    write_rows(ctx, 3)
    with db.read() as session:
        last = session.execute(select(AuditEntry.id, AuditEntry.chain_hash).order_by(AuditEntry.id.desc())).first()
    assert last is not None
    _cut(db_path, f"id = {last.id}")
    write_rows(ctx, 1)   # SQLite may give the new row the deleted row's id: the cut must not vanish
    assert _actions(db)[-2:] == [audit.AUDIT_END_MISSING, audit.SETTINGS_CHANGE]
    with db.read() as session:
        cut = session.execute(select(AuditEntry.detail, AuditEntry.actor_name)
                              .where(AuditEntry.action == audit.AUDIT_END_MISSING)).one()
    assert json.loads(cut.detail) == {"missing_row": last.id, "missing_hash": last.chain_hash}
    assert cut.actor_name == SYSTEM.name
    assert verify(db).intact   # the chain holds again, with the cut in it
    write_rows(ctx, 1)
    assert _actions(db).count(audit.AUDIT_END_MISSING) == 1   # recorded once


def test_a_note_changed_by_hand_is_reported(ctx: ServiceContext, db: Database, db_path: Path) -> None:
    write_rows(ctx, 3)
    path = audit_anchor.anchor_path(db_path.resolve())
    note = json.loads(path.read_text(encoding="utf-8"))
    _cut(db_path, f"id = {note['row_id']}")
    with db.read() as session:
        earlier = session.execute(select(AuditEntry.id, AuditEntry.chain_hash).order_by(AuditEntry.id.desc())).first()
    assert earlier is not None
    path.write_text(json.dumps({**note, "row_id": earlier.id, "chain_hash": earlier.chain_hash}), encoding="utf-8")
    report = verify(db)
    assert report.first_break is not None and "changed by hand" in report.first_break.reason


def test_a_copy_elsewhere_has_no_note_and_verifies_on_its_chain(ctx: ServiceContext, db: Database, db_path: Path,
                                                                 tmp_path: Path) -> None:
    write_rows(ctx, 2)
    copy = tmp_path / "copy.sqlite3"
    shutil.copyfile(db_path, copy)
    _cut(copy, "id = (SELECT max(id) FROM audit_log)")
    other = Database(sqlite_url(copy))
    try:
        assert verify(other).intact   # nothing on this machine says how long that file's log was
        assert not audit_anchor.anchor_path(copy.resolve()).exists()
    finally:
        other.dispose()


def test_a_rolled_back_write_notes_nothing(ctx: ServiceContext, db: Database, db_path: Path) -> None:
    write_rows(ctx, 1)
    path = audit_anchor.anchor_path(db_path.resolve())
    before = path.read_text(encoding="utf-8")
    try:
        with db.write() as session:
            audit.record(session, ctx, audit.SETTINGS_CHANGE, target_type="setting", target_label="x")
            raise RuntimeError("the change failed")
    except RuntimeError:
        pass
    assert path.read_text(encoding="utf-8") == before
    assert verify(db).intact
