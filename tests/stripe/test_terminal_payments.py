"""Card-present payments through our fake Stripe: TRM-3/5/6/7/11, PAY-11, DESK-5 recovery, STR-3."""

from __future__ import annotations

from decimal import Decimal

import pytest

from boxoffice.domain.models import (
    CaptureStatus,
    Order,
    OrderStatus,
    Payment,
    StripeCustomer,
    TerminalPayment,
)
from boxoffice.errors import OrderStateError, PaymentError
from boxoffice.services.money.card_payments import CardPaymentService
from boxoffice.services.money.payments import PaymentService
from boxoffice.services.money.ports import GatewayUnavailable
from tests import factories
from tests.fakes.fake_stripe import DECLINE_NUMBER
from tests.stripe.conftest import make_gateway


def test_trm_happy_path_captures_records_card_and_pays_order(cards, fake, make_order, db):
    order = make_order(2)
    attempt = cards.start_terminal_payment(order.id, "tmr_desk1")
    assert attempt.status == "pending" and attempt.amount == Decimal("200.00")
    intent = fake.objects[attempt.payment_intent_id]
    assert intent["capture_method"] == "manual" and intent["payment_method_types"] == ["card_present"]
    assert intent["amount"] == 20000 and intent["metadata"]["order_id"] == str(order.id)
    assert fake.objects["tmr_desk1"]["action"]["process_payment_intent"]["payment_intent"] == intent["id"]
    assert cards.check_terminal_payment(attempt.payment_id).status == "pending"  # card not tapped yet
    fake.present_payment_method("tmr_desk1")
    done = cards.check_terminal_payment(attempt.payment_id)
    assert (done.status, done.card_brand, done.card_last4, done.order_status) == (
        "succeeded",
        "visa",
        "4242",
        "paid",
    )
    with db.read() as s:
        detail = s.query(TerminalPayment).one()
        assert detail.capture_status == CaptureStatus.CAPTURED and detail.card_last4 == "4242"
        assert s.get(Order, order.id).hold_expires_at is None
        assert s.query(StripeCustomer).count() == 1  # STR-3: the buyer's Stripe customer, created once


def test_trm3_charges_only_the_outstanding_balance(cards, fake, make_order, ctx):
    order = make_order(1)
    factories.ensure_open_shift(ctx.db)
    PaymentService(ctx).pay_cash(order.id, Decimal("30.00"))
    attempt = cards.start_terminal_payment(order.id, "tmr_desk1")
    assert attempt.amount == Decimal("70.00")
    assert fake.objects[attempt.payment_intent_id]["amount"] == 7000


def test_trm3_refuses_paid_orders_and_trm2_needs_a_reader(cards, make_order, ctx):
    order = make_order(1)
    with pytest.raises(PaymentError, match="reader"):
        cards.start_terminal_payment(order.id, "")
    factories.ensure_open_shift(ctx.db)
    PaymentService(ctx).pay_cash(order.id, Decimal("100.00"))
    with pytest.raises(OrderStateError, match="not pending"):
        cards.start_terminal_payment(order.id, "tmr_desk1")


def test_pay11_one_card_payment_in_flight_per_order(cards, make_order, fake):
    order = make_order(1)
    first = cards.start_terminal_payment(order.id, "tmr_desk1")
    with pytest.raises(PaymentError, match="still in progress"):
        cards.start_terminal_payment(order.id, "tmr_desk2")
    with pytest.raises(PaymentError, match="still in progress"):
        cards.start_checkout_session(order.id)
    cards.cancel(first.payment_id)
    second = cards.start_terminal_payment(order.id, "tmr_desk2")
    assert second.payment_id != first.payment_id and fake.count("payment_intent") == 2


def test_trm11_declined_card_leaves_order_pending_with_reason(cards, fake, make_order, db):
    order = make_order(1)
    attempt = cards.start_terminal_payment(order.id, "tmr_desk1")
    fake.present_payment_method("tmr_desk1", number=DECLINE_NUMBER)
    result = cards.check_terminal_payment(attempt.payment_id)
    assert result.status == "failed" and "declined" in result.failure_reason
    assert result.order_status == "pending"
    assert fake.objects[attempt.payment_intent_id]["status"] == "canceled"
    with db.read() as s:
        assert s.query(TerminalPayment).one().capture_status == CaptureStatus.FAILED
    again = cards.start_terminal_payment(order.id, "tmr_desk1")  # a new attempt may follow
    assert again.status == "pending"


def test_trm7_cancel_uses_stored_reader_and_cancels_intent(cards, fake, make_order, db):
    order = make_order(1)
    attempt = cards.start_terminal_payment(order.id, "tmr_desk1")
    result = cards.cancel(attempt.payment_id)
    assert result.status == "failed" and result.order_status == "pending"
    assert fake.objects["tmr_desk1"]["action"] is None
    assert fake.objects[attempt.payment_intent_id]["status"] == "canceled"
    with db.read() as s:
        detail = s.query(TerminalPayment).one()
        assert detail.capture_status == CaptureStatus.CANCELLED and detail.cancelled_at is not None


def test_cancel_of_an_authorised_card_releases_it(cards, fake, make_order):
    order = make_order(1)
    attempt = cards.start_terminal_payment(order.id, "tmr_desk1")
    fake.present_payment_method("tmr_desk1")
    assert cards.cancel(attempt.payment_id).status == "failed"
    assert fake.objects[attempt.payment_intent_id]["status"] == "canceled"


def test_cancel_after_the_card_was_captured_elsewhere_records_the_money(cards, fake, make_order, gateway):
    order = make_order(1)
    attempt = cards.start_terminal_payment(order.id, "tmr_desk1")
    fake.present_payment_method("tmr_desk1")
    gateway.capture_payment_intent(attempt.payment_intent_id, currency="USD", idempotency_key="other-desk")
    with pytest.raises(PaymentError, match="already charged"):
        cards.cancel(attempt.payment_id)
    assert cards.get(attempt.payment_id).status == "succeeded"
    assert cards.get(attempt.payment_id).order_status == "paid"


def test_desk5_lost_answer_then_restart_and_resume_does_not_charge_twice(ctx, fake, make_order, db):
    """Timeout mid-payment: Stripe created the intent but the desk never heard; a new process resumes."""
    order = make_order(1)
    fake.add_fault("post", "/v1/payment_intents", "drop")
    flaky = CardPaymentService(ctx, make_gateway(fake.url, max_network_retries=0))
    with pytest.raises(GatewayUnavailable, match="saved"):
        flaky.start_terminal_payment(order.id, "tmr_desk1")
    assert fake.count("payment_intent") == 1  # it did happen at Stripe
    with db.read() as s:
        payment = s.query(Payment).one()
        assert (
            payment.status.value == "pending"
            and payment.idempotency_key
            and not payment.stripe_payment_intent_id
        )
        payment_id, key = payment.id, payment.idempotency_key
    restarted = CardPaymentService(ctx, make_gateway(fake.url))  # "after restart": a new service and client
    resumed = restarted.resume(payment_id)
    assert fake.count("payment_intent") == 1  # replayed by idempotency key, not created again
    assert resumed.payment_intent_id in fake.objects
    assert [k for m, p, k in fake.requests if p == "/v1/payment_intents"] == [key, key]
    fake.present_payment_method("tmr_desk1")
    assert restarted.check_terminal_payment(payment_id).order_status == "paid"


def test_timeout_with_client_retry_replays_instead_of_duplicating(ctx, fake, make_order):
    order = make_order(1)
    fake.add_fault("post", "/v1/payment_intents", "delay", seconds=0.6)
    cards = CardPaymentService(ctx, make_gateway(fake.url, timeout=0.2, max_network_retries=2))
    attempt = cards.start_terminal_payment(order.id, "tmr_desk1")
    assert fake.count("payment_intent") == 1 and attempt.payment_intent_id


def test_server_down_keeps_the_attempt_recoverable(ctx, fake, make_order, db):
    order = make_order(1)
    url = fake.url
    fake.stop()
    cards = CardPaymentService(ctx, make_gateway(url, max_network_retries=1))
    with pytest.raises(GatewayUnavailable, match="cannot be reached"):
        cards.start_terminal_payment(order.id, "tmr_desk1")
    with db.read() as s:
        assert s.get(Order, order.id).status == OrderStatus.PENDING
        assert s.query(Payment).one().status.value == "pending"


def test_500_then_success_and_429_with_retry(cards, fake, make_order):
    order = make_order(1)
    fake.add_fault("post", "/v1/payment_intents", status=500)
    fake.add_fault("post", "/v1/terminal/readers", status=429, times=2)
    attempt = cards.start_terminal_payment(order.id, "tmr_desk1")
    assert fake.count("payment_intent") == 1
    assert (
        fake.objects["tmr_desk1"]["action"]["process_payment_intent"]["payment_intent"]
        == attempt.payment_intent_id
    )


def test_reader_busy_fails_the_attempt_with_a_clear_message(cards, fake, make_order):
    first, second = make_order(1), make_order(1)
    cards.start_terminal_payment(first.id, "tmr_desk1")
    with pytest.raises(PaymentError, match="card reader could not start"):
        cards.start_terminal_payment(second.id, "tmr_desk1")
    assert cards.in_flight(second.id) is None


def test_list_readers(cards):
    assert [r.id for r in cards.list_readers()] == ["tmr_desk1", "tmr_desk2"]


def test_restricted_key_works_and_wrong_key_is_a_clear_config_error(fake):
    from boxoffice.errors import ConfigError
    from boxoffice.stripe_sync.gateway import StripeGateway

    restricted = StripeGateway("rk_test_fake_9999", api_base=fake.url)
    assert [r.id for r in restricted.list_readers()] == ["tmr_desk1", "tmr_desk2"]
    assert restricted.masked_key == "****9999" and "rk_test_fake" not in repr(restricted)
    with pytest.raises(ConfigError, match=r"\*\*\*\*0000"):
        StripeGateway("sk_test_wrong_0000", api_base=fake.url).list_readers()
    with pytest.raises(ConfigError, match="sk_ or rk_"):
        StripeGateway("pk_test_publishable", api_base=fake.url)


def test_card_errors_become_payment_declined(gateway, fake):
    from boxoffice.errors import PaymentDeclined

    fake.add_fault("post", "/v1/payment_intents", "card")
    with pytest.raises(PaymentDeclined, match="insufficient funds"):
        gateway.create_payment_intent(
            amount=Decimal("1.00"), currency="usd", idempotency_key="d1", metadata={}, description="x"
        )


def test_a_tap_after_the_hold_lapsed_and_the_stock_sold_is_cancelled_not_captured(cards, fake, make_order, ctx,
                                                                                 db, clock):
    """DEC-14 at the reader: the card is authorised, but the seat went to someone else meanwhile."""
    from boxoffice.domain.models import TicketType

    with db.write() as s:  # the last 2 seats
        ticket = s.query(TicketType).one()
        ticket.total_quantity = ticket.sold_quantity + ticket.held_quantity + 2
    order = make_order(2)
    attempt = cards.start_terminal_payment(order.id, "tmr_desk1")
    clock.advance(minutes=30)  # the buyer hesitates: the hold lapses, the card payment is still open
    other = make_order(1)
    factories.ensure_open_shift(ctx.db)
    PaymentService(ctx).pay_cash(other.id, Decimal("100.00"))  # one of the two seats is sold again
    fake.present_payment_method("tmr_desk1")
    result = cards.check_terminal_payment(attempt.payment_id)
    assert result.status == "failed" and "not charged" in result.failure_reason
    assert result.order_status == "pending"
    assert fake.objects[attempt.payment_intent_id]["status"] == "canceled"  # the authorisation released
    with db.read() as s:
        assert s.query(TerminalPayment).one().capture_status == CaptureStatus.CANCELLED
        assert s.get(Order, order.id).status == OrderStatus.PENDING
        assert s.query(TicketType).one().sold_quantity == 1
