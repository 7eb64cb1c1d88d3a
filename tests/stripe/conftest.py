"""Stripe fixtures: our fake Stripe per test, a gateway pointed at it, pending orders made by the services."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest

from boxoffice.db.engine import Database
from boxoffice.services.context import ServiceContext
from boxoffice.services.money.card_payments import CardPaymentService
from boxoffice.services.sales.cart import CartService
from boxoffice.services.sales.checkout import CheckoutService
from boxoffice.services.sales.order_views import OrderSummary
from boxoffice.stripe_sync.gateway import StripeGateway
from boxoffice.stripe_sync.poller import Poller
from tests import factories
from tests.fakes.fake_stripe import FakeStripe

FAKE_KEY = "sk_test_fake_4242"


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    server = FakeStripe().start()
    yield server
    server.stop()


def make_gateway(url: str, **kw: object) -> StripeGateway:
    kw.setdefault("backoff", 0.001)
    kw.setdefault("backoff_max", 0.01)
    kw.setdefault("timeout", 2.0)
    return StripeGateway(FAKE_KEY, api_base=url, sleep=lambda s: None, **kw)  # type: ignore[arg-type]


@pytest.fixture
def gateway(fake: FakeStripe) -> StripeGateway:
    return make_gateway(fake.url)


@pytest.fixture
def cards(ctx: ServiceContext, gateway: StripeGateway) -> CardPaymentService:
    return CardPaymentService(ctx, gateway)


@pytest.fixture
def poller(ctx: ServiceContext, gateway: StripeGateway) -> Poller:
    return Poller(ctx, gateway)


@pytest.fixture
def conference_id(db: Database) -> int:
    conf = factories.conference(db)
    factories.ticket_type(db, conf.id, name="Individual", price=Decimal("100.00"), total_quantity=50)
    return conf.id


def new_order(ctx: ServiceContext, db: Database, conference_id: int, n: int, quantity: int = 1,
              email: str | None = None) -> OrderSummary:
    """A pending order of buyer ``n`` for ``quantity`` tickets of the conference, through cart and checkout."""
    from boxoffice.domain.models import TicketType

    customer = factories.customer(db, name=f"Buyer {n}", email=email or f"buyer{n}@example.org")
    carts = CartService(ctx)
    cart = carts.open_cart(conference_id, customer.id)
    with db.read() as session:
        ticket_id = session.query(TicketType.id).filter_by(conference_id=conference_id).scalar()
    carts.add_ticket(cart.id, ticket_id, quantity)
    return CheckoutService(ctx).checkout(cart.id)


@pytest.fixture
def make_order(ctx: ServiceContext, db: Database, conference_id: int) -> Callable[..., OrderSummary]:
    """A pending order for ``quantity`` Individual tickets (100.00 each), through cart and checkout."""
    counter = iter(range(1, 1000))

    def build(quantity: int = 1, *, email: str | None = None) -> OrderSummary:
        return new_order(ctx, db, conference_id, next(counter), quantity, email)

    return build
