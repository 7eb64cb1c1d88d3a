"""Catalogue availability on a real SQLite file: CAT-1..7, CAP-2, counters, constant query count."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event

from boxoffice.db.engine import Database
from boxoffice.errors import InvalidInput, NotFound
from boxoffice.services.context import ServiceContext
from boxoffice.services.sales import order_state
from boxoffice.services.sales.cart import CartService
from boxoffice.services.sales.catalog import CatalogService
from boxoffice.services.sales.orders import OrderService
from boxoffice.timeutil import FixedClock
from tests import factories as f


@contextmanager
def count_queries(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_cat1_unlimited_ticket_has_no_remaining(ctx: ServiceContext, db: Database) -> None:
    conf = f.conference(db)
    t = f.ticket_type(db, conf.id, total_quantity=0)
    assert CatalogService(ctx).remaining_all(conf.id) == {("ticket", t.id): None}


def test_cat1_counts_settled_and_held_orders_only(ctx: ServiceContext, db: Database, clock: FixedClock) -> None:
    conf = f.conference(db)
    t = f.ticket_type(db, conf.id, total_quantity=10)
    a = f.addon(db, conf.id, total_quantity=10)
    buyer = f.customer(db)
    paid = f.sell(ctx, conf.id, buyer.id, [("ticket", t.id, 2), ("addon", a.id, 1)])
    f.mark_order_paid(db, paid.id)
    f.sell(ctx, conf.id, f.customer(db, email="b@example.org").id, [("ticket", t.id, 3)])  # held
    cancelled = f.sell(ctx, conf.id, f.customer(db, email="c@example.org").id, [("ticket", t.id, 1)])
    OrderService(ctx).cancel(cancelled.id)
    remaining = CatalogService(ctx).remaining_all(conf.id)
    assert remaining[("ticket", t.id)] == 10 - 2 - 3
    assert remaining[("addon", a.id)] == 9
    with db.read() as session:
        assert order_state.recount(session) == []


def test_cat1_hold_at_or_before_now_no_longer_counts(ctx: ServiceContext, db: Database, clock: FixedClock) -> None:
    conf = f.conference(db, hold_minutes=15)
    t = f.ticket_type(db, conf.id, total_quantity=5)
    f.sell(ctx, conf.id, f.customer(db).id, [("ticket", t.id, 2)])
    catalog = CatalogService(ctx)
    clock.advance(minutes=14, seconds=59)
    assert catalog.remaining_all(conf.id)[("ticket", t.id)] == 3
    clock.advance(seconds=1)  # hold_expires_at == now: lapsed
    assert catalog.remaining_all(conf.id)[("ticket", t.id)] == 5


def test_cat1_remaining_may_be_negative_when_stock_lowered(ctx: ServiceContext, db: Database) -> None:
    conf = f.conference(db)
    t = f.ticket_type(db, conf.id, total_quantity=5)
    f.sell(ctx, conf.id, f.customer(db).id, [("ticket", t.id, 4)])
    with db.write() as session:
        from boxoffice.domain.models import TicketType
        session.get(TicketType, t.id).total_quantity = 2  # type: ignore[union-attr]
    view = CatalogService(ctx).list_products(conf.id).tickets[0]
    assert view.remaining == -2
    assert view.state == "sold_out"
    assert not view.allowed


def test_cat3_window_and_activity_states(ctx: ServiceContext, db: Database, clock: FixedClock) -> None:
    conf = f.conference(db)
    now = clock.now()
    f.ticket_type(db, conf.id, name="Exactly Open", available_from=now, available_until=now)
    f.ticket_type(db, conf.id, name="Future", available_from=now + timedelta(seconds=1))
    f.ticket_type(db, conf.id, name="Past", available_until=now - timedelta(seconds=1))
    f.ticket_type(db, conf.id, name="Off", is_active=False)
    f.ticket_type(db, conf.id, name="Gone", total_quantity=1)
    gone_buyer = f.customer(db)
    states = {p.name: p for p in CatalogService(ctx).list_products(conf.id).tickets}
    f.sell(ctx, conf.id, gone_buyer.id, [("ticket", states["Gone"].id, 1)])
    states = {p.name: p for p in CatalogService(ctx).list_products(conf.id).tickets}
    assert states["Exactly Open"].state == "on_sale" and states["Exactly Open"].allowed
    assert states["Future"].state == "not_yet" and "On sale from" in states["Future"].reason
    assert states["Past"].state == "ended"
    assert states["Off"].state == "inactive"
    assert states["Gone"].state == "sold_out" and states["Gone"].remaining == 0


def test_cat6_hidden_ticket_is_listed_as_voucher_only_until_unlocked(ctx: ServiceContext, db: Database) -> None:
    conf = f.conference(db)
    hidden = f.ticket_type(db, conf.id, name="Speaker", requires_voucher=True)
    f.voucher(db, conf.id, code="TALK", unlocks_hidden_tickets=True, ticket_types=[hidden.id])
    cart = CartService(ctx).open_cart(conf.id, f.customer(db).id)
    catalog = CatalogService(ctx)
    before = catalog.list_products(conf.id, cart_id=cart.id).tickets[0]
    assert (before.state, before.unlocked, before.allowed, before.requires_voucher) == (
        "voucher_only", False, False, True)
    CartService(ctx).apply_voucher(cart.id, "talk")
    after = catalog.list_products(conf.id, cart_id=cart.id).tickets[0]
    assert (after.state, after.unlocked, after.allowed) == ("on_sale", True, True)


def test_addon_needs_its_ticket_in_the_cart(ctx: ServiceContext, db: Database) -> None:
    conf = f.conference(db)
    t = f.ticket_type(db, conf.id, name="Tutorial Pass")
    f.addon(db, conf.id, name="Workshop", requires=[t.id])
    f.addon(db, conf.id, name="Mug")
    carts = CartService(ctx)
    cart = carts.open_cart(conf.id, f.customer(db).id)
    addons = {p.name: p for p in CatalogService(ctx).list_products(conf.id, cart_id=cart.id).addons}
    assert addons["Workshop"].state == "needs_ticket" and "Tutorial Pass" in addons["Workshop"].reason
    assert addons["Mug"].state == "on_sale"
    carts.add_ticket(cart.id, t.id)
    addons = {p.name: p for p in CatalogService(ctx).list_products(conf.id, cart_id=cart.id).addons}
    assert addons["Workshop"].state == "on_sale"


def test_cap2_full_venue_shows_tickets_sold_out(ctx: ServiceContext, db: Database) -> None:
    conf = f.conference(db, total_capacity=2)
    t = f.ticket_type(db, conf.id)
    f.sell(ctx, conf.id, f.customer(db).id, [("ticket", t.id, 2)])
    view = CatalogService(ctx).list_products(conf.id).tickets[0]
    assert view.state == "sold_out" and "venue capacity: 2" in view.reason


def test_catalog_uses_a_constant_number_of_queries(ctx: ServiceContext, db: Database) -> None:
    conf = f.conference(db)
    catalog = CatalogService(ctx)

    def measure() -> tuple[int, int]:
        with count_queries(db) as listed:
            catalog.list_products(conf.id)
        with count_queries(db) as remaining:
            catalog.remaining_all(conf.id)
        return len(listed), len(remaining)

    t0 = f.ticket_type(db, conf.id, name="T0", total_quantity=9)
    f.addon(db, conf.id, name="A0", requires=[t0.id])
    few = measure()
    for i in range(1, 30):
        f.ticket_type(db, conf.id, name=f"T{i}", total_quantity=9)
        f.addon(db, conf.id, name=f"A{i}", requires=[t0.id], total_quantity=3)
    assert measure() == few
    assert len(catalog.remaining_all(conf.id)) == 60


def test_unknown_or_invalid_ids_are_rejected(ctx: ServiceContext, db: Database) -> None:
    conf = f.conference(db)
    other = f.conference(db, name="Other", slug="other")
    catalog = CatalogService(ctx)
    with pytest.raises(NotFound):
        catalog.list_products(999)
    with pytest.raises(InvalidInput):
        catalog.remaining_all("1")  # type: ignore[arg-type]
    cart = CartService(ctx).open_cart(other.id, f.customer(db).id)
    with pytest.raises(InvalidInput):
        catalog.list_products(conf.id, cart_id=cart.id)


def test_prices_come_back_as_exact_decimals(ctx: ServiceContext, db: Database) -> None:
    conf = f.conference(db)
    f.ticket_type(db, conf.id, price=Decimal("19.99"))
    assert CatalogService(ctx).list_products(conf.id).tickets[0].price == Decimal("19.99")
