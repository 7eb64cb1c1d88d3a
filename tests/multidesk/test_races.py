"""DESK-4: eight desks (OS processes) selling from one PostgreSQL inventory never oversell.

Each desk runs the real services (cart, checkout, cash payment, store credit) on its own engine;
a barrier starts them together. Afterwards the database itself is the judge: counters, orders,
voucher uses and credit balances are read back and the counters are proven by a full recount.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from boxoffice.db.engine import Database
from boxoffice.domain.models import (
    SETTLED_STATUSES,
    Credit,
    CreditStatus,
    Order,
    OrderLineItem,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    TicketType,
    Voucher,
)
from boxoffice.services.context import ServiceContext
from boxoffice.services.money.credits import CreditService
from boxoffice.services.sales.cart import CartService
from boxoffice.services.sales.checkout import CheckoutService
from boxoffice.services.sales.order_state import recount
from tests import factories
from tests.multidesk.workers import desk_apply_credits, desk_sales

DESKS = 8

SpawnContext = multiprocessing.context.SpawnContext


@pytest.fixture
def spawn() -> Iterator[SpawnContext]:
    ctx = multiprocessing.get_context("spawn")
    yield ctx
    for child in multiprocessing.active_children():
        child.kill()
        child.join(5)


def run_desks(spawn: SpawnContext, target: Callable[..., None], per_desk: list[tuple[Any, ...]],
              timeout: float = 300) -> list[dict[str, Any]]:
    """Start one process per argument tuple (plus a shared barrier and result queue); collect results."""
    barrier = spawn.Barrier(len(per_desk))
    results = spawn.Queue()
    procs = [spawn.Process(target=target, args=(*args, barrier, results)) for args in per_desk]
    for proc in procs:
        proc.start()
    out = [results.get(timeout=timeout) for _ in procs]
    for proc in procs:
        proc.join(10)
        assert proc.exitcode == 0
    return out


def totals(results: list[dict[str, Any]]) -> Counter[str]:
    total: Counter[str] = Counter()
    for r in results:
        total.update(r["outcomes"])
    return total


def assert_no_unexpected(results: list[dict[str, Any]]) -> None:
    problems = [msg for r in results for msg in r["unexpected"]]
    assert problems == [], problems


def settled_units(db: Database, ticket_type_id: int, customer_id: int | None = None) -> int:
    query = (
        select(func.coalesce(func.sum(OrderLineItem.quantity), 0))
        .join(Order, Order.id == OrderLineItem.order_id)
        .where(OrderLineItem.ticket_type_id == ticket_type_id, Order.status.in_(SETTLED_STATUSES))
    )
    if customer_id is not None:
        query = query.where(Order.customer_id == customer_id)
    with db.read() as s:
        return int(s.scalar(query) or 0)


def _orders_of(db: Database, customer_id: int) -> list[tuple[str, int]]:
    with db.read() as s:
        return [(o.status.value, sum(li.quantity for li in o.line_items))
                for o in s.scalars(select(Order).where(Order.customer_id == customer_id))]


def test_eight_desks_sell_exactly_the_500_seats_DESK_4_CAP_5(pg_db: Database, spawn: SpawnContext) -> None:
    conf = factories.conference(pg_db)
    tt = factories.ticket_type(pg_db, conf.id, total_quantity=500, limit_per_user=10)
    results = run_desks(spawn, desk_sales, [
        (pg_db.url, desk, 200, conf.id, tt.id, [], None) for desk in range(DESKS)
    ])
    outcome = totals(results)
    assert_no_unexpected(results)
    assert outcome["ok"] == 500
    assert sum(outcome.values()) == DESKS * 200
    assert set(outcome) <= {"ok", "SoldOut"}, outcome
    assert sum(len(r["orders"]) for r in results) == 500
    with pg_db.read() as s:
        ticket = s.get(TicketType, tt.id)
        assert ticket is not None
        assert (ticket.sold_quantity, ticket.held_quantity) == (500, 0)
        assert s.scalar(select(func.count(Order.id)).where(Order.status == OrderStatus.PAID)) == 500
        assert s.scalar(select(func.count(Order.id))) == 500
        assert recount(s) == []
    assert settled_units(pg_db, tt.id) == 500


def test_voucher_with_ten_uses_is_used_exactly_ten_times_VCH_11(pg_db: Database, spawn: SpawnContext) -> None:
    conf = factories.conference(pg_db)
    tt = factories.ticket_type(pg_db, conf.id, total_quantity=0, limit_per_user=10)
    factories.voucher(pg_db, conf.id, code="TEN", max_uses=10)
    results = run_desks(spawn, desk_sales, [
        (pg_db.url, desk, 6, conf.id, tt.id, [], "TEN") for desk in range(DESKS)
    ])
    outcome = totals(results)
    assert_no_unexpected(results)
    assert outcome["ok"] == 10
    assert set(outcome) <= {"ok", "VoucherInvalid", "VoucherExpired"}, outcome
    with pg_db.read() as s:
        assert s.scalar(select(Voucher.times_used).where(Voucher.code == "TEN")) == 10
        assert s.scalar(select(func.count(Order.id)).where(Order.voucher_code == "TEN")) == 10
        assert s.scalar(select(func.count(Order.id)).where(Order.status == OrderStatus.PAID)) == 10


def test_limit_per_attendee_holds_across_desks_CART_7_CART_8(pg_db: Database, spawn: SpawnContext) -> None:
    conf = factories.conference(pg_db)
    tt = factories.ticket_type(pg_db, conf.id, total_quantity=0, limit_per_user=3)
    customers = [factories.customer(pg_db, name=f"Buyer {i}", email=f"buyer{i}@example.org").id
                 for i in range(4)]
    results = run_desks(spawn, desk_sales, [
        (pg_db.url, desk, 12, conf.id, tt.id, customers, None) for desk in range(DESKS)
    ])
    outcome = totals(results)
    assert_no_unexpected(results)
    assert outcome["LimitExceeded"] > 0
    assert set(outcome) <= {"ok", "LimitExceeded", "CartError", "OrderStateError", "PaymentError"}, outcome
    for customer_id in customers:
        assert settled_units(pg_db, tt.id, customer_id) == 3, (outcome, _orders_of(pg_db, customer_id))
    with pg_db.read() as s:
        assert recount(s) == []


def test_one_credit_applied_from_two_desks_at_once_is_spent_once_CRD_2_CRD_4(
    pg_db: Database, spawn: SpawnContext
) -> None:
    conf = factories.conference(pg_db)
    tt = factories.ticket_type(pg_db, conf.id, price=Decimal("100.00"), total_quantity=0, limit_per_user=100)
    buyer = factories.customer(pg_db)
    ctx = ServiceContext(db=pg_db)
    carts, checkout, credits = CartService(ctx), CheckoutService(ctx), CreditService(ctx)
    rounds = 12

    def pending_order() -> int:
        cart = carts.open_cart(conf.id, buyer.id)
        carts.add_ticket(cart.id, tt.id, 1)
        return checkout.checkout(cart.id).id

    desk_rounds: list[list[tuple[int, int]]] = [[], []]
    credit_ids = []
    for _ in range(rounds):
        credit = credits.issue(buyer.id, conf.id, Decimal("100.00"), note="goodwill")
        credit_ids.append(credit.id)
        for desk in (0, 1):
            desk_rounds[desk].append((pending_order(), credit.id))

    results = run_desks(spawn, desk_apply_credits, [(pg_db.url, d, desk_rounds[d]) for d in (0, 1)])
    outcome = totals(results)
    assert_no_unexpected(results)
    assert outcome == Counter({"ok": rounds, "CreditError": rounds})
    with pg_db.read() as s:
        for credit_id in credit_ids:
            credit = s.get(Credit, credit_id)
            assert credit is not None
            assert (credit.remaining_amount, credit.status) == (Decimal("0.00"), CreditStatus.APPLIED)
            spent = s.scalars(select(Payment.amount).where(
                Payment.credit_id == credit_id, Payment.method == PaymentMethod.CREDIT,
                Payment.status == PaymentStatus.SUCCEEDED)).all()
            assert spent == [Decimal("100.00")]
        assert s.scalar(select(func.count(Order.id)).where(Order.status == OrderStatus.PAID)) == rounds
