"""DEC-14 on PostgreSQL: money on an order whose hold lapsed never oversells, under the real row locks."""

from __future__ import annotations

from decimal import Decimal

import pytest

from boxoffice.cli.checks import stock_findings
from boxoffice.db.engine import Database
from boxoffice.domain.models import Order, OrderStatus, Payment, TicketType
from boxoffice.errors import SoldOut
from boxoffice.services.context import ServiceContext
from boxoffice.services.desk.shifts import ShiftService
from boxoffice.services.money.payments import PaymentService
from boxoffice.services.money.refunds import RefundService
from boxoffice.services.sales.cart import CartService
from boxoffice.services.sales.checkout import CheckoutService
from boxoffice.services.sales.order_state import recount
from boxoffice.services.sales.orders import OrderService
from boxoffice.timeutil import FixedClock
from tests import factories


def _order(ctx: ServiceContext, conference_id: int, ticket_id: int, name: str) -> int:
    customer = factories.customer(ctx.db, name=name, email=f"{name.lower()}@example.org")
    carts = CartService(ctx)
    cart = carts.open_cart(conference_id, customer.id)
    carts.add_ticket(cart.id, ticket_id, 1)
    return CheckoutService(ctx).checkout(cart.id).id


def test_the_rest_in_cash_after_the_last_seat_was_sold_again_is_refused(pg_db: Database, clock: FixedClock) -> None:
    ctx = ServiceContext(pg_db, clock, "Desk 1")
    conf = factories.conference(pg_db)
    ticket = factories.ticket_type(pg_db, conf.id, name="Workshop", price=Decimal("100.00"), total_quantity=1)
    ShiftService(ctx).open("100", conference_id=conf.id)
    payments = PaymentService(ctx)
    first = _order(ctx, conf.id, ticket.id, "Ada")
    payments.pay_cash(first, "40")
    clock.advance(minutes=30)  # the hold lapses; the seat is free again
    second = _order(ctx, conf.id, ticket.id, "Grace")
    payments.pay_cash(second, "100")
    with pytest.raises(SoldOut, match="0 Workshop left"):
        payments.pay_cash(first, "60")
    with pg_db.read() as s:
        assert s.get(Order, first).status == OrderStatus.PENDING
        assert s.query(Payment).filter_by(order_id=first).count() == 1
        assert s.get(TicketType, ticket.id).sold_quantity == 1
        assert stock_findings(s, clock.now()) == []
    # Grace cancels her seat (DEC-10): it is on sale again, and Ada's rest is taken, her hold first.
    seat = OrderService(ctx).detail(second).lines[0].id
    RefundService(ctx).cancel_units(second, {seat: 1}, method="cash", reason="cannot come")
    assert payments.pay_cash(first, "60").paid_in_full
    with pg_db.read() as s:
        assert s.get(TicketType, ticket.id).sold_quantity == 1
        assert stock_findings(s, clock.now()) == [] and recount(s) == []
