"""Past Stripe's 30-day event window: objects made before the last poll whose state changed after it.

The desk is put away for weeks and Stripe drops the events of that time. Listing intents, refunds and
disputes by their creation finds only what was made since the last poll; what was made before and
changed since (a bank debit that went through, an authorisation that lapsed, a pending refund that
succeeded, a dispute that closed) is looked up object by object.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from boxoffice.domain.models import (
    CaptureStatus,
    Order,
    OrderStatus,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    StripeEvent,
    TerminalPayment,
)
from boxoffice.services.money.card_payments import CardPaymentService
from boxoffice.stripe_sync.poller import Poller

DAY = 86400


@pytest.fixture
def desk(fake, ctx, clock, gateway):
    """Stripe's clock and the desk's agree; card payments and the poller share the gateway."""
    fake.now = int(clock.now().timestamp())
    return CardPaymentService(ctx, gateway), Poller(ctx, gateway)


def _later(fake, clock, **delta):
    clock.advance(**delta)
    fake.advance(int(delta.get("days", 0) * DAY + delta.get("hours", 0) * 3600))


def _paid_at_reader(cards, fake, order, reader="tmr_desk2"):
    attempt = cards.start_terminal_payment(order.id, reader)
    fake.present_payment_method(reader)
    assert cards.check_terminal_payment(attempt.payment_id).order_status == "paid"
    return attempt


def _away(fake, clock, days, changes=()):
    """The desk is off for ``days``: ``changes`` happen on Stripe an hour in, then the events age out."""
    _later(fake, clock, hours=1)
    for change in changes:
        change()
    _later(fake, clock, days=days, hours=-1)
    fake.events.clear()  # older than 30 days: Stripe has dropped them


def test_changes_to_objects_made_before_the_last_poll_reach_the_orders(desk, fake, clock, db, make_order):
    cards, poller = desk
    old = make_order(1)  # paid at the reader long ago: later refunded from the dashboard
    paid = _paid_at_reader(cards, fake, old)
    _later(fake, clock, days=100)
    by_debit = make_order(1)  # paid on the phone by a bank debit: processing at the last poll
    link = cards.start_checkout_session(by_debit.id)
    fake.pay_session(link.checkout_session_id, delayed=True)
    at_reader = make_order(1)  # card authorised, never captured: the desk was shut down
    held = cards.start_terminal_payment(at_reader.id, "tmr_desk1")
    fake.present_payment_method("tmr_desk1")
    refund = fake.refund_outside(paid.payment_intent_id, 3000, status="pending")
    _later(fake, clock, hours=1)
    assert poller.poll_once().online
    with db.read() as s:
        assert s.get(Payment, link.payment_id).status == PaymentStatus.PROCESSING
        assert s.get(Payment, held.payment_id).status == PaymentStatus.PENDING
        assert [r.status for r in s.query(Refund).filter_by(order_id=old.id)] == [RefundStatus.PENDING]
        assert s.get(Order, old.id).status == OrderStatus.PAID

    _away(fake, clock, 40, [
        lambda: fake.settle_async(link.checkout_session_id, succeeded=True),
        lambda: fake.lapse_authorization(held.payment_intent_id),
        lambda: fake.settle_refund(refund["id"]),
    ])
    report = poller.poll_once()

    assert report.online and report.failed == 0
    with db.read() as s:
        assert s.get(Payment, link.payment_id).status == PaymentStatus.SUCCEEDED
        assert s.get(Payment, link.payment_id).amount == Decimal("100.00")
        assert s.get(Order, by_debit.id).status == OrderStatus.PAID
        lapsed = s.get(Payment, held.payment_id)
        assert lapsed.status == PaymentStatus.FAILED and "cancelled" in lapsed.failure_reason
        assert s.query(TerminalPayment).filter_by(payment_id=held.payment_id).one().capture_status == (
            CaptureStatus.CANCELLED)
        assert s.get(Order, at_reader.id).status == OrderStatus.PENDING
        refunds = s.query(Refund).filter_by(order_id=old.id).all()
        assert [(r.status, r.amount, r.stripe_refund_id) for r in refunds] == [
            (RefundStatus.SUCCEEDED, Decimal("30.00"), refund["id"])]
        assert s.get(Order, old.id).status == OrderStatus.PARTIALLY_REFUNDED
        stored = s.query(StripeEvent).count()
    assert "each card payment still open or made in the last 220 days was looked up" in report.warning

    _away(fake, clock, 31)  # away again, nothing changed: the same objects are read, nothing is new
    again = poller.poll_once()
    assert again.online and again.failed == 0 and again.new == 0
    with db.read() as s:
        assert s.query(StripeEvent).count() == stored
        assert s.query(Refund).filter_by(order_id=old.id).count() == 1
        assert s.get(Order, old.id).status == OrderStatus.PARTIALLY_REFUNDED


def test_a_dispute_open_at_the_last_poll_and_closed_since_clears_the_order(desk, fake, clock, db, make_order):
    cards, poller = desk
    order = make_order(1)
    attempt = _paid_at_reader(cards, fake, order)
    dispute = fake.open_dispute(fake.objects[attempt.payment_intent_id]["latest_charge"])
    _later(fake, clock, hours=1)
    assert poller.poll_once().online
    with db.read() as s:
        assert s.get(Order, order.id).disputed

    _away(fake, clock, 45, [lambda: fake.close_dispute(dispute["id"], "won")])
    assert poller.poll_once().online

    with db.read() as s:
        closed = s.get(Order, order.id)
        assert not closed.disputed and f"Dispute {dispute['id']} closed: won" in closed.needs_attention


def test_only_open_and_recent_card_payments_are_looked_up(desk, fake, clock, db, make_order):
    """A charge older than Stripe's refund and dispute windows is not read one by one; a refund or a
    dispute made on it meanwhile is still found, by its own creation."""
    cards, poller = desk
    ancient_order = make_order(1)
    ancient = _paid_at_reader(cards, fake, ancient_order)
    _later(fake, clock, days=200)
    recent = _paid_at_reader(cards, fake, make_order(1), reader="tmr_desk1")
    fake.refund_outside(recent.payment_intent_id, 1000)
    _later(fake, clock, hours=1)
    assert poller.poll_once().online
    ancient_charge = fake.objects[ancient.payment_intent_id]["latest_charge"]
    recent_charge = fake.objects[recent.payment_intent_id]["latest_charge"]

    _away(fake, clock, 35, [lambda: fake.refund_outside(ancient.payment_intent_id, 2000),
                            lambda: fake.open_dispute(ancient_charge)])
    fake.requests.clear()
    report = poller.poll_once()

    assert report.online and report.failed == 0
    asked = {path for method, path, _ in fake.requests if method == "get"}
    assert not {p for p in asked if ancient_charge in p or ancient.payment_intent_id in p}, asked
    assert {p for p in asked if recent_charge in p or recent.payment_intent_id in p}, asked
    with db.read() as s:
        found = s.get(Order, ancient_order.id)
        assert found.status == OrderStatus.PARTIALLY_REFUNDED and found.disputed


def test_stripe_failing_during_the_look_ups_leaves_the_catch_up_to_the_next_poll(fake, ctx, clock, db,
                                                                                 make_order):
    from tests.stripe.conftest import make_gateway

    fake.now = int(clock.now().timestamp())
    gateway = make_gateway(fake.url, max_network_retries=0)
    cards, poller = CardPaymentService(ctx, gateway), Poller(ctx, gateway)
    order = make_order(1)
    link = cards.start_checkout_session(order.id)
    fake.pay_session(link.checkout_session_id, delayed=True)
    _later(fake, clock, hours=1)
    assert poller.poll_once().online
    _away(fake, clock, 40, [lambda: fake.settle_async(link.checkout_session_id, succeeded=True)])
    fake.add_fault("get", "/v1/payment_intents/", status=503)  # the look-up of the open attempt fails

    failed = poller.poll_once()
    assert not failed.online and "cannot be reached" in failed.message
    with db.read() as s:
        assert s.get(Payment, link.payment_id).status == PaymentStatus.PROCESSING
    assert poller.poll_once().online  # still past the window: the catch-up runs again, in full
    with db.read() as s:
        assert s.get(Payment, link.payment_id).status == PaymentStatus.SUCCEEDED
        assert s.get(Order, order.id).status == OrderStatus.PAID


def test_retrieve_object_reads_one_object_and_never_puts_other_text_in_the_path(gateway, fake):
    intent = gateway.create_payment_intent(amount=Decimal("5.00"), currency="usd", idempotency_key="r1",
                                           metadata={}, description="x")
    found = gateway.retrieve_object("payment_intent", intent.id)
    assert found is not None and found["id"] == intent.id and found["amount"] == 500
    assert gateway.retrieve_object("charge", "ch_gone") is None  # 404: Stripe has none
    fake.requests.clear()
    assert gateway.retrieve_object("payment_intent", "../customers") is None
    assert gateway.retrieve_object("refund", "re_1?expand[]=charge") is None
    assert fake.requests == []
