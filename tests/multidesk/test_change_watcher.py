"""Other desks' sales show up: ChangeWatcher.poll() turns True after any sale, payment or credit elsewhere."""

from __future__ import annotations

from decimal import Decimal

from boxoffice.db.engine import Database
from boxoffice.services.context import ServiceContext
from boxoffice.services.desk.changes import ChangeWatcher
from boxoffice.services.money.credits import CreditService
from boxoffice.services.money.payments import PaymentService
from boxoffice.services.sales.cart import CartService
from boxoffice.services.sales.checkout import CheckoutService
from boxoffice.services.sales.orders import OrderService
from tests import factories


def _scenario(seller_db: Database, watcher_db: Database) -> None:
    """Desk A (seller_db) works; desk B (its own engine, watcher_db) must notice each step once."""
    conf = factories.conference(seller_db)
    tt = factories.ticket_type(seller_db, conf.id, total_quantity=50)
    buyer = factories.customer(seller_db)
    ctx = ServiceContext(db=seller_db, desk_name="Desk A")
    carts, checkout, payments = CartService(ctx), CheckoutService(ctx), PaymentService(ctx)
    credits, orders = CreditService(ctx), OrderService(ctx)

    watcher = ChangeWatcher(watcher_db)
    assert watcher.poll() is False  # baseline
    assert watcher.poll() is False  # nothing happened

    cart = carts.open_cart(conf.id, buyer.id)
    carts.add_ticket(cart.id, tt.id, 2)
    order = checkout.checkout(cart.id)
    assert watcher.poll() is True  # a new pending order holds two seats
    assert watcher.poll() is False

    payments.pay_manual(order.id, Decimal("50.00"), reference="cheque 1")
    assert watcher.poll() is True  # part payment: no status change, but a payment row
    assert watcher.poll() is False

    credit = credits.issue(buyer.id, conf.id, Decimal("500.00"))
    assert watcher.poll() is True
    payments.apply_credit(order.id, credit.id)
    assert watcher.poll() is True  # paid in full: held -> sold
    assert watcher.poll() is False

    cart2 = carts.open_cart(conf.id, buyer.id)
    carts.add_ticket(cart2.id, tt.id, 1)
    assert watcher.poll() is False  # cart edits change nothing other desks show
    order2 = checkout.checkout(cart2.id)
    assert watcher.poll() is True
    orders.cancel(order2.id)
    assert watcher.poll() is True  # the hold is released


def test_watcher_sees_another_engine_on_sqlite(db: Database) -> None:
    other = Database(db.url)
    try:
        _scenario(db, other)
    finally:
        other.dispose()


def test_watcher_sees_another_desk_on_postgresql(pg_db: Database) -> None:
    other = Database(pg_db.url)
    try:
        _scenario(pg_db, other)
    finally:
        other.dispose()


def test_reset_forgets_the_baseline(db: Database) -> None:
    watcher = ChangeWatcher(db)
    watcher.poll()
    conf = factories.conference(db)
    watcher.reset()  # e.g. the desk switched databases and reloaded every screen
    assert watcher.poll() is False
    factories.ticket_type(db, conf.id)
    assert watcher.poll() is True
