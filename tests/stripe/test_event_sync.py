"""Event sync against our fake Stripe: EVT-1..13 with their fixes, TRM-8, duplicates, order, failures."""

from __future__ import annotations

import contextlib
from decimal import Decimal

from boxoffice.domain.models import (
    CaptureStatus,
    EventProcessingException,
    Order,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundMethod,
    RefundStatus,
    StripeEvent,
    TerminalPayment,
)
from boxoffice.errors import RefundError
from boxoffice.services.money.refunds import RefundService
from boxoffice.stripe_sync import cursor
from boxoffice.stripe_sync.poller import Poller, list_events, list_exceptions
from tests.stripe.conftest import make_gateway


def ours(ctx, **meta):
    """Metadata as this database puts it on the objects it creates."""
    with ctx.db.write() as session:
        return {**meta, "boxoffice_instance": cursor.instance_id(session, ctx.clock.now())}


def _paid_by_terminal(cards, fake, make_order, quantity=1):
    order = make_order(quantity)
    attempt = cards.start_terminal_payment(order.id, "tmr_desk1")
    fake.present_payment_method("tmr_desk1")
    cards.check_terminal_payment(attempt.payment_id)
    return order, attempt


def test_trm8_success_event_after_capture_creates_no_second_payment(cards, fake, make_order, poller, db):
    order, _attempt = _paid_by_terminal(cards, fake, make_order)
    report = poller.poll_once()
    assert report.online and report.failed == 0 and report.new == report.fetched > 0
    with db.read() as s:
        assert s.query(Payment).filter_by(order_id=order.id).count() == 1
        assert s.get(Order, order.id).status == OrderStatus.PAID
        assert s.query(StripeEvent).filter_by(processed=False).count() == 0


def test_trm8_capture_done_but_local_update_lost_is_completed_by_sync(
    cards, fake, make_order, poller, gateway, db
):
    order = make_order(1)
    attempt = cards.start_terminal_payment(order.id, "tmr_desk1")
    fake.present_payment_method("tmr_desk1")
    gateway.capture_payment_intent(attempt.payment_intent_id, currency="USD", idempotency_key="crash")
    poller.poll_once()
    with db.read() as s:
        payment = s.get(Payment, attempt.payment_id)
        assert payment.status == PaymentStatus.SUCCEEDED and payment.stripe_charge_id.startswith("ch_")
        assert s.query(TerminalPayment).one().capture_status == CaptureStatus.CAPTURED
        assert s.get(Order, order.id).status == OrderStatus.PAID
        assert s.query(Payment).count() == 1


def test_evt1_duplicate_events_are_stored_once_and_applied_once(cards, fake, make_order, poller, db):
    _paid_by_terminal(cards, fake, make_order)
    first = poller.poll_once()
    second = poller.poll_once()  # the safety margin fetches the same events again
    assert second.fetched == first.fetched and second.new == 0 and second.processed == 0
    with db.read() as s:
        assert s.query(StripeEvent).count() == first.fetched


def test_evt8_full_refund_processed_before_an_older_partial_one_never_downgrades(
    cards, fake, make_order, poller, db
):
    _order, attempt = _paid_by_terminal(cards, fake, make_order)
    poller.poll_once()
    with fake.lock:
        charge = dict(fake.objects[fake.objects[attempt.payment_intent_id]["latest_charge"]])
    full = {**charge, "amount_refunded": 10000, "refunded": True, "refunds": {"data": []}}
    partial = {**charge, "amount_refunded": 4000, "refunded": False, "refunds": {"data": []}}
    later = fake.now + 10
    fake.emit("charge.refunded", full, created=later)
    poller.poll_once()
    fake.emit("charge.refunded", partial, created=later - 5)  # older, but seen later
    report = poller.poll_once()
    assert report.processed == 1
    with db.read() as s:
        assert s.get(Payment, attempt.payment_id).status == PaymentStatus.REFUNDED


def test_events_are_processed_in_created_order_not_list_order(cards, fake, make_order, poller, db):
    order = make_order(1)
    attempt = cards.start_terminal_payment(order.id, "tmr_desk1")
    intent = dict(fake.objects[attempt.payment_intent_id])
    t = fake.now + 100
    # Listed newest first, the failure (t) would come before the success (t+1); applied in order it is
    # failed -> succeeded, and the success wins; the other way round a failure could never downgrade (EVT-7).
    fake.emit(
        "payment_intent.succeeded", {**intent, "status": "succeeded", "amount_received": 10000}, created=t + 1
    )
    fake.emit(
        "payment_intent.payment_failed", {**intent, "last_payment_error": {"message": "Declined"}}, created=t
    )
    poller.poll_once()
    with db.read() as s:
        payment = s.get(Payment, attempt.payment_id)
        assert payment.status == PaymentStatus.SUCCEEDED
        events = s.query(StripeEvent).filter(StripeEvent.kind.like("payment_intent.%")).all()
        assert all(e.processed for e in events)


def test_unknown_payment_intent_is_stored_and_ignored(fake, poller, db):
    fake.emit(
        "payment_intent.succeeded",
        {"id": "pi_not_ours", "object": "payment_intent", "amount": 500, "currency": "usd", "metadata": {}},
    )
    fake.emit(
        "payment_intent.succeeded",
        {
            "id": "pi_other_install",
            "amount": 500,
            "currency": "usd",
            "metadata": {"order_id": "1", "boxoffice_instance": "someoneelse"},
        },
    )
    fake.emit(
        "charge.refunded",
        {"id": "ch_x", "payment_intent": "", "amount": 500, "amount_refunded": 500, "currency": "usd"},
    )
    report = poller.poll_once()
    assert (report.fetched, report.new, report.ignored, report.failed) == (3, 3, 3, 0)
    with db.read() as s:
        assert s.query(StripeEvent).filter_by(processed=True, ignored=True).count() == 3


def test_evt3_handler_failure_is_recorded_and_retried_with_backoff_until_it_succeeds(
    fake, poller, make_order, db, clock, ctx, cards
):
    with db.read() as s:
        next_id = (s.query(Order.id).order_by(Order.id.desc()).limit(1).scalar() or 0) + 1
        next_payment = (s.query(Payment.id).order_by(Payment.id.desc()).limit(1).scalar() or 0) + 1
    intent = {
        "id": "pi_early",
        "object": "payment_intent",
        "amount": 10000,
        "amount_received": 10000,
        "currency": "usd",
        "status": "succeeded",
        "metadata": ours(ctx, order_id=str(next_id), payment_id=str(next_payment)),
    }
    fake.emit("payment_intent.succeeded", intent)
    first = poller.poll_once()
    assert first.failed == 1
    with db.read() as s:
        event = s.query(StripeEvent).one()
        assert not event.processed and event.attempts == 1 and event.next_attempt_at > clock.now()
        exc = s.query(EventProcessingException).one()
        assert exc.message.startswith("Traceback") and len(exc.message) <= 500
        assert "LookupError" in exc.traceback and "pi_early" in exc.data
    order = make_order(1)
    assert order.id == next_id
    assert cards.start_checkout_session(order.id).payment_id == next_payment
    assert poller.poll_once().failed == 0 and poller.poll_once().processed == 0  # backing off
    clock.advance(seconds=11)
    assert poller.poll_once().processed == 1
    with db.read() as s:
        assert s.get(Order, order.id).status == OrderStatus.PAID
        assert s.query(StripeEvent).one().processed


def test_evt13_retry_now_records_a_new_exception_on_renewed_failure(fake, poller, db, ctx):
    fake.emit(
        "payment_intent.succeeded",
        {"id": "pi_x", "amount": 100, "currency": "usd", "metadata": ours(ctx, order_id="777")},
    )
    poller.poll_once()
    event_id = list_events(poller._ctx, failed_only=True)[0].id
    assert poller.retry(event_id) == "failed"
    assert poller.retry_all().failed == 1
    assert len(list_exceptions(poller._ctx)) == 3
    assert list_events(poller._ctx)[0].last_error.startswith("Traceback")


def test_evt5_fix_money_for_a_cancelled_order_is_recorded_and_flagged(fake, poller, make_order, db, ctx):
    from boxoffice.services.sales.orders import OrderService

    order = make_order(1)
    with db.write() as s:  # a card attempt this desk made; the order was cancelled meanwhile
        attempt = Payment(order_id=order.id, method=PaymentMethod.STRIPE, status=PaymentStatus.FAILED,
                          amount=Decimal("100.00"))
        s.add(attempt)
        s.flush()
        payment_id = attempt.id
    OrderService(ctx).cancel(order.id)
    fake.emit(
        "payment_intent.succeeded",
        {
            "id": "pi_late",
            "amount": 10000,
            "currency": "usd",
            "metadata": ours(ctx, order_id=str(order.id), reference=order.reference,
                             payment_id=str(payment_id)),
        },
    )
    poller.poll_once()
    with db.read() as s:
        row = s.get(Order, order.id)
        assert row.status == OrderStatus.CANCELLED  # never revived
        assert "cancelled" in row.needs_attention
        assert s.query(Payment).filter_by(order_id=order.id, status=PaymentStatus.SUCCEEDED).count() == 1


def test_card_refund_through_refund_service_and_its_events_agree(
    cards, fake, make_order, poller, ctx, gateway, db
):
    order, _attempt = _paid_by_terminal(cards, fake, make_order)
    result = RefundService(ctx, gateway).refund(
        order.id, Decimal("40.00"), method=RefundMethod.CARD, reason="requested_by_customer"
    )
    assert result.status == "succeeded"
    poller.poll_once()
    with db.read() as s:
        refunds = s.query(Refund).all()
        assert len(refunds) == 1 and refunds[0].stripe_refund_id.startswith("re_")
        assert s.get(Order, order.id).status == OrderStatus.PARTIALLY_REFUNDED


def test_refund_answer_lost_is_confirmed_by_sync(cards, fake, make_order, poller, ctx, db):
    order, _attempt = _paid_by_terminal(cards, fake, make_order)
    fake.add_fault("post", "/v1/refunds", "drop")
    flaky = make_gateway(fake.url, max_network_retries=0)
    with contextlib.suppress(RefundError):  # the desk was told the card refund is not known yet
        RefundService(ctx, flaky).refund(order.id, Decimal("100.00"), method=RefundMethod.CARD, reason="")
    with db.read() as s:  # the refund happened at Stripe, but the desk could not know
        assert s.query(Refund).one().status != RefundStatus.SUCCEEDED
    poller.poll_once()
    with db.read() as s:
        refund = s.query(Refund).one()
        assert refund.status == RefundStatus.SUCCEEDED and refund.stripe_refund_id.startswith("re_")
        assert s.get(Order, order.id).status == OrderStatus.REFUNDED


def test_evt8c_refund_made_in_the_dashboard_is_recorded(cards, fake, make_order, poller, db):
    order, attempt = _paid_by_terminal(cards, fake, make_order)
    fake.refund_outside(attempt.payment_intent_id, 2500)
    poller.poll_once()
    poller.poll_once()
    with db.read() as s:
        refund = s.query(Refund).one()
        assert refund.amount == Decimal("25.00") and "outside" in refund.reason
        assert s.get(Order, order.id).status == OrderStatus.PARTIALLY_REFUNDED


def test_evt9_disputes_flag_the_order(cards, fake, make_order, poller, db):
    order, attempt = _paid_by_terminal(cards, fake, make_order)
    dispute = fake.open_dispute(fake.objects[attempt.payment_intent_id]["latest_charge"])
    poller.poll_once()
    with db.read() as s:
        assert s.get(Order, order.id).disputed and "disputed" in s.get(Order, order.id).needs_attention
    fake.close_dispute(dispute["id"], "won")
    poller.poll_once()
    with db.read() as s:
        assert not s.get(Order, order.id).disputed


def test_pagination_walks_every_page_and_cursor_moves_forward(fake, ctx, gateway, db):
    for n in range(7):
        fake.emit(
            "payment_intent.succeeded", {"id": f"pi_{n}", "amount": 1, "currency": "usd", "metadata": {}}
        )
    report = Poller(ctx, gateway, page_size=2).poll_once()
    assert (report.fetched, report.new, report.ignored) == (7, 7, 7)
    with db.read() as s:
        assert cursor.read_cursor(s) == fake.now
    assert sum(1 for m, p, k in fake.requests if p == "/v1/events") == 4


def test_evt12_unknown_types_from_a_server_without_type_filter_are_ignored(fake, poller, db):
    fake.types_supported = False
    fake.emit("customer.created", {"id": "cus_1", "object": "customer"})
    report = poller.poll_once()
    assert report.ignored == 1 and report.online


def test_unreachable_stripe_reports_offline_and_still_processes_stored_events(fake, ctx, db):
    url = fake.url
    fake.stop()
    report = Poller(ctx, make_gateway(url, max_network_retries=0)).poll_once()
    assert not report.online and "cannot be reached" in report.message


def test_one_poller_per_database_at_a_time(fake, ctx, gateway, db, clock):
    fake.emit("payment_intent.succeeded", {"id": "pi_1", "amount": 1, "currency": "usd", "metadata": {}})
    with db.write() as session:
        assert cursor.acquire_lease(session, "other desk", clock.now())
    busy = Poller(ctx, gateway).poll_once()
    assert busy.fetched == 0 and "another desk" in busy.message
    clock.advance(seconds=61)  # the other desk's lease lapsed (it crashed)
    assert Poller(ctx, gateway).poll_once().fetched == 1


def test_outage_mid_backlog_keeps_the_pages_already_stored_with_their_full_payloads(fake, ctx, db):
    """The next page is fetched while one is stored: Stripe failing after two pages loses nothing."""
    for n in range(7):
        fake.emit(
            "payment_intent.succeeded",
            {"id": f"pi_{n}", "amount": 100 + n, "currency": "usd", "metadata": {"note": "café"}},
        )
    gateway = make_gateway(fake.url, max_network_retries=0)

    class OutageAfterTwoPages:
        calls = 0

        def list_events_page(self, **kw):
            page = gateway.list_events_page(**kw)
            self.calls += 1
            if self.calls == 2:
                fake.add_fault("get", "/v1/events", status=503, times=50)  # Stripe fails from now on
            return page

    report = Poller(ctx, OutageAfterTwoPages(), page_size=2).poll_once()
    assert not report.online and "cannot be reached" in report.message
    assert (report.fetched, report.new) == (4, 4)
    with db.read() as s:
        events = s.query(StripeEvent).order_by(StripeEvent.stripe_created, StripeEvent.stripe_id).all()
        assert len(events) == 4 and all(e.processed and e.ignored for e in events)
        first = events[0].payload
        assert isinstance(first, dict) and first["type"] == "payment_intent.succeeded"
        assert first["data"]["object"]["metadata"] == {"note": "café"}
        assert {e.payload["data"]["object"]["amount"] for e in events} <= set(range(100, 107))
        assert events[0].livemode is False and events[0].kind == "payment_intent.succeeded"
        # Newest first: the older pages are not read yet, so the cursor has not moved; the pass has.
        assert cursor.read_cursor(s) is None and cursor.read_pass(s) is not None


def test_cursor_moves_forward_only_and_refetched_events_count_as_nothing_new(fake, ctx, gateway, db, clock):
    for n in range(3):
        fake.emit("payment_intent.succeeded", {"id": f"pi_{n}", "amount": 1, "currency": "usd", "metadata": {}})
    poller = Poller(ctx, gateway)
    assert (poller.poll_once().new, poller.poll_once().new) == (3, 0)  # the margin re-reads, nothing new
    with db.write() as session:
        cursor.advance_cursor(session, fake.now - 100, clock.now())
    with db.write() as session:
        assert cursor.read_cursor(session) == fake.now
        cursor.advance_cursor(session, fake.now + 5, clock.now())
    with db.read() as session:
        assert cursor.read_cursor(session) == fake.now + 5


def test_a_payment_intent_made_elsewhere_never_pays_a_local_order(fake, poller, make_order, db, ctx):
    order = make_order(1)  # pending, never sent to Stripe
    for metadata in (
        {"order_id": str(order.id), "reference": order.reference},  # the dashboard, another tool
        {"order_id": str(order.id), "boxoffice_instance": "someoneelse"},  # another Box Office
        ours(ctx, order_id=str(order.id), payment_id="999"),  # no such local attempt
    ):
        fake.emit("payment_intent.succeeded", {"id": f"pi_{len(metadata)}", "amount": 10000,
                                               "amount_received": 10000, "currency": "usd",
                                               "metadata": metadata})
    report = poller.poll_once()
    assert report.failed == 0 and report.ignored == 3
    with db.read() as s:
        assert s.get(Order, order.id).status == OrderStatus.PENDING
        assert s.query(Payment).filter_by(order_id=order.id).count() == 0
        assert s.query(StripeEvent).count() == 3  # stored, ignored
