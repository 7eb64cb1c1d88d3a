"""A database made by migration 0004 upgrades to attendees per ticket unit without losing a row."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from boxoffice.db.engine import Database, sqlite_url
from boxoffice.db.migrate import head_revision, upgrade
from boxoffice.services.checkin.admission import CheckInService
from boxoffice.services.checkin.attendees import AttendeeService
from boxoffice.services.context import ServiceContext
from tests.services.test_migrations import NOW, _fill_revision_0001, _row_counts


def _tables(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        names = [r[0] for r in conn.execute(text(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name NOT IN ('alembic_version', 'attendee')"))]
        return {n: int(conn.execute(text(f'SELECT COUNT(*) FROM "{n}"')).scalar_one()) for n in names}


def test_a_database_at_0004_gets_an_attendee_per_ticket_unit_and_keeps_every_row(tmp_path: Path) -> None:
    db = Database(sqlite_url(tmp_path / "at-0004.sqlite3"))
    try:
        assert upgrade(db, "0004") == "0004"
        _fill_revision_0001(db)
        with db.engine.begin() as conn:   # 0001..0004 kept one attendee per (customer, conference)
            conn.execute(text(
                "INSERT INTO attendee (customer_id, conference_id, order_id, access_code, completed_registration, "
                "created_at, updated_at) VALUES (1, 1, 1, 'KEPTCODE', 0, :now, :now)"), {"now": NOW})
            conn.execute(text(
                "INSERT INTO staff (name, is_active, role, secret_kind, secret_hash, failed_attempts, created_at, "
                "updated_at) VALUES ('Vic', 1, 'volunteer', '', '', 0, :now, :now)"), {"now": NOW})
        before, sales_before = _tables(db), _row_counts(db)

        assert upgrade(db) == head_revision(db)

        after = _tables(db)
        assert {t: after[t] for t in before} == before, "a table lost or gained rows"
        assert _row_counts(db) == sales_before
        with db.engine.connect() as conn:
            attendees = conn.execute(text(
                'SELECT o.reference, a.unit, a.name, a.access_code, a.status FROM attendee a '
                'JOIN "order" o ON o.id = a.order_id ORDER BY o.id, a.order_line_id, a.unit')).all()
        # paid order 1: two tickets; partially refunded order 4: one; pending and cancelled orders: none
        assert [(r[0], r[1]) for r in attendees] == [("PY-AAAA", 1), ("PY-AAAA", 2), ("PY-DDDD", 1)]
        assert attendees[0][3] == "KEPTCODE"                     # the old code stays on the first unit
        assert attendees[1][2] == "Guest 1 of Buyer"
        assert len({r[3] for r in attendees}) == 3

        ctx = ServiceContext(db=db)
        assert [a.access_code for a in AttendeeService(ctx).search(1, "keptcode")] == ["KEPTCODE"]
        assert sorted(a.order_reference for a in AttendeeService(ctx).search(1, "buy")) == ["PY-AAAA", "PY-AAAA",
                                                                                    "PY-DDDD"]
        assert CheckInService(ctx).scan(1, "keptcode").outcome == "admitted"
    finally:
        db.dispose()
