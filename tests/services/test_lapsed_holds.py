"""DEC-14: money taken on an order whose hold lapsed never oversells; ``db check`` sees an oversell."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from boxoffice.cli.checks import run_checks, stock_findings
from boxoffice.domain.models import Order, OrderStatus, Payment, TicketType
from boxoffice.errors import SoldOut
from boxoffice.services.desk.shifts import ShiftService
from boxoffice.services.money.payments import PaymentService
from boxoffice.services.sales.cart import CartService
from boxoffice.services.sales.checkout import CheckoutService
from tests import factories


@pytest.fixture
def last_seat(db):
    conf = factories.conference(db)
    ticket = factories.ticket_type(db, conf.id, name="Workshop", price=Decimal("100.00"), total_quantity=1)
    return conf.id, ticket.id


def _order(ctx, db, conference_id, ticket_id, name):
    customer = factories.customer(db, name=name, email=f"{name.lower()}@example.org")
    carts = CartService(ctx)
    cart = carts.open_cart(conference_id, customer.id)
    carts.add_ticket(cart.id, ticket_id, 1)
    return CheckoutService(ctx).checkout(cart.id)


def test_the_rest_in_cash_after_the_seat_was_sold_again_is_refused(ctx, db, clock, last_seat):
    conference_id, ticket_id = last_seat
    ShiftService(ctx).open("100", conference_id=conference_id)
    payments = PaymentService(ctx)
    first = _order(ctx, db, conference_id, ticket_id, "Ada")
    payments.pay_cash(first.id, "40")  # part paid: the sweep flags it, never cancels it
    clock.advance(minutes=30)  # its hold lapses; the seat is free again
    second = _order(ctx, db, conference_id, ticket_id, "Grace")
    payments.pay_cash(second.id, "100")
    with pytest.raises(SoldOut, match="0 Workshop left"):
        payments.pay_cash(first.id, "60")
    with db.read() as s:
        assert s.get(Order, first.id).status == OrderStatus.PENDING
        assert s.query(Payment).filter_by(order_id=first.id).count() == 1
        assert s.get(TicketType, ticket_id).sold_quantity == 1
        assert stock_findings(s, clock.now()) == []


def test_a_lapsed_hold_whose_stock_is_still_there_is_taken_back(ctx, db, clock, last_seat):
    conference_id, ticket_id = last_seat
    ShiftService(ctx).open("100", conference_id=conference_id)
    payments = PaymentService(ctx)
    order = _order(ctx, db, conference_id, ticket_id, "Ada")
    payments.pay_cash(order.id, "40")
    clock.advance(minutes=30)
    payments.pay_cash(order.id, "10")
    with db.read() as s:
        assert s.get(Order, order.id).hold_expires_at > clock.now()  # held again: nobody can take it
    with pytest.raises(SoldOut):
        _order(ctx, db, conference_id, ticket_id, "Grace")
    assert payments.pay_cash(order.id, "50").paid_in_full


def test_db_check_reports_sold_plus_held_above_stock(ctx, db, clock, last_seat):
    conference_id, ticket_id = last_seat
    _order(ctx, db, conference_id, ticket_id, "Ada")
    with db.write() as s:  # what the old code left behind: a lapsed order paid after a resale
        s.get(TicketType, ticket_id).sold_quantity = 1
    with db.read() as s:
        findings = [f for f in run_checks(s) if f.kind == "stock"]
        assert findings and "oversold by 1" in findings[0].message
        clock_later = clock.now() + timedelta(hours=1)  # once the hold lapsed, it no longer counts
        assert stock_findings(s, clock_later) == []


def test_a_card_refund_without_a_succeeded_card_payment_says_so(ctx, db, last_seat):
    from boxoffice.domain.models import PaymentMethod, PaymentStatus
    from boxoffice.errors import RefundError
    from boxoffice.services.money.refunds import RefundService
    from tests.services.money_helpers import FakeGateway

    conference_id, ticket_id = last_seat
    order = _order(ctx, db, conference_id, ticket_id, "Ada")
    with db.write() as s:  # the card was declined, then the lead comped the balance
        s.add(Payment(order_id=order.id, method=PaymentMethod.TERMINAL, status=PaymentStatus.FAILED,
                      amount=Decimal("100.00")))
    PaymentService(ctx).comp(order.id, reason="speaker")
    with pytest.raises(RefundError, match="no succeeded card payment"):
        RefundService(ctx, FakeGateway()).refund(order.id, Decimal("10.00"), method="card", reason="x")
