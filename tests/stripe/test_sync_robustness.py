"""Event sync that survives real Stripe: interrupted catch-ups, odd events, junk answers."""

from __future__ import annotations

import json

from boxoffice.cli import main
from boxoffice.domain.models import EventProcessingException, StripeEvent
from boxoffice.stripe_sync import cursor
from boxoffice.stripe_sync.gateway import _cut_deep, decode_json
from boxoffice.stripe_sync.poller import Poller, list_events
from tests.stripe.conftest import FAKE_KEY, make_gateway


def _intent_event(fake, n, created):
    return fake.emit(
        "payment_intent.succeeded",
        {"id": f"pi_{n}", "amount": 100, "currency": "usd", "metadata": {}},
        created=created,
    )


class LoseNetworkAfter:
    """An event source whose network goes down after ``pages`` pages."""

    def __init__(self, gateway, fake, pages):
        self.gateway, self.fake, self.pages, self.calls = gateway, fake, pages, 0

    def list_events_page(self, **kw):
        page = self.gateway.list_events_page(**kw)
        self.calls += 1
        if self.calls == self.pages:
            self.fake.add_fault("get", "/v1/events", status=503, times=1000)
        return page


def test_an_interrupted_catch_up_is_finished_by_the_next_polls(fake, ctx, db):
    base = fake.now
    for n in range(250):
        _intent_event(fake, n, base + 15 * n)
    gateway = make_gateway(fake.url, max_network_retries=0)
    first = Poller(ctx, LoseNetworkAfter(gateway, fake, 1)).poll_once()
    assert not first.online and first.new == 100
    fake.faults.clear()
    _intent_event(fake, "late", base + 15 * 250)  # a new event while the desk was offline
    poller = Poller(ctx, gateway)
    second, third = poller.poll_once(), poller.poll_once()
    assert second.online and third.online
    with db.read() as s:
        assert s.query(StripeEvent).count() == 251
        assert cursor.read_cursor(s) == base + 15 * 250 and cursor.read_pass(s) is None
    assert second.new + third.new == 151  # the rest of the pass, then what came meanwhile


def test_a_pass_whose_resume_point_is_gone_starts_over(fake, ctx, db):
    base = fake.now
    for n in range(30):
        _intent_event(fake, n, base + n)
    gateway = make_gateway(fake.url, max_network_retries=0)
    Poller(ctx, LoseNetworkAfter(gateway, fake, 1), page_size=10).poll_once()
    fake.faults.clear()
    with db.read() as s:
        resume = cursor.read_pass(s)
    assert resume is not None
    with fake.lock:  # Stripe dropped the event the pass stopped at (older than 30 days)
        fake.events = [e for e in fake.events if e["id"] != resume.after]
    report = Poller(ctx, gateway, page_size=10).poll_once()
    assert report.online
    with db.read() as s:
        assert s.query(StripeEvent).count() == 30 and cursor.read_pass(s) is None


def test_odd_events_fail_with_their_reason_and_the_rest_goes_on(fake, ctx, db, cards, make_order, poller):
    order = make_order(1)
    attempt = cards.start_terminal_payment(order.id, "tmr_desk1")
    fake.present_payment_method("tmr_desk1")
    created = fake.now
    fake.emit_raw("evt_yesterday", json.dumps({
        "id": "evt_yesterday", "type": "payment_intent.succeeded", "created": "yesterday",
        "data": {"object": {"id": "pi_x", "metadata": {"order_id": str(order.id)}}}}), created=created)
    fake.emit_raw("evt_noid", json.dumps({"type": "charge.refunded", "created": created}), created=created)
    fake.emit_raw("evt_string", json.dumps("just a string"), created=created)
    fake.emit_raw("evt_data", json.dumps({"id": "evt_data", "type": "charge.refunded", "created": created,
                                          "data": "nothing"}), created=created)
    nested = "[" * 3000 + "]" * 3000
    deep = f'{{"id": "evt_deep", "type": "charge.refunded", "created": {created}, "data": {{"object": {nested}}}}}'

    fake.emit_raw("evt_deep", deep, created=created)
    cards.check_terminal_payment(attempt.payment_id)  # capture: payment_intent.succeeded follows
    report = poller.poll_once()
    assert report.online and report.failed == 3
    failed = {e.stripe_id: e.last_error for e in list_events(ctx, failed_only=True)}
    assert set(failed) == {"evt_yesterday", "evt_data", "evt_deep"}
    assert "'yesterday'" in failed["evt_yesterday"]
    assert "data is not an object" in failed["evt_data"]
    assert "nested too deep" in failed["evt_deep"] or "data.object is not an object" in failed["evt_deep"]
    with db.read() as s:
        assert s.query(EventProcessingException).count() == 3
        assert s.query(StripeEvent).filter_by(processed=True).count() >= 1
    again = poller.poll_once()  # the next poll is not stopped by them either
    assert again.online and again.new == 0


def test_an_html_page_with_status_200_means_stripe_is_offline(fake, ctx, gateway):
    fake.add_fault("get", "/v1/events", kind="html", times=10)
    report = Poller(ctx, gateway).poll_once()
    assert not report.online and "cannot be reached" in report.message


def test_sync_once_exits_offline_on_an_html_answer(fake, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BOXOFFICE_STRIPE_SECRET_KEY", FAKE_KEY)
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", str(tmp_path / "desk.sqlite3"))
    monkeypatch.setenv("BOXOFFICE_STRIPE_API_BASE", fake.url)
    fake.add_fault("get", "/v1/events", kind="html", times=10)
    assert main(["sync", "--once"]) == 2
    assert "cannot be reached" in json.loads(capsys.readouterr().out)["error"]


def test_deep_values_are_cut_and_strings_with_brackets_are_left_alone():
    text = json.dumps({"a": "[{\"]", "b": [[["x"]]]})
    assert json.loads(_cut_deep(text, 3)) == {"a": "[{\"]", "b": [["boxoffice: nested too deep"]]}
    assert decode_json("[" * 3000 + "]" * 3000) is not None


def test_fake_lists_newest_first_within_one_second(fake, gateway):
    for n in range(3):
        _intent_event(fake, n, fake.now)
    page = gateway.list_events_page(created_gte=None, starting_after=None)
    assert [e["data"]["object"]["id"] for e in page.events] == ["pi_2", "pi_1", "pi_0"]


def test_a_desk_offline_for_26_days_is_warned_in_sync_once(fake, ctx, db, clock, gateway):

    from boxoffice.stripe_sync.cli import _summary

    poller = Poller(ctx, gateway)
    assert poller.poll_once().warning == ""
    clock.advance(days=26)
    fake.add_fault("get", "/v1/events", status=503, times=100)
    report = Poller(ctx, make_gateway(fake.url, max_network_retries=0)).poll_once()
    assert not report.online and "26 days ago" in report.warning and "30 days" in report.warning
    assert "26 days ago" in json.loads(_summary(report))["warning"]
    fake.faults.clear()
    clock.advance(days=5)
    late = poller.poll_once()
    assert late.online and "Compare the orders" in late.warning
    assert poller.poll_once().warning == ""  # caught up: no warning any more


def test_past_the_30_day_window_the_objects_themselves_are_read(fake, ctx, db, clock, gateway, make_order):
    """The desk was off for 35 days and Stripe no longer has the events: a dashboard refund, a dispute
    and a pay-on-phone link paid meanwhile still reach the orders, read from the objects."""
    from decimal import Decimal

    from boxoffice.domain.models import Order, OrderStatus
    from boxoffice.services.money.card_payments import CardPaymentService

    fake.now = int(clock.now().timestamp())  # Stripe's clock and the desk's agree
    cards = CardPaymentService(ctx, gateway)
    poller = Poller(ctx, gateway)
    at_desk = make_order(1)
    attempt = cards.start_terminal_payment(at_desk.id, "tmr_desk1")
    fake.present_payment_method("tmr_desk1")
    cards.check_terminal_payment(attempt.payment_id)
    by_phone = make_order(1)
    link = cards.start_checkout_session(by_phone.id)
    assert poller.poll_once().online

    clock.advance(days=35)  # the desk is put away; meanwhile, on Stripe:
    fake.advance(3600)
    fake.pay_session(link.checkout_session_id)
    fake.refund_outside(attempt.payment_intent_id, 3000)
    fake.open_dispute(fake.objects[attempt.payment_intent_id]["latest_charge"])
    fake.advance(35 * 86400)
    fake.events.clear()  # older than 30 days: Stripe has dropped them

    report = poller.poll_once()
    assert report.online and report.failed == 0
    assert "read from Stripe directly" in report.warning
    with db.read() as s:
        desk_order = s.get(Order, at_desk.id)
        assert desk_order.status == OrderStatus.PARTIALLY_REFUNDED and desk_order.disputed
        assert s.get(Order, by_phone.id).status == OrderStatus.PAID
    assert cards.get(link.payment_id).amount == Decimal("100.00")
    again = poller.poll_once()  # caught up: nothing read twice, no warning any more
    assert again.warning == "" and again.new == 0
