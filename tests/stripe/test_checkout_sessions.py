"""Pay on your phone: Checkout Sessions completed, paid later, failed, expired (PAY-8 [FIX], PAY-11)."""

from __future__ import annotations

import contextlib
from decimal import Decimal

from boxoffice.domain.models import Order, OrderStatus, Payment, PaymentMethod, PaymentStatus
from boxoffice.services.money.payments import PaymentService
from boxoffice.services.money.ports import GatewayUnavailable
from tests import factories


def test_session_for_the_balance_completes_by_event_sync(cards, fake, make_order, poller, ctx, db):
    order = make_order(1)
    factories.ensure_open_shift(ctx.db)
    PaymentService(ctx).pay_cash(order.id, Decimal("25.00"))
    attempt = cards.start_checkout_session(order.id)
    assert attempt.checkout_url.startswith("https://checkout.stripe.com/") and attempt.amount == Decimal(
        "75.00"
    )
    session = fake.objects[attempt.checkout_session_id]
    assert session["amount_total"] == 7500 and session["metadata"]["payment_id"] == str(attempt.payment_id)
    fake.pay_session(attempt.checkout_session_id)
    report = poller.poll_once()
    assert report.failed == 0
    with db.read() as s:
        cards_rows = s.query(Payment).filter_by(order_id=order.id, method=PaymentMethod.STRIPE).all()
        assert len(cards_rows) == 1 and cards_rows[0].status == PaymentStatus.SUCCEEDED
        assert cards_rows[0].stripe_payment_intent_id.startswith("pi_")
        assert s.get(Order, order.id).status == OrderStatus.PAID


def test_async_payment_processing_then_succeeded(cards, fake, make_order, poller, db):
    order = make_order(1)
    attempt = cards.start_checkout_session(order.id)
    fake.pay_session(attempt.checkout_session_id, delayed=True)
    poller.poll_once()
    assert cards.get(attempt.payment_id).status == "processing"
    fake.settle_async(attempt.checkout_session_id, succeeded=True)
    poller.poll_once()
    assert cards.get(attempt.payment_id).status == "succeeded"
    with db.read() as s:
        assert s.get(Order, order.id).status == OrderStatus.PAID
        assert s.query(Payment).filter_by(order_id=order.id).count() == 1


def test_async_payment_failed_leaves_order_pending(cards, fake, make_order, poller):
    order = make_order(1)
    attempt = cards.start_checkout_session(order.id)
    fake.pay_session(attempt.checkout_session_id, delayed=True)
    fake.settle_async(attempt.checkout_session_id, succeeded=False)
    poller.poll_once()
    view = cards.get(attempt.payment_id)
    assert view.status == "failed" and view.order_status == "pending"
    assert cards.in_flight(order.id) is None


def test_expiry_at_stripe_fails_the_attempt(cards, fake, make_order, poller):
    order = make_order(1)
    attempt = cards.start_checkout_session(order.id)
    fake.expire_session(attempt.checkout_session_id)
    poller.poll_once()
    assert cards.get(attempt.payment_id).status == "failed"
    assert "expired" in cards.get(attempt.payment_id).failure_reason


def test_desk_expires_the_link_early_then_can_take_another_method(cards, fake, make_order, ctx):
    order = make_order(1)
    attempt = cards.start_checkout_session(order.id)
    assert cards.cancel(attempt.payment_id).status == "failed"
    assert fake.objects[attempt.checkout_session_id]["status"] == "expired"
    factories.ensure_open_shift(ctx.db)
    result = PaymentService(ctx).pay_cash(order.id, Decimal("100.00"))
    assert result.paid_in_full


def test_resume_after_a_lost_answer_returns_the_same_session(cards, fake, make_order, ctx, db):
    from boxoffice.services.money.card_payments import CardPaymentService
    from tests.stripe.conftest import make_gateway

    order = make_order(1)
    fake.add_fault("post", "/v1/checkout/sessions", "drop")
    flaky = CardPaymentService(ctx, make_gateway(fake.url, max_network_retries=0))
    with contextlib.suppress(GatewayUnavailable):  # the desk was told Stripe cannot be reached
        flaky.start_checkout_session(order.id)
    assert fake.count("checkout.session") == 1
    payment_id = cards.in_flight(order.id).payment_id
    resumed = cards.resume(payment_id)
    assert fake.count("checkout.session") == 1 and resumed.checkout_url


def test_a_link_paid_after_the_hold_lapsed_and_the_seat_sold_is_recorded_and_flagged(
    ctx, db, clock, cards, fake, poller
):
    from boxoffice.domain.models import Order, OrderStatus, Payment, PaymentStatus, TicketType
    from boxoffice.services.desk.shifts import ShiftService
    from boxoffice.services.money.payments import PaymentService
    from boxoffice.services.sales.cart import CartService
    from boxoffice.services.sales.checkout import CheckoutService
    from boxoffice.services.sales.order_state import OVERSOLD_NOTE
    from tests import factories

    conf = factories.conference(db, slug="lapsed")
    seat = factories.ticket_type(db, conf.id, name="Workshop", price=Decimal("100.00"), total_quantity=1)

    def order_for(name):
        customer = factories.customer(db, name=name, email=f"{name}@example.org")
        cart = CartService(ctx).open_cart(conf.id, customer.id)
        CartService(ctx).add_ticket(cart.id, seat.id, 1)
        return CheckoutService(ctx).checkout(cart.id)

    first = order_for("ada")
    link = cards.start_checkout_session(first.id)
    clock.advance(minutes=20)  # the buyer pays on their phone 20 minutes later
    ShiftService(ctx).open("0", conference_id=conf.id)
    second = order_for("grace")  # meanwhile the seat was sold at the desk
    PaymentService(ctx).pay_cash(second.id, "100")
    fake.pay_session(link.checkout_session_id)
    poller.poll_once()
    with db.read() as s:
        order = s.get(Order, first.id)
        assert order.status == OrderStatus.PENDING and OVERSOLD_NOTE in order.needs_attention
        assert s.get(Payment, link.payment_id).status == PaymentStatus.SUCCEEDED  # the money is recorded
        assert s.get(TicketType, seat.id).sold_quantity == 1  # never sold twice
