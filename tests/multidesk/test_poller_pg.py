"""Event sync on PostgreSQL: pages stored once (re-fetched ids skipped), the cursor only moves forward."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from boxoffice.db.engine import Database
from boxoffice.domain.models import StripeEvent
from boxoffice.services.context import ServiceContext
from boxoffice.stripe_sync import cursor
from boxoffice.stripe_sync.poller import Poller
from boxoffice.timeutil import FixedClock
from tests.fakes.fake_stripe import FakeStripe
from tests.stripe.conftest import make_gateway


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
