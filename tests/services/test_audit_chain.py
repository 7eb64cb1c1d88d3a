"""The audit log's hash chain: a deleted, edited or forged row is found and named (SQLite).

An attacker with the database file can drop the append-only triggers and recompute a plain hash;
the chain is keyed with the PIN key, which is not in the file, so it still tells.
"""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text

from boxoffice.db.engine import Database, sqlite_url
from boxoffice.db.migrate import upgrade
from boxoffice.domain.audit_chain import GENESIS
from boxoffice.services.context import ServiceContext
from boxoffice.services.staff.access import Role
from boxoffice.services.staff.auth import AuthService
from boxoffice.timeutil import FixedClock
from tests.services.audit_helpers import verify, write_rows
from tests.services.test_cli import boxoffice


def _raw(db_path: Path, *statements: str) -> None:
    conn = sqlite3.connect(db_path)
    try:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


def test_rows_written_by_the_services_form_an_unbroken_chain(ctx: ServiceContext, db: Database) -> None:
    AuthService(ctx).add_staff("Vera", Role.VOLUNTEER, "135790")
    write_rows(ctx, 4)
    report = verify(db)
    assert report.intact and report.rows == 5
    with db.read() as session:
        first = session.execute(text("SELECT prev_hash, chain_hash FROM audit_log ORDER BY id LIMIT 1")).one()
    assert first.prev_hash == GENESIS and len(first.chain_hash) == 64


def test_a_row_deleted_after_dropping_the_trigger_is_found(ctx: ServiceContext, db: Database,
                                                           db_path: Path) -> None:
    write_rows(ctx, 5)
    _raw(db_path, "DROP TRIGGER audit_log_no_delete", "DELETE FROM audit_log WHERE id = 3")
    report = verify(db)
    assert report.first_break is not None and report.first_break.row_id == 4
    assert "deleted" in report.first_break.describe()


def test_an_edited_row_is_found(ctx: ServiceContext, db: Database, db_path: Path) -> None:
    write_rows(ctx, 5)
    _raw(db_path, "DROP TRIGGER audit_log_no_update", "UPDATE audit_log SET target_label = 'x' WHERE id = 2")
    report = verify(db)
    assert report.first_break is not None and report.first_break.row_id == 2
    assert "edited" in report.first_break.reason


def test_forged_inserts_are_found_with_or_without_a_hash(ctx: ServiceContext, db: Database, db_path: Path) -> None:
    write_rows(ctx, 2)
    _raw(db_path, "INSERT INTO audit_log (at, desk, actor_name, actor_role, approver_name, action, target_type, "
                  "target_label, detail) VALUES ('2027-05-01 12:00:00', 'Desk 1', 'Ada', 'admin', '', 'refund', "
                  "'order', 'forged', '')")
    report = verify(db)
    assert report.first_break is not None and report.first_break.row_id == 3
    assert "forged" in report.first_break.reason
    with db.read() as session:
        head = session.execute(text("SELECT chain_hash FROM audit_log WHERE id = 2")).scalar_one()
    _raw(db_path, "DROP TRIGGER audit_log_no_delete", "DELETE FROM audit_log WHERE id = 3",
         "INSERT INTO audit_log (at, desk, actor_name, actor_role, approver_name, action, target_type, "
         f"target_label, detail, prev_hash, chain_hash) VALUES ('2027-05-01 12:00:00', 'Desk 1', 'Ada', 'admin', "
         f"'', 'refund', 'order', 'forged', '', '{head}', '{'ab' * 32}')")
    report = verify(db)   # SQLite gave the forged row id 3 again
    assert report.first_break is not None and report.first_break.row_id == 3
    assert "forged" in report.first_break.reason


def test_the_upgrade_chains_the_rows_already_in_the_log(tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path / "old.sqlite3"))
    try:
        upgrade(db, "0005")
        clock = FixedClock()
        with db.engine.begin() as conn:
            for n in range(3):
                conn.execute(text(
                    "INSERT INTO audit_log (at, desk, actor_name, actor_role, approver_name, action, target_type, "
                    "target_label, detail, amount_before) VALUES (:at, 'Desk 1', 'Ada', 'admin', '', 'refund', "
                    "'order', :label, '{}', 12.5)"), {"at": clock.now().replace(tzinfo=None), "label": f"R{n}"})
        upgrade(db)
        assert verify(db).intact and verify(db).rows == 3
        ctx = ServiceContext(db=db, clock=clock)
        write_rows(ctx, 1)
        assert verify(db).intact and verify(db).rows == 4
        with pytest.raises(Exception, match="append-only"), db.engine.begin() as conn:
            conn.execute(text("UPDATE audit_log SET action = 'x'"))
    finally:
        db.dispose()


def test_audit_verify_and_db_check_name_the_broken_row(tmp_path: Path) -> None:
    home, path = tmp_path / "home", tmp_path / "desk.sqlite3"
    db = Database(sqlite_url(path))
    upgrade(db)
    write_rows(ServiceContext(db=db, clock=FixedClock()), 3)
    db.dispose()
    ok = boxoffice("--database", str(path), "audit", "verify", home=home)
    assert ok.returncode == 0 and "3 row(s)" in ok.stdout, ok.stderr
    _raw(path, "DROP TRIGGER audit_log_no_delete", "DELETE FROM audit_log WHERE id = 1")
    broken: subprocess.CompletedProcess[str] = boxoffice("--database", str(path), "audit", "verify", home=home)
    assert broken.returncode == 1 and "audit row 2" in broken.stdout
    check = boxoffice("--database", str(path), "db", "check", home=home)
    assert check.returncode == 1 and "MISMATCH audit: audit row 2" in check.stdout
