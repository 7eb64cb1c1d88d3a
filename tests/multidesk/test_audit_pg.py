"""PostgreSQL: the desks' role cannot wipe or rewrite the audit log, and concurrent desks keep one chain.

Migrations run as the schema owner (the tests' superuser); ``grant_desk_role`` makes a login role
that owns nothing. Connected as that role, TRUNCATE, DISABLE TRIGGER, DELETE and UPDATE on the
audit log all fail, while the desk's own work (signing in, writing audit rows) goes on. Even the
owner cannot append a row the chain accepts: its hash is keyed with the desks' PIN key.
"""

from __future__ import annotations

import hashlib
import hmac
import multiprocessing
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from boxoffice.db.desk_role import grant_desk_role
from boxoffice.db.engine import Database
from boxoffice.services.context import ServiceContext
from boxoffice.services.staff import audit, pepper
from boxoffice.services.staff.access import Role
from boxoffice.services.staff.auth import AuthService
from tests.multidesk.lockout_workers import wrong_pins
from tests.services.test_audit_chain_key import (
    ATTACKER_PEPPER,
    DESK_KEY_ID,
    FORGED_BODY,
    FORGED_COLUMNS,
    FORGED_VALUES,
)

DESKS = 8


@pytest.fixture
def desk_role(pg_db: Database) -> Iterator[tuple[str, str]]:
    """A fresh login role with the desks' rights; yields (role, the URL desks use)."""
    role = f"desk_{secrets.token_hex(4)}"
    grant_desk_role(pg_db, role, password="desk-secret")
    url = make_url(pg_db.url).set(username=role, password="desk-secret").render_as_string(hide_password=False)
    yield role, url
    with pg_db.engine.begin() as conn:
        conn.execute(text(f'DROP OWNED BY "{role}"'))
        conn.execute(text(f'DROP ROLE "{role}"'))


def _fails(db: Database, statement: str) -> str:
    with pytest.raises(DBAPIError) as caught, db.engine.begin() as conn:
        conn.execute(text(statement))
    return str(caught.value.orig)


def test_the_desk_role_cannot_truncate_disable_triggers_delete_or_update_the_log(
        pg_db: Database, desk_role: tuple[str, str]) -> None:
    _role, url = desk_role
    desk = Database(url)
    try:
        ctx = ServiceContext(db=desk, desk_name="Desk 2")
        AuthService(ctx).add_staff("Vera", Role.VOLUNTEER, "135790")   # the desk's own work goes on
        with desk.write() as session:
            audit.record(session, ctx, audit.SETTINGS_CHANGE, target_label="desk name")
        assert "permission denied" in _fails(desk, "TRUNCATE audit_log")
        assert "must be owner" in _fails(desk, "ALTER TABLE audit_log DISABLE TRIGGER ALL")
        assert "permission denied" in _fails(desk, "DELETE FROM audit_log")
        assert "permission denied" in _fails(desk, "UPDATE audit_log SET action = 'x'")
        assert "permission denied" in _fails(desk, "CREATE TABLE sneaky (id int)")
        with desk.read() as session:
            assert audit.verify_chain(session).rows == 2 and audit.verify_chain(session).intact
    finally:
        desk.dispose()
    # Even the owner's TRUNCATE is refused by the trigger; a forged INSERT is named by the chain.
    assert "append-only" in _fails(pg_db, "TRUNCATE audit_log")
    with pg_db.engine.begin() as conn:
        conn.execute(text("INSERT INTO audit_log (at, desk, actor_name, actor_role, approver_name, action, "
                          "target_type, target_label, detail) VALUES (now(), 'Desk 1', 'Ada', 'admin', '', "
                          "'refund', 'order', 'forged', '')"))
    with pg_db.read() as session:
        report = audit.verify_chain(session)
    assert report.first_break is not None and report.first_break.row_id == 3


def _append_forged(db: Database, digest: Any, key_id: str) -> None:
    """As the owner: append a well-formed row whose hash ``digest(prev_hash)`` the attacker computes."""
    with db.engine.begin() as conn:
        prev = conn.execute(text("SELECT chain_hash FROM audit_log ORDER BY id DESC LIMIT 1")).scalar_one()
        conn.execute(text(f"INSERT INTO audit_log ({FORGED_COLUMNS}, prev_hash, chain_hash, chain_key_id) "
                          f"VALUES ({FORGED_VALUES}, :prev, :hash, :key_id)"),
                     {"prev": prev, "hash": digest(prev), "key_id": key_id})


def _break(db: Database) -> audit.ChainBreak | None:
    with db.read() as session:
        return audit.verify_chain(session).first_break


def test_rows_appended_with_a_plain_or_wrongly_keyed_hash_are_named(pg_db: Database) -> None:
    ctx = ServiceContext(db=pg_db, desk_name="Desk 1")
    for n in range(2):
        with pg_db.write() as session:
            audit.record(session, ctx, audit.SETTINGS_CHANGE, target_label=f"s{n}")
    _append_forged(pg_db, lambda prev: hashlib.sha256(f"{prev}\n{FORGED_BODY}".encode()).hexdigest(), "")
    found = _break(pg_db)
    assert found is not None and found.row_id == 3 and "forged" in found.reason
    with pg_db.engine.begin() as conn:   # the owner sets the triggers aside to take it out again
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("DELETE FROM audit_log WHERE id = 3"))
    assert _break(pg_db) is None
    wrong_key = hmac.new(ATTACKER_PEPPER, b"boxoffice audit chain", hashlib.sha256).digest()
    _append_forged(pg_db, lambda prev: hmac.new(wrong_key, f"{prev}\n{FORGED_BODY}".encode(),
                                                hashlib.sha256).hexdigest(), DESK_KEY_ID)
    found = _break(pg_db)
    assert found is not None and found.row_id == 4 and "edited or forged" in found.reason


def test_without_the_pin_key_the_keyed_rows_are_reported_unchecked(
        pg_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = ServiceContext(db=pg_db, desk_name="Desk 1")
    with pg_db.write() as session:
        audit.record(session, ctx, audit.SETTINGS_CHANGE, target_label="desk name")
    monkeypatch.setenv(pepper.PEPPER_ENV, ATTACKER_PEPPER.hex())   # a desk given another key
    with pg_db.read() as session:
        report = audit.verify_chain(session)
    assert report.first_break is None and not report.intact and report.unchecked == 1
    assert f"(id {DESK_KEY_ID})" in audit.unchecked_reason(report)
    assert pepper.PEPPER_ENV in audit.unchecked_reason(report)


@pytest.fixture
def spawn() -> Iterator[multiprocessing.context.SpawnContext]:
    ctx = multiprocessing.get_context("spawn")
    yield ctx
    for child in multiprocessing.active_children():
        child.kill()
        child.join(5)


@pytest.mark.slow
def test_eight_desks_writing_audit_rows_at_once_keep_one_unbroken_chain(pg_db: Database, spawn: Any) -> None:
    auth = AuthService(ServiceContext(db=pg_db))
    names = [f"Volunteer {n}" for n in range(DESKS)]
    for name in names:
        auth.add_staff(name, Role.VOLUNTEER, "135790")
    barrier, results = spawn.Barrier(DESKS), spawn.Queue()
    procs = [spawn.Process(target=wrong_pins, args=(pg_db.url, d, names[d], 4, barrier, results))
             for d in range(DESKS)]
    for proc in procs:
        proc.start()
    outcomes = [results.get(timeout=300) for _ in procs]
    for proc in procs:
        proc.join(10)
    assert sum(o["other"] for o in outcomes) == 0
    with pg_db.read() as session:
        report = audit.verify_chain(session)
    assert report.intact, report.first_break
    assert report.rows == DESKS + DESKS * 4   # the staff added, then one row per wrong PIN
