"""Hypothesis: for any cash sales and refunds, expected cash = float + cash in - cash out."""

from __future__ import annotations

import itertools
import shutil
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from boxoffice.db.engine import Database, sqlite_url
from boxoffice.errors import UserError
from boxoffice.services.context import ServiceContext
from boxoffice.services.desk.shifts import ShiftService
from boxoffice.services.money.payments import PaymentService
from boxoffice.services.money.refunds import RefundService
from boxoffice.services.sales.orders import OrderService
from tests import factories

D = Decimal
_seq = itertools.count()
money = st.integers(min_value=0, max_value=30000).map(lambda c: D(c) / 100)
prices = st.lists(st.integers(min_value=1, max_value=25000).map(lambda c: D(c) / 100), min_size=1, max_size=3)
# ("sale", ticket index, quantity, tendered as a share of the total in percent)
sale = st.tuples(st.just("sale"), st.integers(0, 2), st.integers(1, 3), st.integers(1, 160))
# ("refund", which earlier sale, share of its refundable cash in percent)
refund = st.tuples(st.just("refund"), st.integers(0, 20), st.integers(1, 100), st.just(0))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(opening=money, ticket_prices=prices, ops=st.lists(st.one_of(sale, sale, refund), min_size=1, max_size=8),
       counted_delta=st.integers(-500, 500))
def test_expected_cash_is_float_plus_in_minus_out(template_db_path: Path, tmp_path: Path, clock,  # type: ignore[no-untyped-def]
                                                  opening, ticket_prices, ops, counted_delta) -> None:
    path = tmp_path / f"shift-{next(_seq)}.sqlite3"
    shutil.copyfile(template_db_path, path)
    db = Database(sqlite_url(path))
    try:
        ctx = ServiceContext(db=db, clock=clock)
        conf = factories.conference(db)
        tickets = [factories.ticket_type(db, conf.id, name=f"T{i}", price=p, limit_per_user=10)
                   for i, p in enumerate(ticket_prices)]
        shifts, pay, refunds, orders = ShiftService(ctx), PaymentService(ctx), RefundService(ctx), OrderService(ctx)
        shift = shifts.open(opening, conference_id=conf.id)
        cash_in = cash_out = D("0.00")
        sold: list[int] = []
        for n, (kind, pick, size, share) in enumerate(ops):
            if kind == "sale":
                ticket = tickets[pick % len(tickets)]
                customer = factories.customer(db, email=f"c{n}@example.org")
                order = factories.sell(ctx, conf.id, customer.id, [("ticket", ticket.id, size)])
                tendered = max(D("0.01"), (order.total * share / 100).quantize(D("0.01")))
                result = pay.pay_cash(order.id, tendered)
                assert result.applied + result.change_due == tendered
                assert result.applied == min(tendered, order.total)
                cash_in += result.applied
                event("partial cash" if tendered < order.total else "cash with change")
                sold.append(order.id)
            elif sold:
                order_id = sold[pick % len(sold)]
                most = refunds.refundable(order_id).by_method["cash"]
                amount = (most * size / 100).quantize(D("0.01"))
                try:
                    refunds.refund(order_id, amount, method="cash", reason="property")
                except UserError:
                    # refused: a still pending order, or nothing left to refund in cash
                    assert orders.get(order_id).status == "pending" or amount <= 0
                    event("refund refused")
                else:
                    cash_out += amount
                    event("cash refund")
        expected = opening + cash_in - cash_out
        view = shifts.summary(shift.id)
        assert (view.opening_float, view.cash_in, view.cash_out) == (opening, cash_in, cash_out)
        assert view.expected == shifts.expected_cash(shift.id) == expected
        counted = max(D("0.00"), expected + D(counted_delta) / 100)
        closed = shifts.close(shift.id, counted)
        assert (closed.expected, closed.counted, closed.difference) == (expected, counted, counted - expected)
        assert shifts.summary(shift.id).expected == expected
    finally:
        db.dispose()
