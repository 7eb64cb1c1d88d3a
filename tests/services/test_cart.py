"""Cart rules on a real SQLite file: CART-1..16, VCH-4..9, DEC-4/5/9, CAP-3/4."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from boxoffice.db.engine import Database
from boxoffice.domain.models import Cart, CartItem, Customer
from boxoffice.errors import (
    CartError,
    InvalidInput,
    LimitExceeded,
    NotFound,
    SoldOut,
    VoucherExpired,
    VoucherInvalid,
)
from boxoffice.services.context import ServiceContext
from boxoffice.services.sales.cart import CartService
from boxoffice.timeutil import FixedClock
from tests import factories as f


@pytest.fixture
def conf(db: Database):  # type: ignore[no-untyped-def]
    return f.conference(db, cart_expiry_minutes=30)


@pytest.fixture
def carts(ctx: ServiceContext) -> CartService:
    return CartService(ctx)


def _items(db: Database, cart_id: int) -> list[tuple[int | None, int | None, int]]:
    with db.read() as s:
        return [tuple(r) for r in s.execute(  # type: ignore[misc]
            select(CartItem.ticket_type_id, CartItem.addon_id, CartItem.quantity)
            .where(CartItem.cart_id == cart_id).order_by(CartItem.id))]


def test_cart1_open_creates_then_reuses_without_extending(carts: CartService, conf, db: Database,  # type: ignore[no-untyped-def]
                                                          clock: FixedClock) -> None:
    buyer = f.customer(db)
    first = carts.open_cart(conf.id, buyer.id)
    assert first.status == "open"
    assert first.expires_at == clock.now() + timedelta(minutes=30)
    clock.advance(minutes=10)
    again = carts.open_cart(conf.id, buyer.id)
    assert again.id == first.id
    assert again.expires_at == first.expires_at


def test_cart1_expired_open_cart_is_marked_and_replaced(carts: CartService, conf, db: Database,  # type: ignore[no-untyped-def]
                                                        clock: FixedClock) -> None:
    buyer = f.customer(db)
    first = carts.open_cart(conf.id, buyer.id)
    clock.advance(minutes=30)
    assert carts.open_cart(conf.id, buyer.id).id == first.id  # expires_at == now: still usable
    clock.advance(seconds=1)
    second = carts.open_cart(conf.id, buyer.id)
    assert second.id != first.id
    assert carts.get(first.id).status == "expired"
    with db.read() as s:
        assert s.get(Cart, first.id).status.value == "expired"  # type: ignore[union-attr]


def test_cart2_adds_slide_the_expiry_but_voucher_and_remove_do_not(carts: CartService, conf, db: Database,  # type: ignore[no-untyped-def]
                                                                   clock: FixedClock) -> None:
    t = f.ticket_type(db, conf.id)
    f.voucher(db, conf.id, code="SPRING")
    cart = carts.open_cart(conf.id, f.customer(db).id)
    clock.advance(minutes=20)
    added = carts.add_ticket(cart.id, t.id)
    assert added.expires_at == clock.now() + timedelta(minutes=30)
    clock.advance(minutes=5)
    assert carts.apply_voucher(cart.id, "spring").expires_at == added.expires_at
    assert carts.set_quantity(cart.id, added.lines[0].item_id, 2).expires_at == clock.now() + timedelta(minutes=30)
    later = carts.get(cart.id).expires_at
    clock.advance(minutes=1)
    assert carts.remove_item(cart.id, added.lines[0].item_id).expires_at == later


def test_cart3_expired_cart_cannot_be_changed(carts: CartService, conf, db: Database, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    t = f.ticket_type(db, conf.id)
    cart = carts.open_cart(conf.id, f.customer(db).id)
    clock.advance(minutes=31)
    with pytest.raises(CartError, match="expired"):
        carts.add_ticket(cart.id, t.id)
    assert carts.get(cart.id).status == "expired"


def test_cart3_checked_out_or_abandoned_cart_cannot_be_changed(carts: CartService, conf, db: Database) -> None:  # type: ignore[no-untyped-def]
    t = f.ticket_type(db, conf.id)
    cart = carts.open_cart(conf.id, f.customer(db).id)
    assert carts.abandon(cart.id).status == "abandoned"  # DEC-4
    with pytest.raises(CartError, match="Only open carts"):
        carts.add_ticket(cart.id, t.id)
    with pytest.raises(CartError):
        carts.abandon(cart.id)


@pytest.mark.parametrize("bad", [0, -1, 1000, 1.5, "2", True, None])
def test_cart16_invalid_quantities_rejected_before_anything(carts: CartService, conf, db: Database, bad: object) -> None:  # type: ignore[no-untyped-def]
    t = f.ticket_type(db, conf.id)
    cart = carts.open_cart(conf.id, f.customer(db).id)
    with pytest.raises(InvalidInput):
        carts.add_ticket(cart.id, t.id, bad)  # type: ignore[arg-type]
    assert _items(db, cart.id) == []


def test_unknown_ids_and_wrong_conference(carts: CartService, conf, db: Database) -> None:  # type: ignore[no-untyped-def]
    other = f.conference(db, name="Other", slug="other")
    foreign = f.ticket_type(db, other.id, name="Foreign")
    cart = carts.open_cart(conf.id, f.customer(db).id)
    with pytest.raises(NotFound):
        carts.add_ticket(cart.id, 9999)
    with pytest.raises(NotFound):
        carts.add_ticket(9999, foreign.id)
    with pytest.raises(InvalidInput, match="does not belong"):
        carts.add_ticket(cart.id, foreign.id)
    with pytest.raises(NotFound):
        carts.open_cart(conf.id, 9999)
    assert _items(db, cart.id) == []


def test_cart5_cart6_same_ticket_increases_one_line(carts: CartService, conf, db: Database) -> None:  # type: ignore[no-untyped-def]
    t = f.ticket_type(db, conf.id, price=Decimal("50.00"))
    cart = carts.open_cart(conf.id, f.customer(db).id)
    carts.add_ticket(cart.id, t.id, 2)
    view = carts.add_ticket(cart.id, t.id, 3)
    assert _items(db, cart.id) == [(t.id, None, 5)]
    assert view.lines[0].line_subtotal == Decimal("250.00")
    assert view.total == Decimal("250.00")


def test_cart5_unavailable_tickets(carts: CartService, conf, db: Database, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    off = f.ticket_type(db, conf.id, name="Off", is_active=False)
    later = f.ticket_type(db, conf.id, name="Later", available_from=clock.now() + timedelta(days=1))
    cart = carts.open_cart(conf.id, f.customer(db).id)
    with pytest.raises(CartError, match="not on sale"):
        carts.add_ticket(cart.id, off.id)
    with pytest.raises(CartError, match="not on sale yet"):
        carts.add_ticket(cart.id, later.id)


def test_cart5_stock_message_names_what_is_left(carts: CartService, conf, db: Database, ctx: ServiceContext) -> None:  # type: ignore[no-untyped-def]
    t = f.ticket_type(db, conf.id, name="Student", total_quantity=5)
    f.sell(ctx, conf.id, f.customer(db, email="x@example.org").id, [("ticket", t.id, 3)])  # held: counts
    cart = carts.open_cart(conf.id, f.customer(db).id)
    carts.add_ticket(cart.id, t.id, 1)
    with pytest.raises(SoldOut, match="Only 2 Student tickets left. Lower the quantity or choose another ticket."):
        carts.add_ticket(cart.id, t.id, 2)
    assert _items(db, cart.id) == [(t.id, None, 1)]


def test_cat2_open_carts_reserve_nothing(carts: CartService, conf, db: Database) -> None:  # type: ignore[no-untyped-def]
    t = f.ticket_type(db, conf.id, total_quantity=2)
    a = carts.open_cart(conf.id, f.customer(db).id)
    b = carts.open_cart(conf.id, f.customer(db, email="b@example.org").id)
    carts.add_ticket(a.id, t.id, 2)
    assert carts.add_ticket(b.id, t.id, 2).lines[0].quantity == 2


def test_cart7_cart8_limit_counts_settled_and_held_orders(carts: CartService, conf, db: Database,  # type: ignore[no-untyped-def]
                                                          ctx: ServiceContext, clock: FixedClock) -> None:
    t = f.ticket_type(db, conf.id, name="Individual", limit_per_user=3)
    buyer = f.customer(db)
    f.sell(ctx, conf.id, buyer.id, [("ticket", t.id, 2)])  # pending with a live hold: counts (CART-8)
    cart = carts.open_cart(conf.id, buyer.id)
    carts.add_ticket(cart.id, t.id, 1)
    with pytest.raises(LimitExceeded, match="per-customer limit of 3") as refused:
        carts.add_ticket(cart.id, t.id, 1)
    assert "(2 already bought; the cart would hold 2). At most 1 can be in the cart." in str(refused.value)
    clock.advance(minutes=16)  # the hold lapsed: those 2 no longer count
    cart = carts.open_cart(conf.id, buyer.id)
    assert carts.add_ticket(cart.id, t.id, 2).lines[0].quantity == 3


def test_cart7_limit_message_counts_what_is_in_the_cart(carts: CartService, conf,  # type: ignore[no-untyped-def]
                                                        db: Database) -> None:
    t = f.ticket_type(db, conf.id, name="Regular", limit_per_user=2)
    cart = carts.open_cart(conf.id, f.customer(db).id)
    carts.add_ticket(cart.id, t.id, 2)
    with pytest.raises(LimitExceeded) as refused:
        carts.add_ticket(cart.id, t.id, 1)
    assert str(refused.value) == ("This would exceed the per-customer limit of 2 Regular tickets "
                                  "(the cart would hold 3). At most 2 can be in the cart.")


def test_cart7_limit_zero_allows_nothing(carts: CartService, conf, db: Database) -> None:  # type: ignore[no-untyped-def]
    t = f.ticket_type(db, conf.id, limit_per_user=0)
    cart = carts.open_cart(conf.id, f.customer(db).id)
    with pytest.raises(LimitExceeded):
        carts.add_ticket(cart.id, t.id)


def test_cap3_venue_cap_counts_all_ticket_units_in_cart(carts: CartService, db: Database, ctx: ServiceContext) -> None:
    conf = f.conference(db, total_capacity=5)
    a = f.ticket_type(db, conf.id, name="A")
    b = f.ticket_type(db, conf.id, name="B")
    shirt = f.addon(db, conf.id, name="Shirt")
    f.sell(ctx, conf.id, f.customer(db, email="x@example.org").id, [("ticket", a.id, 2)])
    cart = carts.open_cart(conf.id, f.customer(db).id)
    carts.add_ticket(cart.id, a.id, 2)
    carts.add_addon(cart.id, shirt.id, 5)  # CAP-4: add-ons never count
    with pytest.raises(SoldOut, match=r"Only 3 tickets remaining for this conference \(venue capacity: 5\)"):
        carts.add_ticket(cart.id, b.id, 2)
    carts.add_ticket(cart.id, b.id, 1)
    other = carts.open_cart(conf.id, f.customer(db, email="y@example.org").id)
    f.sell(ctx, conf.id, f.customer(db, email="z@example.org").id, [("ticket", b.id, 3)])
    with pytest.raises(SoldOut, match=r"sold out \(venue capacity: 5\)"):
        carts.add_ticket(other.id, a.id, 1)


def test_vch9_hidden_ticket_needs_unlocking_voucher(carts: CartService, conf, db: Database) -> None:  # type: ignore[no-untyped-def]
    hidden = f.ticket_type(db, conf.id, name="Speaker", requires_voucher=True)
    other = f.ticket_type(db, conf.id, name="Sponsor", requires_voucher=True)
    f.voucher(db, conf.id, code="PLAIN")
    f.voucher(db, conf.id, code="TALK", unlocks_hidden_tickets=True, ticket_types=[hidden.id])
    cart = carts.open_cart(conf.id, f.customer(db).id)
    with pytest.raises(VoucherInvalid, match="requires a voucher that unlocks hidden tickets"):
        carts.add_ticket(cart.id, hidden.id)
    carts.apply_voucher(cart.id, "PLAIN")
    with pytest.raises(VoucherInvalid, match="unlocks hidden tickets"):
        carts.add_ticket(cart.id, hidden.id)
    carts.apply_voucher(cart.id, "TALK")  # VCH-4: replaces PLAIN
    with pytest.raises(VoucherInvalid, match="does not cover Sponsor"):
        carts.add_ticket(cart.id, other.id)
    view = carts.add_ticket(cart.id, hidden.id)
    assert view.voucher_code == "TALK"
    assert [ln.name for ln in view.lines] == ["Speaker"]


def test_vch5_dec8_voucher_lookup_trims_and_ignores_case(carts: CartService, conf, db: Database) -> None:  # type: ignore[no-untyped-def]
    other = f.conference(db, name="Other", slug="other")
    f.voucher(db, conf.id, code="SPRING")
    f.voucher(db, other.id, code="ELSEWHERE")
    cart = carts.open_cart(conf.id, f.customer(db).id)
    assert carts.apply_voucher(cart.id, "  spring ").voucher_code == "SPRING"
    with pytest.raises(VoucherInvalid, match="not found"):
        carts.apply_voucher(cart.id, "ELSEWHERE")
    assert carts.remove_voucher(cart.id).voucher_code is None


def test_vch5_invalid_voucher_is_refused_with_a_clear_message(carts: CartService, conf, db: Database,  # type: ignore[no-untyped-def]
                                                              clock: FixedClock) -> None:
    f.voucher(db, conf.id, code="SPRING", max_uses=1, times_used=1)
    f.voucher(db, conf.id, code="OLD", valid_until=clock.now() - timedelta(days=1))
    cart = carts.open_cart(conf.id, f.customer(db).id)
    with pytest.raises(VoucherExpired, match="Voucher SPRING is used up."):
        carts.apply_voucher(cart.id, "spring")
    with pytest.raises(VoucherExpired, match="no longer valid"):
        carts.apply_voucher(cart.id, "old")
    assert carts.get(cart.id).voucher_code is None


def test_vch6_voucher_outside_scope_gives_no_discount(carts: CartService, conf, db: Database) -> None:  # type: ignore[no-untyped-def]
    t = f.ticket_type(db, conf.id)
    other = f.ticket_type(db, conf.id, name="Other")
    a = f.addon(db, conf.id)
    f.voucher(db, conf.id, code="ONLY", ticket_types=[other.id], addons=[a.id])
    cart = carts.open_cart(conf.id, f.customer(db).id)
    carts.add_ticket(cart.id, t.id)
    view = carts.apply_voucher(cart.id, "only")
    assert view.discount == Decimal("0.00") and view.total == view.subtotal


def test_cart_view_prices_live_with_voucher(carts: CartService, conf, db: Database) -> None:  # type: ignore[no-untyped-def]
    t = f.ticket_type(db, conf.id, price=Decimal("12.25"))
    f.voucher(db, conf.id, code="TEN", discount_value=Decimal(10))
    cart = carts.open_cart(conf.id, f.customer(db).id)
    carts.add_ticket(cart.id, t.id)
    view = carts.apply_voucher(cart.id, "ten")
    assert (view.subtotal, view.discount, view.total) == (Decimal("12.25"), Decimal("1.23"), Decimal("11.02"))
    with db.write() as s:  # MOD-CI-3: prices are live until checkout
        from boxoffice.domain.models import TicketType
        s.get(TicketType, t.id).price = Decimal("20.00")  # type: ignore[union-attr]
    assert carts.get(cart.id).subtotal == Decimal("20.00")


def test_cart9_addon_checks(carts: CartService, conf, db: Database, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    pass_ = f.ticket_type(db, conf.id, name="Tutorial Pass")
    workshop = f.addon(db, conf.id, name="Workshop", requires=[pass_.id], total_quantity=3)
    closed = f.addon(db, conf.id, name="Dinner", available_until=clock.now() - timedelta(hours=1))
    mug = f.addon(db, conf.id, name="Mug")
    cart = carts.open_cart(conf.id, f.customer(db).id)
    with pytest.raises(CartError, match="no longer on sale"):
        carts.add_addon(cart.id, closed.id)
    with pytest.raises(CartError, match="requires one of the following ticket types.*Tutorial Pass"):
        carts.add_addon(cart.id, workshop.id)
    assert carts.add_addon(cart.id, mug.id).lines[0].name == "Mug"  # CART-10: no ticket needed
    carts.add_ticket(cart.id, pass_.id)
    carts.add_addon(cart.id, workshop.id, 2)
    with pytest.raises(SoldOut, match="Only 3 Workshop units left"):
        carts.add_addon(cart.id, workshop.id, 2)


def test_cart13_held_orders_count_for_addon_stock_at_cart_time(carts: CartService, conf, db: Database,  # type: ignore[no-untyped-def]
                                                               ctx: ServiceContext) -> None:
    shirt = f.addon(db, conf.id, name="Shirt", total_quantity=2)
    f.sell(ctx, conf.id, f.customer(db, email="x@example.org").id, [("addon", shirt.id, 2)])  # held
    cart = carts.open_cart(conf.id, f.customer(db).id)
    with pytest.raises(SoldOut, match="Shirt is sold out"):
        carts.add_addon(cart.id, shirt.id)


def test_cart14_removing_ticket_cascades_orphaned_addons(carts: CartService, conf, db: Database) -> None:  # type: ignore[no-untyped-def]
    a = f.ticket_type(db, conf.id, name="A")
    b = f.ticket_type(db, conf.id, name="B")
    only_a = f.addon(db, conf.id, name="Only A", requires=[a.id])
    a_or_b = f.addon(db, conf.id, name="A or B", requires=[a.id, b.id])
    free = f.addon(db, conf.id, name="Free")
    cart = carts.open_cart(conf.id, f.customer(db).id)
    line_a = carts.add_ticket(cart.id, a.id).lines[0].item_id
    carts.add_ticket(cart.id, b.id)
    for addon in (only_a, a_or_b, free):
        carts.add_addon(cart.id, addon.id)
    view = carts.remove_item(cart.id, line_a)
    assert [ln.name for ln in view.lines] == ["B", "A or B", "Free"]
    with pytest.raises(NotFound):
        carts.remove_item(cart.id, line_a)


def test_cart15_set_quantity(carts: CartService, db: Database) -> None:
    conf = f.conference(db, total_capacity=4)
    t = f.ticket_type(db, conf.id, name="Student", total_quantity=3, limit_per_user=10)
    u = f.ticket_type(db, conf.id, name="Other")
    dep = f.addon(db, conf.id, name="Dep", requires=[t.id])
    cart = carts.open_cart(conf.id, f.customer(db).id)
    item = carts.add_ticket(cart.id, t.id).lines[0].item_id
    carts.add_ticket(cart.id, u.id, 1)
    carts.add_addon(cart.id, dep.id)
    assert carts.set_quantity(cart.id, item, 3).lines[0].quantity == 3
    with pytest.raises(SoldOut, match="Only 3 Student tickets left"):
        carts.set_quantity(cart.id, item, 4)
    with pytest.raises(InvalidInput):
        carts.set_quantity(cart.id, item, 1000)
    view = carts.set_quantity(cart.id, item, 0)  # removes, with the add-on cascade
    assert [ln.name for ln in view.lines] == ["Other"]
    with pytest.raises(NotFound):
        carts.set_quantity(cart.id, item, 1)


def test_cart15_set_quantity_checks_venue_with_other_lines(carts: CartService, db: Database) -> None:
    conf = f.conference(db, total_capacity=4)
    t = f.ticket_type(db, conf.id, name="T")
    u = f.ticket_type(db, conf.id, name="U")
    cart = carts.open_cart(conf.id, f.customer(db).id)
    item = carts.add_ticket(cart.id, t.id, 1).lines[0].item_id
    carts.add_ticket(cart.id, u.id, 2)
    assert carts.set_quantity(cart.id, item, 2).total == Decimal("400.00")
    with pytest.raises(SoldOut, match="venue capacity: 4"):
        carts.set_quantity(cart.id, item, 3)


def test_dec5_walkup_cart_gets_a_fresh_anonymous_customer(carts: CartService, conf, db: Database) -> None:  # type: ignore[no-untyped-def]
    first = carts.new_walkup_cart(conf.id)
    second = carts.new_walkup_cart(conf.id)
    assert first.customer_id != second.customer_id
    assert first.customer_label.startswith("Walk-up #")
    with db.read() as s:
        assert s.get(Customer, first.customer_id).is_anonymous  # type: ignore[union-attr]


def test_assign_customer_rechecks_limits_and_abandons_their_other_cart(  # type: ignore[no-untyped-def]
    carts: CartService, conf, db: Database, ctx: ServiceContext
) -> None:
    t = f.ticket_type(db, conf.id, name="Individual", limit_per_user=2)
    known = f.customer(db)
    f.sell(ctx, conf.id, known.id, [("ticket", t.id, 1)])
    stale = carts.open_cart(conf.id, known.id)
    walkup = carts.new_walkup_cart(conf.id)
    carts.add_ticket(walkup.id, t.id, 2)
    with pytest.raises(LimitExceeded):
        carts.assign_customer(walkup.id, known.id)
    assert carts.get(walkup.id).customer_id == walkup.customer_id
    carts.set_quantity(walkup.id, carts.get(walkup.id).lines[0].item_id, 1)
    moved = carts.assign_customer(walkup.id, known.id)
    assert (moved.customer_id, moved.customer_label) == (known.id, "Ada Lovelace")
    assert carts.get(stale.id).status == "abandoned"
    assert carts.open_cart(conf.id, known.id).id == walkup.id


def test_cart_edit_meeting_a_busy_database_is_retried_not_lost(db_path, clock: FixedClock) -> None:  # type: ignore[no-untyped-def]
    """Another desk holds the SQLite write lock: the edit waits (and says so), then lands once."""
    import sqlite3

    from boxoffice.db.engine import sqlite_url

    busy_db = Database(sqlite_url(db_path))
    conf = f.conference(busy_db)
    ticket = f.ticket_type(busy_db, conf.id, total_quantity=10)
    carts = CartService(ServiceContext(db=busy_db, clock=clock))
    cart = carts.open_cart(conf.id, f.customer(busy_db).id)

    other_desk = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    other_desk.execute("BEGIN IMMEDIATE")  # holds the write lock until the desk says it is waiting
    waits: list[bool] = []

    def release_when_told(waiting: bool) -> None:
        waits.append(waiting)
        if waiting and other_desk.in_transaction:
            other_desk.execute("COMMIT")

    busy_db.write_wait.add(release_when_told)
    try:
        view = carts.add_ticket(cart.id, ticket.id, 2)
    finally:
        other_desk.close()
        busy_db.dispose()
    assert waits == [True, False]
    assert [(line.product_id, line.quantity) for line in view.lines] == [(ticket.id, 2)]
    db_for_check = Database(sqlite_url(db_path))
    try:
        assert _items(db_for_check, cart.id) == [(ticket.id, None, 2)]
    finally:
        db_for_check.dispose()
