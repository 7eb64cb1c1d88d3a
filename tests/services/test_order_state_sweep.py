"""ORD-6/8: the batched stale sweep cancels lapsed holds exactly as one-by-one cancels would."""

from __future__ import annotations

from decimal import Decimal

from boxoffice.db.engine import Database
from boxoffice.domain.models import Credit, Order, OrderStatus, Voucher
from boxoffice.services.context import ServiceContext
from boxoffice.services.money.credits import CreditService
from boxoffice.services.money.payments import PaymentService
from boxoffice.services.sales.order_state import recount, sweep_stale_orders
from boxoffice.timeutil import FixedClock
from tests import factories


def test_sweep_releases_stock_vouchers_and_credits_and_flags_orders_with_money(
    ctx: ServiceContext, db: Database, clock: FixedClock
) -> None:
    conf = factories.conference(db)
    ticket = factories.ticket_type(db, conf.id, total_quantity=50, limit_per_user=50)
    factories.voucher(db, conf.id, code="HALF", discount_value=Decimal("50.00"), max_uses=100)
    orders = []
    for i in range(30):
        cust = factories.customer(db, name=f"Buyer {i}", email=f"buyer{i}@example.org")
        voucher = "HALF" if i % 3 == 0 else None
        orders.append((cust.id, factories.sell(ctx, conf.id, cust.id, [("ticket", ticket.id, 1)],
                                               voucher=voucher)))
    # One order part-paid with store credit (restored on cancel), one part-paid in cash (flagged).
    credit_buyer, credit_order = orders[1]
    credit = CreditService(ctx).issue(credit_buyer, conf.id, Decimal("40.00"), note="goodwill")
    PaymentService(ctx).apply_credit(credit_order.id, credit.id)
    cash_order = orders[2][1]
    PaymentService(ctx).pay_manual(cash_order.id, Decimal("10.00"), note="deposit")

    clock.advance(minutes=conf.hold_minutes + 1)
    with db.write() as session:
        results = sweep_stale_orders(session, conf.id, clock.now())
    assert len(results) == 29

    with db.read() as session:
        statuses = {o.id: o.status for o in session.query(Order)}
        assert statuses[cash_order.id] == OrderStatus.PENDING
        assert "money received" in session.get(Order, cash_order.id).needs_attention
        assert sum(1 for s in statuses.values() if s == OrderStatus.CANCELLED) == 29
        assert session.get(Credit, credit.id).remaining_amount == Decimal("40.00")
        # Ten orders (0, 3, ..., 27) used HALF and all were cancelled: every use goes back.
        assert session.query(Voucher).one().times_used == 0
        assert recount(session) == []
