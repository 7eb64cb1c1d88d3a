"""Hypothesis: any sequence of desk payments and refunds balances to the cent (PAY-5, CRD-3, REF-2/5)."""

from __future__ import annotations

import itertools
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from boxoffice.domain.models import Credit, Payment, PaymentStatus, Refund, RefundStatus
from boxoffice.errors import UserError
from boxoffice.services.money.credits import CreditService
from boxoffice.services.money.payments import PaymentService
from boxoffice.services.money.refunds import RefundService
from boxoffice.services.sales.orders import OrderService
from tests import factories
from tests.services.money_helpers import FakeGateway, card_payment, counters_consistent, pending_order

D = Decimal
_seq = itertools.count()
cents = st.integers(min_value=1, max_value=20000).map(lambda c: D(c) / 100)
pay_ops = st.tuples(st.sampled_from(["cash", "manual", "credit", "card", "card"]), cents)
small = st.integers(min_value=1, max_value=6000).map(lambda c: D(c) / 100)
refund_ops = st.tuples(st.sampled_from(["card", "cash", "manual", "credit"]), st.one_of(small, cents))


def _sum(session, query) -> Decimal:  # type: ignore[no-untyped-def]
    return D(str(session.scalar(query) or 0)).quantize(D("0.01"))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    price=cents,
    payments=st.lists(pay_ops, min_size=1, max_size=6),
    refunds=st.lists(refund_ops, max_size=5),
)
def test_money_balances_to_the_cent(ctx, db, clock, payments, refunds, price) -> None:  # type: ignore[no-untyped-def]
    n = next(_seq)
    conf = factories.conference(db, name=f"C{n}", slug=f"c{n}")
    ticket = factories.ticket_type(db, conf.id, price=price)
    customer = factories.customer(db, email=f"p{n}@example.org")
    shop_ = type("S", (), {"conference_id": conf.id, "ticket_type_id": ticket.id, "addon_id": None,
                           "customer_id": customer.id})
    order_id = pending_order(db, shop_, clock.now(), unit_price=price)  # type: ignore[arg-type]
    pay, refund = PaymentService(ctx), RefundService(ctx, FakeGateway())
    credits: list[int] = []
    for i, (method, amount) in enumerate(payments):
        before = OrderService(ctx).get(order_id)
        try:
            if method == "cash":
                factories.ensure_open_shift(ctx.db)
                r = pay.pay_cash(order_id, amount)
                assert r.applied + r.change_due == amount and r.applied <= before.balance
            elif method == "manual":
                pay.pay_manual(order_id, amount)
                assert amount <= before.balance
            elif method == "credit":
                k = CreditService(ctx).issue(customer.id, conf.id, amount)
                credits.append(k.id)
                r = pay.apply_credit(order_id, k.id)
                assert r.applied == min(amount, before.balance)
            elif before.status == "pending" and before.balance > 0:  # card: TRM-3 charges at most the balance
                card_payment(db, order_id, min(amount, before.balance), f"pi_{n}_{i}")
        except UserError:
            pass
        after = OrderService(ctx).get(order_id)
        assert after.paid <= after.total  # never overpaid
        assert after.balance == after.total - after.paid
        assert (after.status == "paid") == (after.paid >= after.total)
    for method, amount in refunds:
        before = OrderService(ctx).get(order_id)
        allowed = RefundService(ctx).refundable(order_id).by_method[method]
        try:
            refund.refund(order_id, amount, method=method)
            assert amount <= allowed
            event(f"{method} refund accepted")
        except UserError:
            assert amount > allowed or before.status not in ("paid", "partially_refunded")
    summary = OrderService(ctx).get(order_id)
    view = RefundService(ctx).refundable(order_id)
    with db.read() as session:
        paid = _sum(session, select(func.sum(Payment.amount)).where(
            Payment.order_id == order_id, Payment.status == PaymentStatus.SUCCEEDED))
        refunded = _sum(session, select(func.sum(Refund.amount)).where(
            Refund.order_id == order_id, Refund.status == RefundStatus.SUCCEEDED))
        for m in ("card", "cash", "manual"):
            pm = ["stripe", "terminal"] if m == "card" else [m]
            by_pay = _sum(session, select(func.sum(Payment.amount)).where(
                Payment.order_id == order_id, Payment.method.in_(pm)))
            by_ref = _sum(session, select(func.sum(Refund.amount)).where(
                Refund.order_id == order_id, Refund.method == m, Refund.status == RefundStatus.SUCCEEDED))
            assert by_ref <= by_pay  # each method gives back at most what it took
        for c in session.scalars(select(Credit).where(Credit.conference_id == conf.id)):
            assert D("0.00") <= c.remaining_amount <= c.amount  # credits never negative
    assert summary.paid == paid and summary.refunded == refunded
    assert refunded <= paid  # a refund never exceeds what was paid
    if summary.status in ("paid", "partially_refunded", "refunded"):
        assert view.total_refundable == max(min(summary.total, paid) - refunded, D("0.00"))
    if refunded > 0:
        assert summary.status == ("refunded" if refunded >= summary.total else "partially_refunded")
    assert counters_consistent(db)
