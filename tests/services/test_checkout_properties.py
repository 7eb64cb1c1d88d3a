"""Property test on a real SQLite file: a checked-out order balances to the cent, line by line."""

from __future__ import annotations

import itertools
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from boxoffice.db.engine import Database
from boxoffice.domain.models import Order, OrderLineItem, VoucherType
from boxoffice.services.context import ServiceContext
from boxoffice.services.sales import order_state
from boxoffice.services.sales.cart import CartService
from boxoffice.services.sales.checkout import CheckoutService
from tests import factories as f

_ids = itertools.count(1)
prices = st.integers(0, 50_000).map(lambda c: Decimal(c).scaleb(-2))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    items=st.lists(st.tuples(st.booleans(), prices, st.integers(1, 20)), min_size=1, max_size=5),
    kind=st.sampled_from(list(VoucherType)),
    value=st.integers(0, 100_00).map(lambda c: Decimal(c).scaleb(-2)),
)
def test_order_lines_sum_to_the_order_totals(db: Database, ctx: ServiceContext,
                                             items: list[tuple[bool, Decimal, int]], kind: VoucherType,
                                             value: Decimal) -> None:
    n = next(_ids)
    conf = f.conference(db, name=f"Conf {n}", slug=f"conf-{n}")
    carts = CartService(ctx)
    cart = carts.open_cart(conf.id, f.customer(db, email=f"p{n}@example.org").id)
    for i, (is_ticket, price, quantity) in enumerate(items):
        if is_ticket:
            t = f.ticket_type(db, conf.id, name=f"T{i}", price=price, limit_per_user=100)
            carts.add_ticket(cart.id, t.id, quantity)
        else:
            a = f.addon(db, conf.id, name=f"A{i}", price=price)
            carts.add_addon(cart.id, a.id, quantity)
    f.voucher(db, conf.id, code=f"V{n}", voucher_type=kind, discount_value=value)
    view = carts.apply_voucher(cart.id, f"v{n}")
    order = CheckoutService(ctx).checkout(cart.id)

    assert (order.subtotal, order.discount, order.total) == (view.subtotal, view.discount, view.total)
    with db.read() as s:
        lines = s.scalars(select(OrderLineItem).where(OrderLineItem.order_id == order.id)).all()
        stored = s.get(Order, order.id)
        assert stored is not None
        assert sum((li.unit_price * li.quantity for li in lines), Decimal("0.00")) == stored.subtotal
        assert sum((li.discount_amount for li in lines), Decimal("0.00")) == stored.discount_amount
        assert sum((li.line_total for li in lines), Decimal("0.00")) == stored.total
        assert all(li.line_total >= 0 for li in lines)
        if kind == VoucherType.FIXED_AMOUNT:
            assert stored.discount_amount == min(value, stored.subtotal)
        assert order_state.recount(s, conf.id) == []
