"""Cash drawer shifts: open, close once, expected cash, the report and its CSV."""

from __future__ import annotations

import csv
import threading
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, update

from boxoffice.domain.models import AuditEntry, CashShift, Payment, PaymentStatus
from boxoffice.errors import InvalidInput, NoOpenShift, NotSignedIn, PermissionDenied, ShiftError
from boxoffice.services.context import ServiceContext
from boxoffice.services.desk.shift_report import csv_rows
from boxoffice.services.desk.shifts import ShiftService
from boxoffice.services.money.credits import CreditService
from boxoffice.services.money.payments import PaymentService
from boxoffice.services.money.refunds import RefundService
from boxoffice.services.staff import audit
from boxoffice.services.staff.access import Actor, Role, acting_as
from tests import factories

D = Decimal


@pytest.fixture
def shop(db):  # type: ignore[no-untyped-def]
    conf = factories.conference(db)
    regular = factories.ticket_type(db, conf.id, name="Regular", price=D("100.00"))
    student = factories.ticket_type(db, conf.id, name="Student", price=D("40.00"))
    workshop = factories.addon(db, conf.id, name="Workshop", price=D("25.00"))
    grace, alan = factories.staff(db, "Grace"), factories.staff(db, "Alan")
    return type("Shop", (), {"conf": conf.id, "regular": regular.id, "student": student.id,
                             "workshop": workshop.id, "grace": grace.id, "alan": alan.id})


def _order(ctx, shop, items, email):  # type: ignore[no-untyped-def]
    customer = factories.customer(ctx.db, email=email)
    return factories.sell(ctx, shop.conf, customer.id, items)


def test_open_shows_float_and_nothing_taken(ctx, shop) -> None:
    shift = ShiftService(ctx).open("150", conference_id=shop.conf, note="Morning")
    assert (shift.status, shift.desk_name, shift.opening_float) == ("open", "Desk 1", D("150.00"))
    assert (shift.cash_in, shift.cash_out, shift.expected, shift.counted) == (D("0.00"), D("0.00"), D("150.00"), None)
    assert ShiftService(ctx).current() == shift
    assert shift.opened_by == "test admin"  # no staff row: the audit log names who opened it
    with ctx.db.read() as session:
        row = session.scalars(select(AuditEntry).where(AuditEntry.action == audit.SHIFT_OPEN)).one()
        assert (row.target_id, row.amount_after, row.desk) == (shift.id, D("150.00"), "Desk 1")


def test_second_open_at_the_same_desk_is_refused_with_the_time(ctx, shop) -> None:
    first = ShiftService(ctx).open(D("100.00"), conference_id=shop.conf)
    with pytest.raises(ShiftError) as err:
        ShiftService(ctx).open(D("50.00"))
    # 12:00 UTC is 08:00 in New York, the conference's zone
    assert "already open at Desk 1 since 08:00" in str(err.value)
    assert f"#{first.id}" in str(err.value)
    other_desk = ShiftService(replace(ctx, desk_name="Desk 2")).open(D("50.00"))
    assert other_desk.desk_name == "Desk 2" and other_desk.id != first.id


@pytest.mark.parametrize("bad", ["-5", "abc", "", "1.234", 1.5])
def test_open_refuses_a_bad_float(ctx, bad) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput):
        ShiftService(ctx).open(bad)
    assert ShiftService(ctx).current() is None


def test_two_desks_with_the_same_name_opening_at_once_get_one_shift(ctx, db, clock) -> None:
    barrier = threading.Barrier(2)
    outcomes: list[object] = []
    admin = Actor(None, "admin", Role.ADMIN)

    def open_one(amount: str) -> None:
        service = ShiftService(ServiceContext(db=db, clock=clock, desk_name="Desk 1"))
        with acting_as(admin):
            barrier.wait()
            try:
                outcomes.append(service.open(amount))
            except ShiftError as exc:
                outcomes.append(exc)

    threads = [threading.Thread(target=open_one, args=(a,)) for a in ("100", "200")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(type(o).__name__ for o in outcomes) == ["ShiftError", "ShiftView"]
    with db.read() as session:
        assert session.scalar(select(CashShift.id).where(CashShift.status == "open")) is not None
        assert len(session.scalars(select(CashShift)).all()) == 1


def test_close_stores_expected_and_counted_and_cannot_close_twice(ctx, shop, clock) -> None:
    shifts = ShiftService(ctx)
    shift = shifts.open(D("100.00"), conference_id=shop.conf)
    order = _order(ctx, shop, [("ticket", shop.regular, 1)], "a@example.org")
    PaymentService(ctx).pay_cash(order.id, D("120.00"))  # 100 applied, 20 change
    clock.advance(hours=8)
    closed = shifts.close(shift.id, "195.50", note="Till roll jammed")
    assert (closed.status, closed.expected, closed.counted, closed.difference) == (
        "closed", D("200.00"), D("195.50"), D("-4.50"))
    assert closed.closed_at == clock.now() and closed.note == "Till roll jammed"
    with ctx.db.read() as session:
        row = session.get(CashShift, shift.id)
        assert (row.expected_cash, row.counted_cash) == (D("200.00"), D("195.50"))
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == audit.SHIFT_CLOSE)).one()
        assert (entry.amount_before, entry.amount_after) == (D("200.00"), D("195.50"))
        assert '"difference": "-4.50"' in entry.detail
    with pytest.raises(ShiftError, match="cannot be closed twice"):
        shifts.close(shift.id, "200.00")
    assert shifts.current() is None
    with pytest.raises(NoOpenShift):
        PaymentService(ctx).pay_cash(_order(ctx, shop, [("ticket", shop.student, 1)], "b@example.org").id, "40")


def test_closing_another_desks_shift_is_refused(ctx, shop) -> None:
    other = ShiftService(replace(ctx, desk_name="Desk 2")).open("10")
    with pytest.raises(ShiftError, match="belongs to Desk 2"):
        ShiftService(ctx).close(other.id, "10")


def test_expected_ignores_voided_payments_and_other_desks(ctx, shop) -> None:
    shift = ShiftService(ctx).open("50", conference_id=shop.conf)
    first = _order(ctx, shop, [("ticket", shop.student, 1)], "a@example.org")
    mistake = PaymentService(ctx).pay_cash(first.id, "30")  # partial cash, then voided by a lead
    with ctx.db.write() as session:
        session.execute(update(Payment).where(Payment.id == mistake.payment_id).values(status=PaymentStatus.VOIDED))
    desk2 = replace(ctx, desk_name="Desk 2")
    ShiftService(desk2).open("0")
    second = _order(ctx, shop, [("ticket", shop.regular, 1)], "b@example.org")
    PaymentService(desk2).pay_cash(second.id, "100")
    assert ShiftService(ctx).expected_cash(shift.id) == D("50.00")
    assert ShiftService(desk2).current().expected == D("100.00")


@pytest.mark.no_default_actor
def test_permissions(ctx, shop) -> None:
    volunteer = Actor(factories.staff(ctx.db, "Vera").id, "Vera", Role.VOLUNTEER)
    lead = Actor(factories.staff(ctx.db, "Lee").id, "Lee", Role.LEAD)
    with pytest.raises(NotSignedIn):
        ShiftService(ctx).current()
    with acting_as(volunteer):
        shift = ShiftService(ctx).open("20")
        assert shift.opened_by == "Vera"
        assert ShiftService(ctx).summary(shift.id).expected == D("20.00")  # the desk's open shift
        with pytest.raises(PermissionDenied, match="lead"):
            ShiftService(ctx).list()
        closed = ShiftService(ctx).close(shift.id, "20")
        assert ShiftService(ctx).report(closed.id).shift.closed_by == "Vera"  # who closed it may print it
    with acting_as(lead):
        again = ShiftService(ctx).open("30")
        ShiftService(ctx).close(again.id, "30")
        assert [s.id for s in ShiftService(ctx).list()] == [again.id, shift.id]
    with acting_as(volunteer), pytest.raises(PermissionDenied):
        ShiftService(ctx).report(again.id)


def _busy_shift(ctx, shop):  # type: ignore[no-untyped-def]
    """One shift with every kind of movement; the figures are worked out by hand in the tests."""
    shift = ShiftService(ctx).open("150.00", conference_id=shop.conf)
    pay = PaymentService(ctx)
    a = _order(ctx, shop, [("ticket", shop.regular, 2)], "a@example.org")  # 200
    pay.pay_cash(a.id, "250", operator_id=shop.grace)  # 200 kept, 50 change
    b = _order(ctx, shop, [("ticket", shop.regular, 1), ("addon", shop.workshop, 1)], "b@example.org")  # 125
    pay.pay_manual(b.id, "125", reference="CHQ 1", operator_id=shop.grace)
    c = _order(ctx, shop, [("ticket", shop.regular, 1)], "c@example.org")
    pay.comp(c.id, reason="Speaker", operator_id=shop.alan)
    d = _order(ctx, shop, [("ticket", shop.student, 1)], "d@example.org")
    pay.pay_cash(d.id, "40", operator_id=shop.alan)
    refunds = RefundService(ctx)
    refunds.refund(a.id, "30", method="cash", reason="Left early", operator_id=shop.grace)
    refunds.refund(d.id, "40", method="credit", operator_id=shop.alan)
    goodwill = CreditService(ctx).issue(factories.customer(ctx.db, email="e@example.org").id, shop.conf, "15")
    with ctx.db.write() as session:  # the credit service's own audit row, if it writes one, has the same target
        audit.record(session, ctx, audit.CREDIT_ISSUE, target_type="credit", target_id=goodwill.id,
                     target_label="Goodwill for E", amount_after=D("15.00"))
    return shift, (a, b, c, d)


def test_expected_is_float_plus_cash_in_minus_cash_out(ctx, shop) -> None:
    shift, _ = _busy_shift(ctx, shop)
    view = ShiftService(ctx).summary(shift.id)
    assert (view.cash_in, view.cash_out, view.expected) == (D("240.00"), D("30.00"), D("360.00"))
    assert (view.cash_payments, view.cash_refunds) == (2, 1)
    assert ShiftService(ctx).expected_cash(shift.id) == D("360.00")


def test_report_totals(ctx, shop) -> None:
    shift, orders = _busy_shift(ctx, shop)
    ShiftService(ctx).close(shift.id, "358.00")
    report = ShiftService(ctx).report(shift.id)
    assert not report.interim
    # A comp is no payment and no sale: it has its own section (the old report counted it in both).
    assert [(m.method, m.count, m.amount) for m in report.payments_by_method] == [
        ("manual", 1, D("125.00")), ("cash", 2, D("240.00"))]
    assert [(i.kind, i.name, i.units, i.comped, i.amount) for i in report.items] == [
        ("ticket", "Regular", 4, 1, D("300.00")), ("ticket", "Student", 1, 0, D("40.00")),
        ("addon", "Workshop", 1, 0, D("25.00"))]
    assert report.orders_completed == 4
    assert [(o.name, o.payments, o.amount, o.cash) for o in report.operators] == [
        ("Grace", 2, D("325.00"), D("200.00")), ("Alan", 1, D("40.00"), D("40.00"))]
    assert [(r.method, r.count, r.amount) for r in report.refunds] == [("cash", 1, D("30.00")), ("credit", 1, D("40.00"))]
    assert [(c.order_reference, c.amount, c.reason, c.operator) for c in report.comps] == [
        (orders[2].reference, D("100.00"), "Speaker", "Alan")]
    assert [(c.source, c.amount) for c in report.credits] == [("refund", D("40.00")), ("issued", D("15.00"))]
    assert (report.shift.expected, report.shift.counted, report.shift.difference) == (
        D("360.00"), D("358.00"), D("-2.00"))
    assert report.payments_total == D("365.00") and report.credits_total == D("55.00")
    assert report.payments_total == report.shift.cash_in + D("125.00")   # the cash in, plus the cheque


def test_interim_report_of_an_open_shift(ctx, shop) -> None:
    shift = ShiftService(ctx).open("0", conference_id=shop.conf)
    order = _order(ctx, shop, [("ticket", shop.student, 2)], "a@example.org")
    PaymentService(ctx).pay_cash(order.id, "50")  # partial: the order is not completed yet
    report = ShiftService(ctx).report(shift.id)
    assert report.interim and report.shift.counted is None
    assert [(m.method, m.amount) for m in report.payments_by_method] == [("cash", D("50.00"))]
    assert report.items == () and report.orders_completed == 0
    PaymentService(ctx).pay_cash(order.id, "30")
    report = ShiftService(ctx).report(shift.id)
    assert [(i.name, i.units, i.amount) for i in report.items] == [("Student", 2, D("80.00"))]
    assert report.shift.expected == D("80.00")


def test_an_order_paid_over_two_shifts_counts_in_the_shift_that_completed_it(ctx, shop, clock) -> None:
    shifts = ShiftService(ctx)
    first = shifts.open("0", conference_id=shop.conf)
    order = _order(ctx, shop, [("ticket", shop.regular, 1)], "a@example.org")
    PaymentService(ctx).pay_cash(order.id, "60")
    shifts.close(first.id, "60")
    clock.advance(minutes=5)
    second = shifts.open("0", conference_id=shop.conf)
    PaymentService(ctx).pay_cash(order.id, "40")
    assert ShiftService(ctx).report(first.id).items == ()
    assert [(i.name, i.units) for i in ShiftService(ctx).report(second.id).items] == [("Regular", 1)]


def test_report_csv_has_every_section_and_is_written_atomically(ctx, shop, tmp_path: Path) -> None:
    shift, _ = _busy_shift(ctx, shop)
    ShiftService(ctx).close(shift.id, "361.00")
    path = tmp_path / "shift.csv"
    count = ShiftService(ctx).report_csv(shift.id, path)
    assert not (tmp_path / "shift.csv.part").exists()
    rows = list(csv.reader(path.open(encoding="utf-8")))
    assert len(rows) == count == len(csv_rows(ShiftService(ctx).report(shift.id)))
    assert ["Desk", "Desk 1"] in rows and ["Status", "closed"] in rows
    for section in ("Cash drawer", "Payments by method", "Sales by ticket type", "Payments by operator",
                    "Refunds", "Comps (no money taken)", "Credits issued"):
        assert [section] in rows
    assert ["Expected cash", "360.00"] in rows and ["Counted cash", "361.00"] in rows
    assert ["Difference", "1.00"] in rows
    assert ["Cash", "2", "240.00"] in rows and ["Total", "3", "365.00"] in rows
    assert ["Ticket", "Regular", "4", "1", "300.00"] in rows
    assert ["Grace", "2", "325.00", "200.00"] in rows
    assert ["Cash from the drawer", "1", "30.00"] in rows
    assert ["Total", "", "55.00"] in rows


def test_the_report_names_the_lead_who_approved_a_comp(ctx, shop) -> None:
    shift = ShiftService(ctx).open("0", conference_id=shop.conf)
    order = _order(ctx, shop, [("ticket", shop.regular, 1)], "speaker@example.org")
    volunteer = Actor(staff_id=None, name="Vera", role=Role.VOLUNTEER)
    lead = Actor(staff_id=None, name="Linus", role=Role.LEAD)
    with acting_as(volunteer.approved_by(lead)):
        PaymentService(ctx).comp(order.id, reason="Speaker")
    report = ShiftService(ctx).report(shift.id)
    assert [(c.reason, c.approver) for c in report.comps] == [("Speaker", "Linus")]
    assert report.payments_total == D("0.00") and report.items_total == D("0.00")
    assert [(i.units, i.comped) for i in report.items] == [(1, 1)]
    assert ["Speaker" in row and "Linus" in row for row in csv_rows(report)].count(True) == 1
