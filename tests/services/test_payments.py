"""Desk payments: cash with change, manual, comp, credit, split and free orders (PAY-*, CRD-*, DESK-3)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from boxoffice.domain.models import (
    Attendee,
    Credit,
    CreditStatus,
    Order,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    TicketType,
)
from boxoffice.errors import CreditError, InvalidInput, NoOpenShift, NotFound, OrderStateError, PaymentError
from boxoffice.services.money.credits import CreditService
from boxoffice.services.money.payments import PaymentService
from boxoffice.services.money.refunds import RefundService
from boxoffice.services.sales.orders import OrderService
from tests import factories
from tests.services.money_helpers import counters_consistent, pending_order, shop

D = Decimal


@pytest.fixture
def s(db):  # type: ignore[no-untyped-def]
    return shop(db)


def _ticket_counters(db, ticket_type_id):  # type: ignore[no-untyped-def]
    with db.read() as session:
        tt = session.get(TicketType, ticket_type_id)
        return tt.sold_quantity, tt.held_quantity


def test_cash_records_applied_amount_and_change_PAY5(ctx, db, clock, s) -> None:  # type: ignore[no-untyped-def]
    order_id = pending_order(db, s, clock.now())
    factories.ensure_open_shift(ctx.db)
    result = PaymentService(ctx).pay_cash(order_id, D("150.00"), operator_id=s.staff_id)
    assert (result.applied, result.change_due, result.paid_in_full) == (D("100.00"), D("50.00"), True)
    assert result.method == "cash"
    assert result.order.status == "paid" and result.order.balance == D("0.00")
    assert result.order.hold_expires_at is None  # PAY-6
    with db.read() as session:
        p = session.get(Payment, result.payment_id)
        assert (p.amount, p.amount_tendered, p.change_given, p.created_by_id) == (
            D("100.00"), D("150.00"), D("50.00"), s.staff_id
        )
    assert _ticket_counters(db, s.ticket_type_id) == (1, 0)
    assert counters_consistent(db)


def test_partial_cash_keeps_order_pending_with_hold_PAY7(ctx, db, clock, s) -> None:  # type: ignore[no-untyped-def]
    order_id = pending_order(db, s, clock.now())
    factories.ensure_open_shift(ctx.db)
    result = PaymentService(ctx).pay_cash(order_id, "60")
    assert result.order.status == "pending" and result.order.balance == D("40.00")
    assert result.order.hold_expires_at is not None
    assert result.change_due == D("0.00")
    assert _ticket_counters(db, s.ticket_type_id) == (0, 1)


def test_two_manual_payments_pay_the_order_once_PAY4_PAY9(ctx, db, clock, s) -> None:  # type: ignore[no-untyped-def]
    order_id = pending_order(db, s, clock.now())
    svc = PaymentService(ctx)
    first = svc.pay_manual(order_id, D("60.00"), reference="CHQ-1", operator_id=s.staff_id)
    assert not first.paid_in_full
    second = svc.pay_manual(order_id, D("40.00"), note="transfer")
    assert second.paid_in_full and second.order.paid == D("100.00")
    with db.read() as session:
        assert session.scalar(select(Attendee.order_id).where(Attendee.customer_id == s.customer_id)) == order_id
        assert session.get(Payment, first.payment_id).reference == "CHQ-1"
    with pytest.raises(PaymentError, match="pending orders"):
        svc.pay_manual(order_id, D("1.00"))


def test_manual_above_balance_is_refused_PAY5(ctx, db, clock, s) -> None:  # type: ignore[no-untyped-def]
    order_id = pending_order(db, s, clock.now())
    with pytest.raises(PaymentError, match=r"more than the \$100.00 still owed"):
        PaymentService(ctx).pay_manual(order_id, D("150.00"))
    with db.read() as session:
        assert session.scalars(select(Payment)).all() == []


@pytest.mark.parametrize("bad", [D("0"), D("-5"), D("1.005"), "abc", 1.5])
def test_invalid_amounts_rejected_before_writing(ctx, db, clock, s, bad) -> None:  # type: ignore[no-untyped-def]
    order_id = pending_order(db, s, clock.now())
    with pytest.raises(InvalidInput):
        PaymentService(ctx).pay_manual(order_id, bad)
    with pytest.raises(InvalidInput):
        factories.ensure_open_shift(ctx.db)
        PaymentService(ctx).pay_cash(order_id, bad)
    with db.read() as session:
        assert session.scalars(select(Payment)).all() == []


def test_unknown_order_and_operator(ctx, db, clock, s) -> None:  # type: ignore[no-untyped-def]
    order_id = pending_order(db, s, clock.now())
    with pytest.raises(NotFound):
        factories.ensure_open_shift(ctx.db)
        PaymentService(ctx).pay_cash(9999, D("10"))
    with pytest.raises(NotFound, match="Staff member"):
        factories.ensure_open_shift(ctx.db)
        PaymentService(ctx).pay_cash(order_id, D("10"), operator_id=9999)


def test_comp_zero_total_PAY2_and_free_order_DESK3(ctx, db, clock, s) -> None:  # type: ignore[no-untyped-def]
    free1 = pending_order(db, s, clock.now(), unit_price=D("0.00"))
    free2 = pending_order(db, s, clock.now(), unit_price=D("0.00"))
    r1 = PaymentService(ctx).comp(free1, reason="")
    r2 = PaymentService(ctx).complete_free_order(free2, operator_id=s.staff_id)
    for r in (r1, r2):
        assert r.method == "comp" and r.applied == D("0.00") and r.order.status == "paid"
    with pytest.raises(PaymentError, match="pending"):
        PaymentService(ctx).complete_free_order(free2)
    paying = pending_order(db, s, clock.now())
    with pytest.raises(PaymentError, match="not free"):
        PaymentService(ctx).complete_free_order(paying)


def test_comp_of_a_balance_needs_a_reason(ctx, db, clock, s) -> None:  # type: ignore[no-untyped-def]
    order_id = pending_order(db, s, clock.now())
    factories.ensure_open_shift(ctx.db)
    PaymentService(ctx).pay_cash(order_id, D("30"))
    with pytest.raises(InvalidInput, match="reason"):
        PaymentService(ctx).comp(order_id, reason="  ")
    r = PaymentService(ctx).comp(order_id, reason="speaker", operator_id=s.staff_id)
    assert r.applied == D("70.00") and r.order.status == "paid"
    with db.read() as session:
        assert session.get(Payment, r.payment_id).note == "speaker"


def _credit(ctx, s, amount, **kw):  # type: ignore[no-untyped-def]
    return CreditService(ctx).issue(s.customer_id, s.conference_id, D(amount), **kw)


@pytest.mark.parametrize(
    ("credit", "total", "card_first", "applied", "remaining", "status", "paid"),
    [
        ("100.00", "100.00", None, "100.00", "0.00", "applied", True),
        ("30.00", "100.00", None, "30.00", "0.00", "applied", False),
        ("200.00", "50.00", None, "50.00", "150.00", "available", True),
        ("50.00", "100.00", "60.00", "40.00", "10.00", "available", True),
    ],
)
def test_credit_examples_CRD5(ctx, db, clock, s, credit, total, card_first, applied, remaining, status, paid) -> None:  # type: ignore[no-untyped-def]
    order_id = pending_order(db, s, clock.now(), unit_price=D(total))
    if card_first:
        PaymentService(ctx).pay_manual(order_id, D(card_first))
    c = _credit(ctx, s, credit)
    r = PaymentService(ctx).apply_credit(order_id, c.id, operator_id=s.staff_id)
    assert r.applied == D(applied) and r.paid_in_full is paid
    with db.read() as session:
        row = session.get(Credit, c.id)
        assert (row.remaining_amount, row.status.value, row.applied_to_order_id) == (D(remaining), status, order_id)
        assert session.get(Payment, r.payment_id).credit_id == c.id


def test_split_payment_credit_then_cash(ctx, db, clock, s) -> None:  # type: ignore[no-untyped-def]
    order_id = pending_order(db, s, clock.now(), tickets=1, addons=1)  # 125.00
    c = _credit(ctx, s, "40.00")
    svc = PaymentService(ctx)
    assert not svc.apply_credit(order_id, c.id).paid_in_full
    factories.ensure_open_shift(ctx.db)
    r = svc.pay_cash(order_id, D("100.00"))
    assert (r.applied, r.change_due, r.paid_in_full) == (D("85.00"), D("15.00"), True)
    assert r.order.paid == D("125.00")
    assert counters_consistent(db)


def test_credit_preconditions_CRD2_CRD9(ctx, db, clock, s) -> None:  # type: ignore[no-untyped-def]
    order_id = pending_order(db, s, clock.now())
    other = factories.customer(db, name="Bob", email="bob@example.org")
    theirs = CreditService(ctx).issue(other.id, s.conference_id, D("10"))
    with pytest.raises(CreditError, match="another customer"):
        PaymentService(ctx).apply_credit(order_id, theirs.id)
    conf2 = factories.conference(db, name="Other", slug="other")
    elsewhere = CreditService(ctx).issue(s.customer_id, conf2.id, D("10"))
    with pytest.raises(CreditError, match="another conference"):
        PaymentService(ctx).apply_credit(order_id, elsewhere.id)
    with pytest.raises(NotFound):
        PaymentService(ctx).apply_credit(order_id, 4242)
    factories.ensure_open_shift(ctx.db)
    PaymentService(ctx).pay_cash(order_id, D("100"))
    mine = _credit(ctx, s, "10")
    with pytest.raises(PaymentError, match="pending"):
        PaymentService(ctx).apply_credit(order_id, mine.id)


def test_used_up_credit_cannot_pay_again(ctx, db, clock, s) -> None:  # type: ignore[no-untyped-def]
    o1 = pending_order(db, s, clock.now())
    o2 = pending_order(db, s, clock.now())
    c = _credit(ctx, s, "30")
    PaymentService(ctx).apply_credit(o1, c.id)
    with pytest.raises(CreditError, match="used up"):
        PaymentService(ctx).apply_credit(o2, c.id)


def test_expired_credit_is_refused_DEC3(ctx, db, clock, s) -> None:  # type: ignore[no-untyped-def]
    order_id = pending_order(db, s, clock.now())
    c = _credit(ctx, s, "30", expires_at=clock.now() + timedelta(days=1))
    clock.advance(days=2)
    with pytest.raises(CreditError, match="expired on"):
        PaymentService(ctx).apply_credit(order_id, c.id)
    with db.read() as session:
        assert session.get(Credit, c.id).remaining_amount == D("30.00")


def test_cancel_restores_each_credit_exactly_ORD5(ctx, db, clock, s) -> None:  # type: ignore[no-untyped-def]
    k2 = _credit(ctx, s, "80.00")  # older
    k1 = _credit(ctx, s, "30.00")  # newer
    order_id = pending_order(db, s, clock.now(), tickets=2)  # 200.00
    svc = PaymentService(ctx)
    svc.apply_credit(order_id, k1.id)
    svc.apply_credit(order_id, k2.id)
    summary = OrderService(ctx).cancel(order_id, operator_id=s.staff_id)
    assert summary.status == "cancelled"
    with db.read() as session:
        for credit_id, face in ((k1.id, D("30.00")), (k2.id, D("80.00"))):
            c = session.get(Credit, credit_id)
            assert (c.remaining_amount, c.status) == (face, CreditStatus.AVAILABLE)
    assert _ticket_counters(db, s.ticket_type_id) == (0, 0)
    assert counters_consistent(db)


def test_cash_on_a_cancelled_order_is_refused(ctx, db, clock, s) -> None:  # type: ignore[no-untyped-def]
    order_id = pending_order(db, s, clock.now())
    OrderService(ctx).cancel(order_id)
    with pytest.raises(PaymentError, match="cancelled"):
        factories.ensure_open_shift(ctx.db)
        PaymentService(ctx).pay_cash(order_id, D("100"))
    with db.read() as session:
        assert session.get(Order, order_id).status == OrderStatus.CANCELLED


# --------------------------------------------------------------------------- shifts and voids


def test_cash_without_an_open_shift_is_refused_and_records_nothing(ctx, db, clock, s) -> None:  # type: ignore[no-untyped-def]
    order_id = pending_order(db, s, clock.now())
    with pytest.raises(NoOpenShift, match="Open a shift"):
        PaymentService(ctx).pay_cash(order_id, D("100.00"))
    with db.read() as session:
        assert session.scalars(select(Payment).where(Payment.order_id == order_id)).all() == []
    shift_id = factories.ensure_open_shift(db, ctx.desk_name)
    result = PaymentService(ctx).pay_cash(order_id, D("100.00"))
    manual_order = pending_order(db, s, clock.now())
    manual = PaymentService(ctx).pay_manual(manual_order, D("100.00"))
    with db.read() as session:
        assert session.get(Payment, result.payment_id).shift_id == shift_id
        assert session.get(Payment, manual.payment_id).shift_id == shift_id  # the shift report counts it


def test_voiding_the_cash_that_paid_an_order_puts_it_back_to_pending(ctx, db, clock, s) -> None:  # type: ignore[no-untyped-def]
    order_id = pending_order(db, s, clock.now())
    factories.ensure_open_shift(db, ctx.desk_name)
    paid = PaymentService(ctx).pay_cash(order_id, D("120.00"))
    assert _ticket_counters(db, s.ticket_type_id) == (1, 0)
    with pytest.raises(InvalidInput, match="why"):
        PaymentService(ctx).void(paid.payment_id, reason=" ")
    voided = PaymentService(ctx).void(paid.payment_id, reason="keyed on the wrong order")
    assert voided.order.status == "pending" and voided.order.balance == D("100.00")
    assert voided.order.hold_expires_at is not None
    assert _ticket_counters(db, s.ticket_type_id) == (0, 1)
    assert counters_consistent(db)
    with db.read() as session:
        row = session.get(Payment, paid.payment_id)
        assert row.status == PaymentStatus.VOIDED and "keyed on the wrong order" in row.note
    with pytest.raises(PaymentError, match="voided"):
        PaymentService(ctx).void(paid.payment_id, reason="again")


def test_voiding_a_credit_payment_gives_the_credit_back(ctx, db, clock, s) -> None:  # type: ignore[no-untyped-def]
    order_id = pending_order(db, s, clock.now())
    c = _credit(ctx, s, "30.00")
    r = PaymentService(ctx).apply_credit(order_id, c.id)
    PaymentService(ctx).void(r.payment_id, reason="customer wants to keep the credit")
    with db.read() as session:
        row = session.get(Credit, c.id)
        assert (row.remaining_amount, row.status) == (D("30.00"), CreditStatus.AVAILABLE)
    again = PaymentService(ctx).apply_credit(order_id, c.id)  # usable again
    assert again.applied == D("30.00")


def test_refunded_orders_and_card_payments_cannot_be_voided(ctx, db, clock, s) -> None:  # type: ignore[no-untyped-def]
    order_id = pending_order(db, s, clock.now())
    factories.ensure_open_shift(db, ctx.desk_name)
    paid = PaymentService(ctx).pay_cash(order_id, D("100.00"))
    RefundService(ctx).refund(order_id, D("10.00"), method="cash")
    with pytest.raises(OrderStateError, match="Refund instead"):
        PaymentService(ctx).void(paid.payment_id, reason="mistake")
    card_order = pending_order(db, s, clock.now())
    with db.write() as session:
        session.add(Payment(order_id=card_order, method=PaymentMethod.TERMINAL, status=PaymentStatus.SUCCEEDED,
                            amount=D("100.00"), created_at=clock.now()))
        session.flush()
        card_id = max(p.id for p in session.scalars(select(Payment)))
    with pytest.raises(PaymentError, match="refund the card"):
        PaymentService(ctx).void(card_id, reason="mistake")
