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


def _oversold(ctx, db, clock, last_seat):  # type: ignore[no-untyped-def]
    """What card money after a lapsed hold leaves behind: the money recorded, the order flagged."""
    from boxoffice.domain.models import PaymentMethod, PaymentStatus
    from boxoffice.services.sales.order_state import OVERSOLD_NOTE

    conference_id, ticket_id = last_seat
    ShiftService(ctx).open("100", conference_id=conference_id)
    first = _order(ctx, db, conference_id, ticket_id, "Ada")
    PaymentService(ctx).pay_cash(first.id, "30")  # part paid: the sweep flags it, never cancels it
    clock.advance(minutes=30)  # its hold lapses; the seat is sold again
    second = _order(ctx, db, conference_id, ticket_id, "Grace")
    PaymentService(ctx).pay_cash(second.id, "100")
    with db.write() as s:  # a pay-on-phone link completed late: recorded and flagged, not settled
        s.add(Payment(order_id=first.id, method=PaymentMethod.STRIPE, status=PaymentStatus.SUCCEEDED,
                      amount=Decimal("30.00"), stripe_payment_intent_id="pi_late"))
        s.get(Order, first.id).needs_attention = OVERSOLD_NOTE
    return first, ticket_id


def test_a_lead_admits_an_oversold_order_anyway_and_the_stock_goes_negative(ctx, db, clock, last_seat) -> None:  # type: ignore[no-untyped-def]
    from boxoffice.domain.models import Attendee, AuditEntry
    from boxoffice.services.sales.catalog import CatalogService
    from boxoffice.services.sales.orders import OrderService

    first, ticket_id = _oversold(ctx, db, clock, last_seat)
    orders = OrderService(ctx)
    summary = orders.admit_oversold(first.id, reason="an extra chair at the back")
    assert summary.status == "pending" and summary.needs_attention == "" and summary.balance == Decimal("40.00")
    assert summary.hold_expires_at > clock.now()
    paid = PaymentService(ctx).pay_cash(first.id, "40")  # the rest: the hold is live, nothing refused
    assert paid.paid_in_full and paid.order.status == "paid"
    with db.read() as s:
        assert s.get(TicketType, ticket_id).sold_quantity == 2
        assert s.query(Attendee).filter_by(order_id=first.id).count() == 1
        entry = s.query(AuditEntry).filter_by(action="admit_oversold").one()
        assert entry.target_id == first.id and "extra chair" in entry.detail and "0 Workshop left" in entry.detail
        assert [f.kind for f in stock_findings(s, clock.now())] == ["stock"]  # db check sees it, as it should
    assert CatalogService(ctx).remaining_all(last_seat[0])[("ticket", ticket_id)] <= 0


def test_admitting_needs_a_lead_a_reason_and_a_flagged_order(ctx, db, clock, last_seat) -> None:  # type: ignore[no-untyped-def]
    from boxoffice.errors import InvalidInput, OrderStateError, PermissionDenied
    from boxoffice.services.sales.orders import OrderService
    from boxoffice.services.staff.access import Actor, Role, acting_as

    first, _ticket_id = _oversold(ctx, db, clock, last_seat)
    orders = OrderService(ctx)
    with acting_as(Actor(staff_id=None, name="Val", role=Role.VOLUNTEER)), pytest.raises(PermissionDenied):
        orders.admit_oversold(first.id, reason="extra chair")
    with pytest.raises(InvalidInput, match="Say why"):
        orders.admit_oversold(first.id, reason="  ")
    orders.admit_oversold(first.id, reason="extra chair")
    with pytest.raises(OrderStateError, match="not waiting for a lead"):
        orders.admit_oversold(first.id, reason="again")
