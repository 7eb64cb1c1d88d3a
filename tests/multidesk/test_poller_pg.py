"""Event sync on PostgreSQL: pages stored once (re-fetched ids skipped), the cursor only moves forward."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from boxoffice.db.engine import Database
from boxoffice.domain.models import Order, OrderStatus, Payment, PaymentStatus, StripeEvent
from boxoffice.services.context import ServiceContext
from boxoffice.services.money.card_payments import CardPaymentService
from boxoffice.stripe_sync import cursor
from boxoffice.stripe_sync.poller import Poller
from boxoffice.timeutil import FixedClock
from tests import factories
from tests.fakes.fake_stripe import FakeStripe
from tests.stripe.conftest import make_gateway, new_order


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    server = FakeStripe().start()
    yield server
    server.stop()


def test_pages_are_stored_once_and_the_cursor_moves_forward_only(pg_db: Database, fake: FakeStripe) -> None:
    clock = FixedClock()
    for n in range(5):
        fake.emit("payment_intent.succeeded", {"id": f"pi_{n}", "amount": 1, "currency": "usd", "metadata": {}})
    poller = Poller(ServiceContext(db=pg_db, clock=clock), make_gateway(fake.url), page_size=2)
    first = poller.poll_once()
    again = poller.poll_once()  # the safety margin fetches the same events again
    assert (first.fetched, first.new, first.ignored) == (5, 5, 5)
    assert (again.fetched, again.new, again.ignored) == (5, 0, 0)
    with pg_db.write() as session:
        assert session.query(StripeEvent).count() == 5
        assert cursor.read_cursor(session) == fake.now
        cursor.advance_cursor(session, fake.now - 100, clock.now())  # an older page never moves it back
    with pg_db.write() as session:
        assert cursor.read_cursor(session) == fake.now
        cursor.advance_cursor(session, fake.now + 7, clock.now())
    with pg_db.read() as session:
        assert cursor.read_cursor(session) == fake.now + 7


def test_past_the_event_window_open_and_disputed_card_payments_are_looked_up(pg_db: Database,
                                                                             fake: FakeStripe) -> None:
    """The catch-up's query of what Stripe may have changed (open attempts, paid payments with an open
    dispute) on PostgreSQL: a bank debit that went through and a dispute closed while the events aged out."""
    clock = FixedClock()
    fake.now = int(clock.now().timestamp())
    ctx = ServiceContext(db=pg_db, clock=clock)
    gateway = make_gateway(fake.url)
    cards, poller = CardPaymentService(ctx, gateway), Poller(ctx, gateway)
    conference = factories.conference(pg_db)
    factories.ticket_type(pg_db, conference.id, price=Decimal("100.00"), total_quantity=10)
    disputed = new_order(ctx, pg_db, conference.id, 1)
    attempt = cards.start_terminal_payment(disputed.id, "tmr_desk1")
    fake.present_payment_method("tmr_desk1")
    assert cards.check_terminal_payment(attempt.payment_id).order_status == "paid"
    dispute = fake.open_dispute(fake.objects[attempt.payment_intent_id]["latest_charge"])
    by_debit = new_order(ctx, pg_db, conference.id, 2)
    link = cards.start_checkout_session(by_debit.id)
    fake.pay_session(link.checkout_session_id, delayed=True)
    clock.advance(hours=1)
    fake.advance(3600)
    assert poller.poll_once().online

    clock.advance(days=40)
    fake.advance(3600)
    fake.settle_async(link.checkout_session_id, succeeded=True)
    fake.close_dispute(dispute["id"], "lost")
    fake.advance(40 * 86400)
    fake.events.clear()  # older than 30 days: Stripe has dropped them
    report = poller.poll_once()

    assert report.online and report.failed == 0
    with pg_db.read() as session:
        assert session.get(Payment, link.payment_id).status == PaymentStatus.SUCCEEDED
        assert session.get(Order, by_debit.id).status == OrderStatus.PAID
        assert not session.get(Order, disputed.id).disputed
