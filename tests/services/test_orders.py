"""Order search (prefix, case-insensitive, index-backed), paging, detail, cancel and sweep (ORD-*)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from boxoffice.errors import InvalidInput, NotFound, OrderStateError
from boxoffice.services.money.credits import CreditService
from boxoffice.services.money.payments import PaymentService
from boxoffice.services.money.refunds import RefundService
from boxoffice.services.sales.order_search import count_statement, search_params, search_statement
from boxoffice.services.sales.orders import OrderService
from tests import factories
from tests.services.money_helpers import (
    FakeGateway,
    card_payment,
    checked_out,
    counters_consistent,
    pending_order,
    shop,
)

D = Decimal


@pytest.fixture
def s(db):  # type: ignore[no-untyped-def]
    return shop(db)


@pytest.fixture
def people(db, clock, s):  # type: ignore[no-untyped-def]
    now = clock.now()
    rows = [
        ("ORD-AB12CD34", "Ada Lovelace", "ada@example.org", "Analytical Engines"),
        ("ORD-XY98ZZ76", "Grace Hopper", "grace@navy.mil", "US Navy"),
        ("ORD-AB99QQ11", "alan turing", "Alan@Bletchley.uk", "Bletchley Park"),
        ("ORD-KK22MM33", "Édith Piaf", "edith@example.fr", "ada studios"),
    ]
    ids = {}
    for i, (ref, name, email, company) in enumerate(rows):
        ids[ref] = pending_order(
            db, s, now, reference=ref, billing_name=name, billing_email=email, billing_company=company,
            created_at=now - timedelta(hours=len(rows) - i),
        )
    return ids


def _refs(result):  # type: ignore[no-untyped-def]
    return sorted(o.reference for o in result)


def test_search_prefix_any_field_any_case(ctx, s, people) -> None:  # type: ignore[no-untyped-def]
    orders = OrderService(ctx)
    assert _refs(orders.search(s.conference_id, "ada")) == ["ORD-AB12CD34", "ORD-KK22MM33"]  # name, company
    assert _refs(orders.search(s.conference_id, "ALAN@b")) == ["ORD-AB99QQ11"]  # email, mixed case
    assert _refs(orders.search(s.conference_id, "Alan T")) == ["ORD-AB99QQ11"]  # lower-case stored name
    assert _refs(orders.search(s.conference_id, "ord-ab")) == ["ORD-AB12CD34", "ORD-AB99QQ11"]  # reference
    assert _refs(orders.search(s.conference_id, "us n")) == ["ORD-XY98ZZ76"]  # company
    assert orders.search(s.conference_id, "lovelace") == []  # prefix, not substring
    assert orders.count(s.conference_id, "ada") == 2
    assert orders.count(s.conference_id) == 4


def test_search_other_conference_is_not_seen(ctx, db, s, people) -> None:  # type: ignore[no-untyped-def]
    conf2 = factories.conference(db, name="Other", slug="other")
    assert OrderService(ctx).search(conf2.id, "ada") == []
    assert OrderService(ctx).count(conf2.id) == 0


def test_sort_paging_and_filters(ctx, clock, s, people) -> None:  # type: ignore[no-untyped-def]
    orders = OrderService(ctx)
    newest_first = [o.reference for o in orders.search(s.conference_id)]
    assert newest_first == ["ORD-KK22MM33", "ORD-AB99QQ11", "ORD-XY98ZZ76", "ORD-AB12CD34"]
    first = orders.search(s.conference_id, limit=1)[0]
    assert first == orders.get(first.id)  # the fast row path builds the same summary as the ORM path
    assert first.created_at == clock.now() - timedelta(hours=1) and first.hold_expires_at.tzinfo is not None
    page2 = orders.search(s.conference_id, offset=2, limit=2)
    assert [o.reference for o in page2] == newest_first[2:]
    by_name = orders.search(s.conference_id, sort="reference", descending=False)
    assert [o.reference for o in by_name] == sorted(newest_first)
    factories.ensure_open_shift(ctx.db)
    PaymentService(ctx).pay_cash(people["ORD-XY98ZZ76"], D("100"))
    assert _refs(orders.search(s.conference_id, statuses=["paid"])) == ["ORD-XY98ZZ76"]
    assert orders.count(s.conference_id, statuses=["pending"]) == 3
    now = clock.now()
    window = orders.search(s.conference_id, created_from=now - timedelta(hours=3), created_to=now - timedelta(hours=1))
    assert _refs(window) == ["ORD-AB99QQ11", "ORD-XY98ZZ76"]
    with pytest.raises(InvalidInput):
        orders.search(s.conference_id, sort="nonsense")
    with pytest.raises(InvalidInput):
        orders.search(s.conference_id, statuses=["lost"])
    with pytest.raises(InvalidInput):
        orders.search(s.conference_id, limit=0)


def _plan(db, text: str, statuses=None, created_from=None, *, count: bool = False) -> str:  # type: ignore[no-untyped-def]
    shape, params = search_params(1, text, statuses, created_from, None)
    if count:
        query = count_statement(*shape).params(**params)
    else:
        query = search_statement(*shape, "created_at", True).params(limit=100, offset=0, depth=100, **params)
    sql = str(query.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}))
    with db.read() as session:
        return " | ".join(r[3] for r in session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql))


SEARCH_INDEXES = ("ix_order_reference_search", "ix_order_name_search", "ix_order_email_search",
                  "ix_order_company_search")


@pytest.mark.parametrize("count", [False, True])
@pytest.mark.parametrize("filtered", [False, True])
def test_search_uses_the_search_indexes_of_migration_0004(db, count, filtered) -> None:  # type: ignore[no-untyped-def]
    """startswith()/LIKE would scan every order: each prefix column is one range scan of its search index,
    with the status and date filters answered there too; the table is read only for the page's rows."""
    from datetime import UTC, datetime

    args = (["paid", "pending"], datetime(2027, 1, 1, tzinfo=UTC)) if filtered else (None, None)
    plan = _plan(db, "Ada", *args, count=count)
    for index in SEARCH_INDEXES:
        assert f"INDEX {index} (" in plan, plan
    assert "SCAN order" not in plan.replace("SCAN order USING", ""), plan
    for old in ("ix_order_name_lower", "ix_order_email_lower", "ix_order_company_lower", "ix_order_status_hold"):
        assert old not in plan, plan
    if not count:
        assert "USING INTEGER PRIMARY KEY" in plan  # the page's rows, by id


def test_search_without_text_walks_conference_and_date(db) -> None:  # type: ignore[no-untyped-def]
    assert "ix_order_conf_created" in _plan(db, ""), _plan(db, "")


def test_search_finds_each_order_once_in_date_order_across_pages(ctx, db, clock, s) -> None:  # type: ignore[no-untyped-def]
    """An order matching by name and by email appears once; pages follow created_at, newest first."""
    from tests.services.money_helpers import checked_out as make_order

    ids = []
    for _ in range(5):
        clock.advance(minutes=1)
        ids.append(make_order(ctx, s, tickets=1))
    orders = OrderService(ctx)
    text = orders.get(ids[0]).billing_name[:3]
    found = orders.search(s.conference_id, text, limit=2) + orders.search(s.conference_id, text, offset=2, limit=3)
    assert [o.id for o in found] == list(reversed(ids))
    assert orders.count(s.conference_id, text) == 5
    assert orders.count(s.conference_id, text, statuses=["cancelled"]) == 0


def test_by_reference_and_not_found(ctx, s, people) -> None:  # type: ignore[no-untyped-def]
    assert OrderService(ctx).by_reference(" ord-ab12cd34 ").id == people["ORD-AB12CD34"]
    with pytest.raises(NotFound, match="ORD-NOPE"):
        OrderService(ctx).by_reference("ord-nope")
    with pytest.raises(NotFound):
        OrderService(ctx).detail(424242)


def test_detail_lists_everything(ctx, db, s) -> None:  # type: ignore[no-untyped-def]
    credit = CreditService(ctx).issue(s.customer_id, s.conference_id, D("20.00"))
    order_id = checked_out(ctx, s, tickets=1, addons=1)  # 125.00
    PaymentService(ctx).apply_credit(order_id, credit.id, operator_id=s.staff_id)
    card_payment(db, order_id, D("50.00"), "pi_A")
    factories.ensure_open_shift(ctx.db)
    PaymentService(ctx).pay_cash(order_id, D("60.00"), operator_id=s.staff_id)
    RefundService(ctx, FakeGateway()).refund(order_id, D("10.00"), method="card", operator_id=s.staff_id)
    RefundService(ctx).refund(order_id, D("5.00"), method="credit")
    d = OrderService(ctx).detail(order_id)
    assert d.summary.paid == D("125.00") and d.summary.refunded == D("15.00")
    assert d.summary.status == "partially_refunded"
    assert [(ln.kind, ln.quantity, ln.line_total) for ln in d.lines] == [
        ("ticket", 1, D("100.00")), ("addon", 1, D("25.00"))
    ]
    assert [(p.method, p.amount, p.operator_name) for p in d.payments] == [
        ("credit", D("20.00"), "Grace"), ("stripe", D("50.00"), ""), ("cash", D("55.00"), "Grace")
    ]
    cash = d.payments[2]
    assert (cash.amount_tendered, cash.change_given) == (D("60.00"), D("5.00"))
    assert (d.payments[1].card_brand, d.payments[1].card_last4) == ("visa", "4242")
    assert [(r.method, r.amount, r.status, r.operator_name) for r in d.refunds] == [
        ("card", D("10.00"), "succeeded", "Grace"), ("credit", D("5.00"), "succeeded", "")
    ]
    assert [(c.id, c.used_here) for c in d.credits_applied] == [(credit.id, D("20.00"))]
    assert [c.amount for c in d.credits_issued] == [D("5.00")]


def test_cancel_pending_order_ORD1_and_refusals_ORD3(ctx, db, s) -> None:  # type: ignore[no-untyped-def]
    order_id = checked_out(ctx, s)
    summary = OrderService(ctx).cancel(order_id)
    assert summary.status == "cancelled" and summary.hold_expires_at is None
    with pytest.raises(OrderStateError, match="Only pending"):
        OrderService(ctx).cancel(order_id)
    partly_cash = checked_out(ctx, s)
    factories.ensure_open_shift(ctx.db)
    PaymentService(ctx).pay_cash(partly_cash, D("10"))
    with pytest.raises(OrderStateError, match="paid in cash or card"):
        OrderService(ctx).cancel(partly_cash)
    assert counters_consistent(db)


def test_sweep_stale_ORD6(ctx, db, clock, s) -> None:  # type: ignore[no-untyped-def]
    stale = pending_order(db, s, clock.now(), hold_minutes=5)
    live = pending_order(db, s, clock.now(), hold_minutes=60)
    clock.advance(minutes=10)
    assert OrderService(ctx).sweep_stale(s.conference_id) == 1
    assert OrderService(ctx).get(stale).status == "cancelled"
    assert OrderService(ctx).get(live).status == "pending"
    assert counters_consistent(db)
