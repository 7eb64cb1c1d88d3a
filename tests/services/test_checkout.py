"""Checkout on a real SQLite file: CHK-1..14, VCH-2/11..14, CAP-4, DEC-9 and the held counters."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from boxoffice.db.engine import Database
from boxoffice.domain.models import Cart, Order, OrderLineItem, TicketType, Voucher, VoucherType
from boxoffice.errors import CartError, InvalidInput, LimitExceeded, SoldOut, VoucherExpired, VoucherInvalid
from boxoffice.services.context import ServiceContext
from boxoffice.services.sales import order_state
from boxoffice.services.sales.cart import CartService
from boxoffice.services.sales.catalog import CatalogService
from boxoffice.services.sales.checkout import REFERENCE_ALPHABET, CheckoutService
from boxoffice.services.sales.orders import OrderService
from boxoffice.timeutil import FixedClock
from tests import factories as f


@pytest.fixture
def carts(ctx: ServiceContext) -> CartService:
    return CartService(ctx)


@pytest.fixture
def checkout(ctx: ServiceContext) -> CheckoutService:
    return CheckoutService(ctx)


def _orders(db: Database) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count(Order.id))) or 0)


def _times_used(db: Database, code: str) -> int:
    with db.read() as s:
        return int(s.scalar(select(Voucher.times_used).where(Voucher.code == code)) or 0)


def _counters_ok(db: Database) -> None:
    with db.read() as s:
        assert order_state.recount(s) == []


def test_chk7_to_chk14_pending_order_with_snapshots_and_hold(
    carts: CartService, checkout: CheckoutService, db: Database, clock: FixedClock, ctx: ServiceContext
) -> None:
    conf = f.conference(db, reference_prefix="PYCON", hold_minutes=15)
    t = f.ticket_type(db, conf.id, name="Individual", price=Decimal("100.00"), total_quantity=10)
    u = f.ticket_type(db, conf.id, name="Student", price=Decimal("300.00"))
    a = f.addon(db, conf.id, name="Shirt", price=Decimal("25.00"), total_quantity=5)
    f.voucher(db, conf.id, code="FIX80", voucher_type=VoucherType.FIXED_AMOUNT, discount_value=Decimal(80),
              ticket_types=[t.id, u.id], max_uses=2)
    buyer = f.customer(db, company="ACME")
    cart = carts.open_cart(conf.id, buyer.id)
    carts.add_ticket(cart.id, t.id)
    carts.add_ticket(cart.id, u.id)
    carts.add_addon(cart.id, a.id, 2)
    carts.apply_voucher(cart.id, "fix80")
    order = checkout.checkout(cart.id)

    assert order.status == "pending"  # CHK-14: not paid
    assert re.fullmatch(rf"PYCON-[{REFERENCE_ALPHABET}]{{8}}", order.reference)
    assert len(order.reference) == 14
    assert order.hold_expires_at == clock.now() + timedelta(minutes=15)  # CHK-9
    assert (order.billing_name, order.billing_email, order.billing_company) == (
        "Ada Lovelace", "ada@example.org", "ACME")
    assert order.subtotal == Decimal("450.00")
    assert order.discount == Decimal("80.00")
    assert order.total == Decimal("370.00")
    assert (order.paid, order.balance) == (Decimal("0.00"), Decimal("370.00"))
    with db.read() as s:
        row = s.get(Order, order.id)
        assert row is not None
        assert row.voucher_code == "FIX80"
        assert json.loads(row.voucher_details) == {  # CHK-10
            "code": "FIX80", "voucher_type": "fixed_amount", "discount_value": "80.00",
            "unlocks_hidden_tickets": False}
        lines = [(li.description, li.quantity, li.unit_price, li.discount_amount, li.line_total,
                  li.ticket_type_id, li.addon_id) for li in row.line_items]
        cart_status = s.get(Cart, cart.id).status.value  # type: ignore[union-attr]
    # CHK-11: one line per cart line in cart order; add-on scope empty → the shirt shares the budget.
    assert lines == [
        ("Individual", 1, Decimal("100.00"), Decimal("17.78"), Decimal("82.22"), t.id, None),
        ("Student", 1, Decimal("300.00"), Decimal("53.33"), Decimal("246.67"), u.id, None),
        ("Shirt", 2, Decimal("25.00"), Decimal("8.89"), Decimal("41.11"), None, a.id),
    ]
    assert cart_status == "checked_out"  # CHK-12
    assert _times_used(db, "FIX80") == 1  # CHK-13 / VCH-11
    remaining = CatalogService(ctx).remaining_all(conf.id)
    assert remaining[("ticket", t.id)] == 9 and remaining[("addon", a.id)] == 3
    _counters_ok(db)


def test_chk11_later_catalogue_changes_never_alter_lines(carts: CartService, checkout: CheckoutService,
                                                         db: Database, ctx: ServiceContext) -> None:
    conf = f.conference(db)
    t = f.ticket_type(db, conf.id, name="Individual", price=Decimal("100.00"))
    order = f.sell(ctx, conf.id, f.customer(db).id, [("ticket", t.id, 1)])
    with db.write() as s:
        tt = s.get(TicketType, t.id)
        assert tt is not None
        tt.name, tt.price = "Renamed", Decimal("1.00")
    with db.read() as s:
        line = s.scalars(select(OrderLineItem).where(OrderLineItem.order_id == order.id)).one()
        assert (line.description, line.unit_price) == ("Individual", Decimal("100.00"))


def test_billing_given_overrides_customer(carts: CartService, checkout: CheckoutService, db: Database) -> None:
    conf = f.conference(db)
    t = f.ticket_type(db, conf.id)
    cart = carts.open_cart(conf.id, f.customer(db).id)
    carts.add_ticket(cart.id, t.id)
    with pytest.raises(InvalidInput):
        checkout.checkout(cart.id, billing_name="x" * 300)
    order = checkout.checkout(cart.id, billing_name=" Grace  Hopper ", billing_email="", billing_company="Navy")
    assert (order.billing_name, order.billing_email, order.billing_company) == ("Grace Hopper", "", "Navy")


def test_chk2_cart_state_checks(carts: CartService, checkout: CheckoutService, db: Database,
                                clock: FixedClock) -> None:
    conf = f.conference(db)
    t = f.ticket_type(db, conf.id)
    cart = carts.open_cart(conf.id, f.customer(db).id)
    with pytest.raises(CartError, match="empty"):
        checkout.checkout(cart.id)
    carts.add_ticket(cart.id, t.id)
    checkout.checkout(cart.id)
    with pytest.raises(CartError, match="Only open carts can be checked out"):
        checkout.checkout(cart.id)
    late = carts.open_cart(conf.id, f.customer(db, email="late@example.org").id)
    carts.add_ticket(late.id, t.id)
    clock.advance(minutes=31)
    with pytest.raises(CartError, match="expired"):
        checkout.checkout(late.id)
    assert _orders(db) == 1


def test_chk3_sold_out_since_adding_rolls_back_everything(  # type: ignore[no-untyped-def]
    carts: CartService, checkout: CheckoutService, db: Database, ctx: ServiceContext
) -> None:
    conf = f.conference(db)
    t = f.ticket_type(db, conf.id, name="Student", total_quantity=3)
    f.voucher(db, conf.id, code="SPRING")
    cart = carts.open_cart(conf.id, f.customer(db).id)
    carts.add_ticket(cart.id, t.id, 2)
    carts.apply_voucher(cart.id, "spring")
    f.sell(ctx, conf.id, f.customer(db, email="fast@example.org").id, [("ticket", t.id, 2)])
    with pytest.raises(SoldOut, match="Only 1 Student tickets left"):
        checkout.checkout(cart.id)
    assert _orders(db) == 1
    assert carts.get(cart.id).status == "open"
    assert _times_used(db, "SPRING") == 0
    _counters_ok(db)


def test_chk3_inactive_and_window(carts: CartService, checkout: CheckoutService, db: Database,
                                  clock: FixedClock) -> None:
    conf = f.conference(db)
    t = f.ticket_type(db, conf.id, name="Day", available_until=clock.now() + timedelta(minutes=5))
    cart = carts.open_cart(conf.id, f.customer(db).id)
    carts.add_ticket(cart.id, t.id)
    clock.advance(minutes=6)
    with pytest.raises(CartError, match="Day is no longer available"):
        checkout.checkout(cart.id)


def test_chk3_addon_prerequisite_added_after_cart_was_filled(carts: CartService, checkout: CheckoutService,
                                                             db: Database) -> None:
    conf = f.conference(db)
    t = f.ticket_type(db, conf.id, name="Pass")
    a = f.addon(db, conf.id, name="Workshop")
    cart = carts.open_cart(conf.id, f.customer(db).id)
    carts.add_addon(cart.id, a.id)
    with db.write() as s:
        from boxoffice.domain.models import AddOn
        addon = s.get(AddOn, a.id)
        assert addon is not None
        addon.requires_ticket_types = [s.get(TicketType, t.id)]  # type: ignore[list-item]
    with pytest.raises(CartError, match="requires a ticket type that is not in the cart"):
        checkout.checkout(cart.id)


def test_chk5_addon_stock_counts_held_orders(carts: CartService, checkout: CheckoutService, db: Database,
                                             ctx: ServiceContext) -> None:
    conf = f.conference(db)
    a = f.addon(db, conf.id, name="Shirt", total_quantity=2)
    cart = carts.open_cart(conf.id, f.customer(db).id)
    carts.add_addon(cart.id, a.id, 2)
    f.sell(ctx, conf.id, f.customer(db, email="x@example.org").id, [("addon", a.id, 1)])
    with pytest.raises(SoldOut, match="Only 1 Shirt units left"):
        checkout.checkout(cart.id)


def test_chk4_hidden_ticket_gate_rechecked(carts: CartService, checkout: CheckoutService, db: Database) -> None:
    conf = f.conference(db)
    hidden = f.ticket_type(db, conf.id, name="Speaker", requires_voucher=True)
    f.voucher(db, conf.id, code="TALK", unlocks_hidden_tickets=True, voucher_type=VoucherType.PERCENTAGE,
              discount_value=Decimal(0))
    cart = carts.open_cart(conf.id, f.customer(db).id)
    carts.apply_voucher(cart.id, "talk")
    carts.add_ticket(cart.id, hidden.id)
    carts.remove_voucher(cart.id)
    with pytest.raises(VoucherInvalid, match="unlocks hidden tickets"):
        checkout.checkout(cart.id)
    carts.apply_voucher(cart.id, "talk")
    assert checkout.checkout(cart.id).total == Decimal("100.00")  # VCH-10: access-only voucher


def test_cap4_venue_cap_at_checkout(carts: CartService, checkout: CheckoutService, db: Database,
                                    ctx: ServiceContext) -> None:
    conf = f.conference(db, total_capacity=3)
    t = f.ticket_type(db, conf.id)
    shirt = f.addon(db, conf.id)
    cart = carts.open_cart(conf.id, f.customer(db).id)
    carts.add_ticket(cart.id, t.id, 2)
    only_addons = carts.open_cart(conf.id, f.customer(db, email="s@example.org").id)
    carts.add_addon(only_addons.id, shirt.id, 4)
    f.sell(ctx, conf.id, f.customer(db, email="x@example.org").id, [("ticket", t.id, 2)])
    with pytest.raises(SoldOut, match=r"Only 1 tickets remaining for this conference \(venue capacity: 3\)"):
        checkout.checkout(cart.id)
    assert checkout.checkout(only_addons.id).status == "pending"  # skipped for add-on-only carts


def test_dec9_cart8_limit_rechecked_at_checkout(carts: CartService, checkout: CheckoutService, db: Database,
                                                clock: FixedClock) -> None:
    conf = f.conference(db, hold_minutes=15)
    t = f.ticket_type(db, conf.id, name="Individual", limit_per_user=3)
    buyer = f.customer(db)
    first = carts.open_cart(conf.id, buyer.id)
    carts.add_ticket(first.id, t.id, 3)
    late = checkout.checkout(first.id)
    clock.advance(minutes=16)  # the hold lapsed: those 3 no longer count at cart time
    second = carts.open_cart(conf.id, buyer.id)
    carts.add_ticket(second.id, t.id, 3)
    f.mark_order_paid(db, late.id)  # ...but the first order is paid before the second checkout
    with pytest.raises(LimitExceeded, match="per-customer limit of 3"):
        checkout.checkout(second.id)


def test_vch11_voucher_used_up_at_checkout(carts: CartService, checkout: CheckoutService, db: Database) -> None:
    conf = f.conference(db)
    t = f.ticket_type(db, conf.id)
    f.voucher(db, conf.id, code="SPRING", max_uses=1)
    carts_ = [carts.open_cart(conf.id, f.customer(db, email=f"{i}@example.org").id) for i in range(2)]
    for cart in carts_:
        carts.add_ticket(cart.id, t.id)
        carts.apply_voucher(cart.id, "SPRING")
    checkout.checkout(carts_[0].id)
    with pytest.raises(VoucherExpired, match="Voucher SPRING is used up."):
        checkout.checkout(carts_[1].id)
    assert _times_used(db, "SPRING") == 1
    assert _orders(db) == 1


def test_vch11_voucher_window_closed_at_checkout(carts: CartService, checkout: CheckoutService, db: Database,
                                                 clock: FixedClock) -> None:
    conf = f.conference(db)
    t = f.ticket_type(db, conf.id)
    f.voucher(db, conf.id, code="EARLY", valid_until=clock.now() + timedelta(minutes=1))
    cart = carts.open_cart(conf.id, f.customer(db).id)
    carts.add_ticket(cart.id, t.id)
    carts.apply_voucher(cart.id, "early")
    clock.advance(minutes=2)
    with pytest.raises(VoucherExpired):
        checkout.checkout(cart.id)
    assert _orders(db) == 0


def test_vch12_vch14_cancel_releases_the_use(carts: CartService, checkout: CheckoutService, db: Database,
                                             ctx: ServiceContext) -> None:
    conf = f.conference(db)
    t = f.ticket_type(db, conf.id)
    f.voucher(db, conf.id, code="ONCE", max_uses=1)
    order = f.sell(ctx, conf.id, f.customer(db).id, [("ticket", t.id, 1)], voucher="once")
    assert _times_used(db, "ONCE") == 1
    OrderService(ctx).cancel(order.id)
    assert _times_used(db, "ONCE") == 0
    again = f.sell(ctx, conf.id, f.customer(db, email="b@example.org").id, [("ticket", t.id, 1)], voucher="ONCE")
    assert again.discount == Decimal("25.00")


def test_vch13_refund_or_payment_does_not_release_use(db: Database, ctx: ServiceContext) -> None:
    conf = f.conference(db)
    t = f.ticket_type(db, conf.id)
    f.voucher(db, conf.id, code="ONCE", max_uses=1)
    order = f.sell(ctx, conf.id, f.customer(db).id, [("ticket", t.id, 1)], voucher="once")
    f.mark_order_paid(db, order.id)
    assert _times_used(db, "ONCE") == 1


def test_chk1_stale_orders_swept_first_releasing_stock_and_voucher(  # type: ignore[no-untyped-def]
    carts: CartService, checkout: CheckoutService, db: Database, ctx: ServiceContext, clock: FixedClock
) -> None:
    conf = f.conference(db, hold_minutes=15)
    t = f.ticket_type(db, conf.id, name="Last", total_quantity=1)
    f.voucher(db, conf.id, code="ONCE", max_uses=1)
    stale = f.sell(ctx, conf.id, f.customer(db, email="slow@example.org").id, [("ticket", t.id, 1)], voucher="once")
    clock.advance(minutes=15)  # hold_expires_at == now: stale (ORD-6)
    cart = carts.open_cart(conf.id, f.customer(db).id)
    carts.add_ticket(cart.id, t.id)
    carts.apply_voucher(cart.id, "ONCE")  # used by the stale order: applying sweeps it first
    order = checkout.checkout(cart.id)
    assert order.total == Decimal("75.00")
    assert OrderService(ctx).by_reference(stale.reference).status == "cancelled"
    assert _times_used(db, "ONCE") == 1
    _counters_ok(db)


def test_chk1_checkout_sweeps_stale_orders_of_the_conference(
    carts: CartService, checkout: CheckoutService, db: Database, ctx: ServiceContext, clock: FixedClock
) -> None:
    conf = f.conference(db, hold_minutes=15)
    t = f.ticket_type(db, conf.id, name="Last", total_quantity=1)
    stale = f.sell(ctx, conf.id, f.customer(db, email="slow@example.org").id, [("ticket", t.id, 1)])
    clock.advance(minutes=20)
    cart = carts.open_cart(conf.id, f.customer(db).id)
    carts.add_ticket(cart.id, t.id)  # CAT-1: the lapsed hold no longer counts
    assert OrderService(ctx).by_reference(stale.reference).status == "pending"
    checkout.checkout(cart.id)
    assert OrderService(ctx).by_reference(stale.reference).status == "cancelled"
    assert CatalogService(ctx).remaining_all(conf.id)[("ticket", t.id)] == 0
    _counters_ok(db)


def test_chk8_reference_collision_draws_again(carts: CartService, db: Database, ctx: ServiceContext) -> None:
    conf = f.conference(db)
    t = f.ticket_type(db, conf.id)
    bodies: Iterator[str] = iter(["AAAAAAAA", "AAAAAAAA", "BBBBBBBB"])
    service = CheckoutService(ctx, reference_body=lambda: next(bodies))
    first = carts.open_cart(conf.id, f.customer(db).id)
    carts.add_ticket(first.id, t.id)
    assert service.checkout(first.id).reference == "ORD-AAAAAAAA"
    second = carts.open_cart(conf.id, f.customer(db, email="b@example.org").id)
    carts.add_ticket(second.id, t.id)
    assert service.checkout(second.id).reference == "ORD-BBBBBBBB"


def test_chk8_gives_up_after_ten_collisions(carts: CartService, db: Database, ctx: ServiceContext) -> None:
    conf = f.conference(db)
    t = f.ticket_type(db, conf.id)
    service = CheckoutService(ctx, reference_body=lambda: "SAMESAME")
    first = carts.open_cart(conf.id, f.customer(db).id)
    carts.add_ticket(first.id, t.id)
    service.checkout(first.id)
    second = carts.open_cart(conf.id, f.customer(db, email="b@example.org").id)
    carts.add_ticket(second.id, t.id)
    with pytest.raises(CartError, match="order reference"):
        service.checkout(second.id)
    assert carts.get(second.id).status == "open"
    assert _orders(db) == 1


def test_chk8_references_avoid_ambiguous_characters() -> None:
    from boxoffice.services.sales.checkout import random_reference_body

    drawn = "".join(random_reference_body() for _ in range(500))
    assert not set(drawn) & set("0O1I")
    assert set(drawn) <= set(REFERENCE_ALPHABET)


def test_chk14_zero_total_order_stays_pending(carts: CartService, checkout: CheckoutService, db: Database) -> None:
    conf = f.conference(db)
    t = f.ticket_type(db, conf.id)
    f.voucher(db, conf.id, code="FREE", voucher_type=VoucherType.COMP)
    cart = carts.open_cart(conf.id, f.customer(db).id)
    carts.add_ticket(cart.id, t.id, 2)
    carts.apply_voucher(cart.id, "free")
    order = checkout.checkout(cart.id)
    assert (order.status, order.total, order.discount) == ("pending", Decimal("0.00"), Decimal("200.00"))


def test_checkout_query_count_is_small(carts: CartService, checkout: CheckoutService, db: Database) -> None:
    from sqlalchemy import event

    conf = f.conference(db)
    a, b = f.ticket_type(db, conf.id, name="A"), f.ticket_type(db, conf.id, name="B")
    shirt = f.addon(db, conf.id)
    f.voucher(db, conf.id, code="SPRING")
    cart = carts.open_cart(conf.id, f.customer(db).id)
    carts.add_ticket(cart.id, a.id, 2)
    carts.add_ticket(cart.id, b.id)
    carts.add_addon(cart.id, shirt.id)
    carts.apply_voucher(cart.id, "spring")
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        checkout.checkout(cart.id)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    # BEGIN and the lock-wait PRAGMAs around it are how the write starts, not queries of the checkout.
    sql = [st for st in statements if not st.startswith(("BEGIN", "PRAGMA"))]
    # 10 for the order itself, 3 for its attendees (taken codes, the attendees, their search words)
    assert len(sql) <= 13, sql
    assert sum(st.startswith("INSERT INTO attendee") for st in sql) == 2, sql


def test_ord8_lapsed_order_with_cash_is_flagged_not_cancelled_and_not_reswept(
    carts: CartService, checkout: CheckoutService, db: Database, ctx: ServiceContext, clock: FixedClock
) -> None:
    from boxoffice.services.money.payments import PaymentService

    conf = f.conference(db, hold_minutes=15)
    t = f.ticket_type(db, conf.id, name="Individual", total_quantity=10)
    partly = f.sell(ctx, conf.id, f.customer(db, email="cash@example.org").id, [("ticket", t.id, 2)])
    PaymentService(ctx).pay_manual(partly.id, Decimal("50.00"))
    clock.advance(minutes=20)
    first = carts.open_cart(conf.id, f.customer(db).id)
    carts.add_ticket(first.id, t.id)
    checkout.checkout(first.id)
    kept = OrderService(ctx).by_reference(partly.reference)
    assert kept.status == "pending" and kept.needs_attention
    assert CatalogService(ctx).remaining_all(conf.id)[("ticket", t.id)] == 9  # lapsed hold: not counted
    second = carts.open_cart(conf.id, f.customer(db, email="next@example.org").id)
    carts.add_ticket(second.id, t.id)
    from sqlalchemy import event

    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        checkout.checkout(second.id)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert not any("payment" in st.lower() for st in statements)  # no second sweep of the flagged order
    _counters_ok(db)
