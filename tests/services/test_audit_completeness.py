"""Audit completeness: each sensitive operation writes exactly one audit row, in its transaction.

The row names the acting operator (and a lead who approved it), the desk, the target and the
amounts before/after. An operation that fails writes no row.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from boxoffice.domain.models import AuditEntry
from boxoffice.errors import RefundError
from boxoffice.services.staff import audit
from boxoffice.services.staff.access import SYSTEM, Actor, Role, acting_as
from boxoffice.timeutil import FixedClock
from tests.services.test_permissions import World, _world, flag_oversold

pytestmark = pytest.mark.no_default_actor

D = Decimal

# operation -> (the call, action, target_type, target id attribute of World or None, before, after)
CASES: dict[str, tuple[Callable[[World], Any], str, str, Callable[[World], int], Decimal | None, Decimal | None]] = {
    "manual payment": (lambda w: w.app.payments.pay_manual(w.pending_order_id, D("20.00"), reference="BANK-7"),
                       audit.MANUAL_PAYMENT, "order", lambda w: w.pending_order_id, D("50.00"), D("30.00")),
    "comp": (lambda w: w.app.payments.comp(w.pending_order_id, reason="speaker"),
             audit.COMP, "order", lambda w: w.pending_order_id, D("50.00"), D("0.00")),
    "void": (lambda w: w.app.payments.void(w.cash_payment_id, reason="keyed twice"),
             audit.VOID_PAYMENT, "payment", lambda w: w.cash_payment_id, D("50.00"), D("0.00")),
    "cash refund": (lambda w: w.app.refunds.refund(w.paid_order_id, D("15.00"), method="cash", reason="left"),
                    audit.REFUND, "order", lambda w: w.paid_order_id, D("50.00"), D("35.00")),
    "refund as credit": (lambda w: w.app.refunds.refund(w.paid_order_id, D("50.00"), method="credit"),
                         audit.REFUND, "order", lambda w: w.paid_order_id, D("50.00"), D("0.00")),
    "cancel units": (lambda w: w.app.refunds.cancel_units(
        w.paid_order_id, {w.app.orders.detail(w.paid_order_id).lines[0].id: 1}, method="cash", reason="ill"),
        audit.CANCEL_UNITS, "order", lambda w: w.paid_order_id, D("50.00"), D("0.00")),
    "admit oversold": (lambda w: w.app.orders.admit_oversold(flag_oversold(w), reason="an extra chair"),
                       audit.ADMIT_OVERSOLD, "order", lambda w: w.pending_order_id, D("50.00"), D("50.00")),
    "cancel": (lambda w: w.app.orders.cancel(w.pending_order_id),
               audit.CANCEL_ORDER, "order", lambda w: w.pending_order_id, D("50.00"), D("0.00")),
    "issue credit": (lambda w: w.app.credits.issue(w.customer_id, w.conference_id, D("7.50"), note="sorry"),
                     audit.CREDIT_ISSUE, "credit", lambda w: -1, None, D("7.50")),
    "expire credit": (lambda w: w.app.credits.expire(w.credit_id),
                      audit.CREDIT_EXPIRE, "credit", lambda w: w.credit_id, D("20.00"), D("0.00")),
    "apply credit": (lambda w: w.app.payments.apply_credit(w.pending_order_id, w.credit_id),
                     audit.CREDIT_APPLY, "credit", lambda w: w.credit_id, D("20.00"), D("0.00")),
    "rename attendee": (lambda w: w.app.attendees.rename(w.attendee_id, name="Grace Hopper"),
                        audit.ATTENDEE_RENAME, "attendee", lambda w: w.attendee_id, None, None),
    "attendee note": (lambda w: w.app.attendees.set_note(w.attendee_id, "VIP: call the chair"),
                      audit.ATTENDEE_CHANGE, "attendee", lambda w: w.attendee_id, None, None),
    "assign add-on": (lambda w: w.app.attendees.assign_addon(w.group_attendee_id, w.addon_line_id, 0),
                      audit.ATTENDEE_CHANGE, "attendee", lambda w: w.group_attendee_id, None, None),
    "undo check-in": (lambda w: w.app.checkin.undo(w.check_in_id, reason="wrong person"),
                      audit.CHECKIN_UNDO, "attendee", lambda w: w.group_attendee_id, None, None),
    "no-sale drawer opening": (lambda w: w.app.receipt_printer.open_drawer(f"file:{w.tmp}/drawer.bin", reason="change"),
                               audit.DRAWER_OPEN, "drawer", lambda w: None, None, None),
}


def _rows(w: World) -> list[AuditEntry]:
    with w.app.db.read() as session:
        rows = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        session.expunge_all()
        return rows


@pytest.mark.parametrize("case", list(CASES))
def test_one_audit_row_per_sensitive_operation(case: str, db_path: Path, clock: FixedClock, tmp_path: Path) -> None:
    call, action, target_type, target, before, after = CASES[case]
    w = _world(db_path, clock, tmp_path)
    try:
        lead = Actor(staff_id=w.volunteer_id, name="Val Volunteer", role=Role.VOLUNTEER).approved_by(
            Actor(staff_id=None, name="Lee Lead", role=Role.LEAD))
        seen = len(_rows(w))
        with acting_as(lead):
            result = call(w)
        new = _rows(w)[seen:]
        assert len(new) == 1, [r.action for r in new]
        row = new[0]
        assert row.action == action
        assert (row.actor_id, row.actor_name, row.actor_role) == (w.volunteer_id, "Val Volunteer", "volunteer")
        assert row.approver_name == "Lee Lead"
        assert row.desk == w.app.ctx.desk_name
        assert row.at == clock.now()
        assert row.target_type == target_type
        expected_target = target(w)
        assert row.target_id == (result.id if expected_target == -1 else expected_target)
        assert (row.amount_before, row.amount_after) == (before, after)
    finally:
        w.app.close()


def test_a_refused_operation_writes_no_audit_row(db_path: Path, clock: FixedClock, tmp_path: Path) -> None:
    w = _world(db_path, clock, tmp_path)
    try:
        seen = len(_rows(w))
        with acting_as(SYSTEM), pytest.raises(RefundError):
            w.app.refunds.refund(w.paid_order_id, D("500.00"), method="cash")
        assert len(_rows(w)) == seen
    finally:
        w.app.close()


def test_the_audit_log_is_append_only_in_the_database(db_path: Path, clock: FixedClock, tmp_path: Path) -> None:
    w = _world(db_path, clock, tmp_path)
    try:
        with acting_as(SYSTEM):
            w.app.orders.cancel(w.pending_order_id)
        for statement in ("UPDATE audit_log SET actor_name = 'someone else'", "DELETE FROM audit_log"):
            with pytest.raises(DBAPIError) as refused, w.app.db.write() as session:
                session.execute(text(statement))
            assert "append-only" in str(refused.value)
        with w.app.db.read() as session:
            assert session.scalar(select(func.count()).select_from(AuditEntry)) >= 1
    finally:
        w.app.close()


def test_an_export_to_a_folder_that_cannot_be_written_says_so(db_path: Path, clock: FixedClock,
                                                               tmp_path: Path) -> None:
    w = _world(db_path, clock, tmp_path)
    try:
        from boxoffice.services.staff.audit import ExportFailed

        with acting_as(SYSTEM), pytest.raises(ExportFailed, match="Choose another folder"):
            w.app.audit.export_csv(tmp_path / "no such folder" / "audit.csv")
        assert not (tmp_path / "no such folder").exists()
    finally:
        w.app.close()
