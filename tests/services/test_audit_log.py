"""The audit log: record, filter, page and export (AuditService), and the database refusing edits."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from boxoffice.db.engine import Database
from boxoffice.errors import InvalidInput, PermissionDenied
from boxoffice.services.context import ServiceContext
from boxoffice.services.staff import audit
from boxoffice.services.staff.access import Actor, Role, acting_as
from boxoffice.services.staff.audit import AuditService
from boxoffice.timeutil import UTC, FixedClock

GRACE = Actor(staff_id=None, name="Grace Lead", role=Role.LEAD)
ALAN = Actor(staff_id=None, name="Alan Admin", role=Role.ADMIN)
VAL = Actor(staff_id=None, name="Val Volunteer", role=Role.VOLUNTEER)
T0 = datetime(2027, 5, 1, 12, 0, tzinfo=UTC)


def _write(ctx: ServiceContext, action: str, label: str, actor: Actor, at: datetime, **kw: object) -> None:
    with ctx.db.write() as session:
        audit.record(session, ctx, action, target_type="order", target_label=label, actor=actor, at=at, **kw)


@pytest.fixture
def logged(ctx: ServiceContext) -> ServiceContext:
    _write(ctx, audit.REFUND, "PY-AAAA0001", GRACE, T0, amount_before=Decimal("100.00"),
           amount_after=Decimal("80.00"), detail={"reason": "Goodwill"})
    _write(ctx, audit.PRICE_CHANGE, "Early Bird", ALAN, T0 + timedelta(hours=1),
           amount_before=Decimal("80.00"), amount_after=Decimal("90.00"))
    _write(ctx, audit.CANCEL_ORDER, "PY-BBBB0002", GRACE, T0 + timedelta(hours=2))
    _write(ctx, audit.VOUCHER_CHANGE, "SPRING_50%", ALAN, T0 + timedelta(days=1), detail={"max_uses": 3})
    return ctx


def test_search_is_newest_first_and_filters_combine(logged: ServiceContext) -> None:
    service = AuditService(logged)
    assert [e.target_label for e in service.search()] == ["SPRING_50%", "PY-BBBB0002", "Early Bird", "PY-AAAA0001"]
    assert [e.action for e in service.search(actions=[audit.REFUND, audit.CANCEL_ORDER])] == [
        audit.CANCEL_ORDER, audit.REFUND]
    assert [e.target_label for e in service.search(actor_name="gra")] == ["PY-BBBB0002", "PY-AAAA0001"]
    assert [e.target_label for e in service.search(text="goodwill")] == ["PY-AAAA0001"]
    # LIKE wildcards typed by the operator are taken literally.
    assert [e.target_label for e in service.search(text="_50%")] == ["SPRING_50%"]
    assert [e.target_label for e in service.search(text="%")] == ["SPRING_50%"]
    window = service.search(at_from=T0 + timedelta(minutes=30), at_to=T0 + timedelta(hours=2))
    assert [e.target_label for e in window] == ["Early Bird"]   # at_to is exclusive
    assert service.count(actor_name="alan") == 2
    assert service.count(actions=[audit.PRICE_CHANGE], actor_name="grace") == 0


def test_paging_with_offset_and_limit(logged: ServiceContext) -> None:
    service = AuditService(logged)
    first = service.search(limit=3)
    second = service.search(offset=3, limit=3)
    assert len(first) == 3 and len(second) == 1
    assert {e.id for e in first}.isdisjoint({e.id for e in second})
    with pytest.raises(InvalidInput):
        service.search(limit=0)
    with pytest.raises(InvalidInput, match="Unknown audit action"):
        service.search(actions=["format_disk"])


def test_recorded_row_carries_actor_approver_desk_and_amounts(ctx: ServiceContext, clock: FixedClock) -> None:
    approved = VAL.approved_by(GRACE)
    with acting_as(approved), ctx.db.write() as session:
        audit.record(session, ctx, audit.COMP, target_type="order", target_id=7, target_label="PY-C",
                     amount_before=Decimal("50.00"), amount_after=Decimal("0.00"))
    [entry] = AuditService(ctx).search()
    assert (entry.actor_name, entry.actor_role, entry.approver_name, entry.desk) == (
        "Val Volunteer", "volunteer", "Grace Lead", "Desk 1")
    assert (entry.at, entry.amount_before, entry.amount_after, entry.target_id) == (
        clock.now(), Decimal("50.00"), Decimal("0.00"), 7)


def test_export_csv_writes_filtered_rows_oldest_first(logged: ServiceContext, tmp_path: Path) -> None:
    target = tmp_path / "audit.csv"
    assert AuditService(logged).export_csv(target, actor_name="grace") == 2
    assert not (tmp_path / "audit.csv.part").exists()
    rows = list(csv.reader(target.open(encoding="utf-8")))
    assert tuple(rows[0]) == audit.CSV_HEADER
    assert [(r[3], r[6], r[9], r[10], r[11]) for r in rows[1:]] == [
        ("Grace Lead", "refund", "PY-AAAA0001", "100.00", "80.00"),
        ("Grace Lead", "cancel_order", "PY-BBBB0002", "", ""),
    ]
    assert rows[1][1] == T0.isoformat()


@pytest.mark.no_default_actor
def test_volunteers_cannot_read_the_log_but_leads_can(logged: ServiceContext, tmp_path: Path) -> None:
    service = AuditService(logged)
    with acting_as(VAL):
        for call in (service.search, service.count, lambda: service.export_csv(tmp_path / "x.csv")):
            with pytest.raises(PermissionDenied, match="The audit log needs a lead"):
                call()
    assert not (tmp_path / "x.csv").exists()
    with acting_as(GRACE):
        assert service.count() == 4


@pytest.mark.parametrize("statement", [
    "UPDATE audit_log SET actor_name = 'someone else'",
    "UPDATE audit_log SET amount_after = 0 WHERE action = 'refund'",
    "DELETE FROM audit_log",
])
def test_the_database_refuses_to_change_or_delete_audit_rows(
        logged: ServiceContext, db: Database, statement: str) -> None:
    with pytest.raises(DatabaseError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text(statement))
    assert AuditService(logged).count() == 4
    assert {e.actor_name for e in AuditService(logged).search()} == {"Grace Lead", "Alan Admin"}
