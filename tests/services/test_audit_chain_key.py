"""The audit chain is keyed with the PIN key: a row appended by hand with a recomputed hash is found.

The attacker here knows the hash formula and edits the SQLite file with sqlite3; what they lack is
the PIN key (the keychain, ``BOXOFFICE_PIN_PEPPER`` or the private key file: never the database).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from boxoffice.db.engine import Database, sqlite_url
from boxoffice.db.migrate import upgrade
from boxoffice.domain.audit_chain import row_hash
from boxoffice.domain.models import AuditEntry
from boxoffice.errors import ConfigError
from boxoffice.services.context import ServiceContext
from boxoffice.services.staff import audit, pepper
from boxoffice.timeutil import FixedClock
from tests.conftest import TEST_PIN_PEPPER
from tests.services.audit_helpers import verify, write_rows
from tests.services.test_cli import boxoffice

ATTACKER_PEPPER = bytes.fromhex("11" * 32)
DESK_KEY_ID = pepper.pepper_id(bytes.fromhex(TEST_PIN_PEPPER))

# The forged row as the attacker stores it, and its canonical text (the hashed fields, in order).
FORGED_COLUMNS = ("at, desk, actor_name, actor_role, approver_name, action, target_type, target_id, "
                  "target_label, amount_before, amount_after, detail")
FORGED_VALUES = ("'2027-05-01 12:00:00.000000', 'Desk 1', 'Ada', 'admin', '', 'refund', 'order', 7, "
                 "'PY-FORGED', 100, 0, '{}'")
FORGED_BODY = json.dumps(["2027-05-01T12:00:00.000000+00:00", "Desk 1", None, "Ada", "admin", None, "",
                          "refund", "order", 7, "PY-FORGED", "100.00", "0.00", "{}"], separators=(",", ":"))



def _head(db_path: Path) -> str:
    conn = sqlite3.connect(db_path)
    try:
        return str(conn.execute("SELECT chain_hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()[0])
    finally:
        conn.close()


def _append_forged(db_path: Path, chain_hash: str, prev_hash: str, key_id: str) -> None:
    conn = sqlite3.connect(db_path)
    try:
        conn.execute(f"INSERT INTO audit_log ({FORGED_COLUMNS}, prev_hash, chain_hash, chain_key_id) "
                     f"VALUES ({FORGED_VALUES}, ?, ?, ?)", (prev_hash, chain_hash, key_id))
        conn.commit()
    finally:
        conn.close()


def _forget_pin_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """From here on this process is a machine without the PIN key (no variable, keychain or key file)."""
    monkeypatch.delenv(pepper.PEPPER_ENV, raising=False)
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.setenv("BOXOFFICE_HOME", str(tmp_path / "other-machine"))
    pepper.forget_cached()


def test_new_rows_are_an_hmac_keyed_with_the_pin_key(ctx: ServiceContext, db: Database) -> None:
    write_rows(ctx, 3)
    with db.read() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        stored = [(r.chain_key_id, r.prev_hash, r.chain_hash, {n: getattr(r, n) for n in audit.FIELDS})
                  for r in rows]
    key = hmac.new(bytes.fromhex(TEST_PIN_PEPPER), b"boxoffice audit chain", hashlib.sha256).digest()
    for key_id, prev, digest, fields in stored:
        assert key_id == DESK_KEY_ID
        assert digest == row_hash(prev, fields, key) != row_hash(prev, fields)
    report = verify(db)
    assert report.intact and report.rows == report.keyed == 3 and report.key_id == DESK_KEY_ID


@pytest.mark.parametrize("claimed_key_id", ["", DESK_KEY_ID], ids=["unkeyed", "claiming-the-desk-key"])
def test_a_row_appended_with_a_recomputed_plain_sha256_is_forged(
        ctx: ServiceContext, db: Database, db_path: Path, claimed_key_id: str) -> None:
    write_rows(ctx, 2)
    prev = _head(db_path)
    plain = hashlib.sha256(f"{prev}\n{FORGED_BODY}".encode()).hexdigest()   # the attacker's formula
    _append_forged(db_path, plain, prev, claimed_key_id)
    with db.read() as session:   # the forged row is well formed: its plain hash is right
        forged = session.scalars(select(AuditEntry).where(AuditEntry.id == 3)).one()
        assert row_hash(forged.prev_hash, {n: getattr(forged, n) for n in audit.FIELDS}) == plain
    report = verify(db)
    assert report.first_break is not None and report.first_break.row_id == 3
    assert "forged" in report.first_break.reason


@pytest.mark.parametrize("claimed_key_id", [DESK_KEY_ID, pepper.pepper_id(ATTACKER_PEPPER)],
                         ids=["claiming-the-desk-key", "naming-its-own-key"])
def test_a_row_appended_with_an_hmac_under_another_key_is_forged(
        ctx: ServiceContext, db: Database, db_path: Path, claimed_key_id: str) -> None:
    write_rows(ctx, 2)
    prev = _head(db_path)
    wrong_key = hmac.new(ATTACKER_PEPPER, b"boxoffice audit chain", hashlib.sha256).digest()
    _append_forged(db_path, hmac.new(wrong_key, f"{prev}\n{FORGED_BODY}".encode(), hashlib.sha256).hexdigest(),
                   prev, claimed_key_id)
    report = verify(db)
    assert report.first_break is not None and report.first_break.row_id == 3
    assert "forged" in report.first_break.reason


def _legacy_database(path: Path) -> Database:
    """A database of the previous revision (0008) with audit rows as that version wrote them."""
    db = Database(sqlite_url(path))
    upgrade(db, "0005")
    with db.engine.begin() as conn:   # rows from before the chain: 0006 chains them
        for n in range(3):
            conn.execute(text(
                "INSERT INTO audit_log (at, desk, actor_name, actor_role, approver_name, action, target_type, "
                "target_label, detail, amount_before) VALUES (:at, 'Desk 1', 'Ada', 'admin', '', 'refund', "
                "'order', :label, '{}', 12.5)"), {"at": f"2027-05-01 10:0{n}:00.000000", "label": f"R{n}"})
    upgrade(db, "0008")
    prev = _head(path)
    plain = hashlib.sha256(f"{prev}\n{FORGED_BODY}".encode()).hexdigest()   # a row the 0008 desk wrote
    conn = sqlite3.connect(path)
    try:
        conn.execute(f"INSERT INTO audit_log ({FORGED_COLUMNS}, prev_hash, chain_hash) "
                     f"VALUES ({FORGED_VALUES}, ?, ?)", (prev, plain))
        conn.commit()
    finally:
        conn.close()
    return db


def test_an_upgraded_database_keeps_every_row_and_its_chain_verifies_across_the_upgrade(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "old.sqlite3"
    db = _legacy_database(path)
    try:
        with db.read() as session:
            before = session.execute(text("SELECT * FROM audit_log ORDER BY id")).all()
        assert len(before) == 4
        upgrade(db)
        with db.read() as session:
            after = session.execute(text("SELECT * FROM audit_log ORDER BY id")).all()
        assert [tuple(row) + ("",) for row in before] == [tuple(row) for row in after]
        report = verify(db)
        assert report.intact and (report.rows, report.keyed) == (4, 0)
        write_rows(ServiceContext(db=db, clock=FixedClock()), 2)
        report = verify(db)
        assert report.intact and (report.rows, report.keyed) == (6, 2)
        # A copy of the file on a machine without the key: the old rows still check, the new ones cannot.
        _forget_pin_key(monkeypatch, tmp_path)
        report = verify(db)
        assert report.first_break is None and (report.unchecked, report.keyed) == (2, 2)
    finally:
        db.dispose()


def test_once_keyed_rows_follow_the_old_rows_cannot_be_rewritten_with_their_plain_hashes(
        tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = _legacy_database(path)
    upgrade(db)
    write_rows(ServiceContext(db=db, clock=FixedClock()), 1)
    db.dispose()
    conn = sqlite3.connect(path)   # change an old row's amount and re-chain every old row after it
    try:
        conn.execute("DROP TRIGGER audit_log_no_update")
        conn.execute("UPDATE audit_log SET amount_before = 1250 WHERE id = 2")
        rows = conn.execute("SELECT id, at, desk, actor_id, actor_name, actor_role, approver_id, approver_name, "
                            "action, target_type, target_id, target_label, amount_before, amount_after, detail "
                            "FROM audit_log WHERE chain_key_id = '' ORDER BY id").fetchall()
        prev = "0" * 64
        for row_id, at, *fields in rows:
            body = [f"{at.replace(' ', 'T')}+00:00", *fields]
            body[11] = None if body[11] is None else f"{body[11]:.2f}"
            body[12] = None if body[12] is None else f"{body[12]:.2f}"
            digest = hashlib.sha256(f"{prev}\n{json.dumps(body, separators=(',', ':'))}".encode()).hexdigest()
            conn.execute("UPDATE audit_log SET prev_hash = ?, chain_hash = ? WHERE id = ?", (prev, digest, row_id))
            prev = digest
        conn.commit()
    finally:
        conn.close()
    db = Database(sqlite_url(path))
    try:
        report = verify(db)
        assert report.first_break is not None and report.first_break.row_id == 5   # the first keyed row
        assert "does not follow" in report.first_break.reason
    finally:
        db.dispose()


def test_a_desk_with_another_pin_key_records_nothing_rather_than_rows_that_look_forged(
        ctx: ServiceContext, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    write_rows(ctx, 1)
    monkeypatch.setenv(pepper.PEPPER_ENV, ATTACKER_PEPPER.hex())
    with pytest.raises(ConfigError, match="does not have the PIN key"):
        write_rows(ctx, 1)
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 1
    monkeypatch.setenv(pepper.PEPPER_ENV, TEST_PIN_PEPPER)
    assert verify(db).intact


def _cli(path: Path, home: Path, *args: str, **env: str) -> Any:
    return boxoffice("--database", str(path), *args, home=home, env=env)


def test_verify_without_the_pin_key_says_how_to_provide_it_and_still_checks_the_linkage(tmp_path: Path) -> None:
    path, home = tmp_path / "desk.sqlite3", tmp_path / "other-machine"
    db = Database(sqlite_url(path))
    upgrade(db)
    write_rows(ServiceContext(db=db, clock=FixedClock()), 3)
    db.dispose()
    no_key = {pepper.PEPPER_ENV: "", "DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path / 'no-bus'}"}
    verify = _cli(path, home, "audit", "verify", **no_key)
    assert verify.returncode == 2, verify.stdout + verify.stderr
    assert "3 keyed audit row(s) cannot be checked without the PIN key (this desk has no PIN key)" in verify.stdout
    assert pepper.PEPPER_ENV in verify.stdout and "BROKEN" not in verify.stdout
    check = _cli(path, home, "db", "check", **no_key)
    assert check.returncode == 2 and "NOT CHECKED audit: 3 keyed audit row(s)" in check.stdout, check.stdout
    other = _cli(path, home, "audit", "verify", **{pepper.PEPPER_ENV: ATTACKER_PEPPER.hex()})
    assert other.returncode == 2
    assert f"is not the one they were written with (id {DESK_KEY_ID})" in other.stdout
    right = _cli(path, home, "audit", "verify", **{pepper.PEPPER_ENV: TEST_PIN_PEPPER})
    assert right.returncode == 0 and "OK: the audit log's 3 row(s)" in right.stdout
    conn = sqlite3.connect(path)
    try:
        conn.execute("DROP TRIGGER audit_log_no_delete")
        conn.execute("DELETE FROM audit_log WHERE id = 2")
        conn.commit()
    finally:
        conn.close()
    broken = _cli(path, home, "audit", "verify", **no_key)
    assert broken.returncode == 1 and "BROKEN: audit row 3" in broken.stdout
    check = _cli(path, home, "db", "check", **no_key)
    assert check.returncode == 1 and "MISMATCH audit: audit row 3" in check.stdout
