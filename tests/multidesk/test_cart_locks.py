"""On PostgreSQL a cart edit locks its own cart, never the conference row every desk's checkout needs."""

from __future__ import annotations

import contextvars
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from decimal import Decimal

from sqlalchemy import text

from boxoffice.db.engine import Database
from boxoffice.services.context import ServiceContext
from boxoffice.services.sales.cart import CartService
from boxoffice.timeutil import FixedClock
from tests import factories


def test_cart_edits_go_on_while_another_desk_holds_the_conference_row(pg_db: Database) -> None:
    conf = factories.conference(pg_db, total_capacity=100)
    regular = factories.ticket_type(pg_db, conf.id, name="Regular", price=Decimal("50.00"), total_quantity=100)
    workshop = factories.addon(pg_db, conf.id, name="Workshop", price=Decimal("20.00"), total_quantity=10)
    carts = CartService(ServiceContext(db=pg_db, clock=FixedClock()))
    ada = factories.customer(pg_db, name="Ada", email="ada@example.org")
    walkup = carts.new_walkup_cart(conf.id)

    other = pg_db.engine.connect()
    other_tx = other.begin()
    try:
        # Another desk in the middle of a checkout: it holds the conference row (counters) exclusively.
        other.execute(text("SELECT id FROM conference WHERE id = :id FOR UPDATE"), {"id": conf.id})

        def edits() -> list[int]:
            view = carts.add_ticket(walkup.id, regular.id, 2)
            view = carts.add_addon(view.id, workshop.id, 1)
            view = carts.set_quantity(view.id, view.lines[0].item_id, 3)
            view = carts.assign_customer(view.id, ada.id)
            return [line.quantity for line in view.lines]

        pool = ThreadPoolExecutor(1)
        future = pool.submit(contextvars.copy_context().run, edits)
        try:
            # Had the edits needed the conference row they would queue behind the other desk.
            quantities = future.result(timeout=20)
        except FuturesTimeout:
            other_tx.rollback()  # let the queued edits finish before failing
            future.result(timeout=60)
            raise AssertionError("the cart edits waited for the conference row another desk held") from None
        finally:
            pool.shutdown()
        assert quantities == [3, 1]
    finally:
        if other_tx.is_active:
            other_tx.rollback()
        other.close()
    with pg_db.read() as session:
        owner = session.execute(text("SELECT customer_id FROM cart WHERE id = :id"), {"id": walkup.id}).scalar()
    assert owner == ada.id
