"""Refunds: card through the gateway (split across intents), cash, manual, store credit (REF-*, DEC-1/2)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from boxoffice.domain.models import (
    Credit,
    CreditStatus,
    Order,
    PaymentMethod,
    Refund,
    RefundStatus,
    TicketType,
    Voucher,
)
from boxoffice.errors import InvalidInput, RefundError
from boxoffice.services.money.credits import CreditService
from boxoffice.services.money.payments import PaymentService
from boxoffice.services.money.refunds import RefundService
from boxoffice.services.sales.orders import OrderService
from tests import factories
from tests.services.money_helpers import FakeGateway, card_payment, checked_out, counters_consistent, shop

D = Decimal


@pytest.fixture
def s(db):  # type: ignore[no-untyped-def]
    return shop(db)


def _sold(db, s):  # type: ignore[no-untyped-def]
    with db.read() as session:
        return session.get(TicketType, s.ticket_type_id).sold_quantity


def _paid_by_card(ctx, db, s, tickets=1, intents=("pi_A",)):  # type: ignore[no-untyped-def]
    order_id = checked_out(ctx, s, tickets=tickets)
    total = D("100.00") * tickets
    share = total / len(intents)
    for intent in intents:
        card_payment(db, order_id, share, intent)
    return order_id


@pytest.mark.parametrize(
    ("amounts", "status"),
    [(["100.00"], "refunded"), (["30.00"], "partially_refunded"), (["40.00", "60.00"], "refunded")],
)
def test_card_refund_examples_REF6(ctx, db, s, amounts, status) -> None:  # type: ignore[no-untyped-def]
    gateway = FakeGateway()
    order_id = _paid_by_card(ctx, db, s)
    for amount in amounts:
        result = RefundService(ctx, gateway).refund(order_id, D(amount), method="card", operator_id=s.staff_id)
        assert result.status == "succeeded" and result.credit_id is None
    assert result.order.status == status
    assert result.order.refunded == sum(D(a) for a in amounts)
    assert _sold(db, s) == (0 if status == "refunded" else 1)  # REF-9
    assert counters_consistent(db)
    with db.read() as session:
        assert session.scalars(select(Credit)).all() == []  # DEC-1: no ledger credit for card refunds


def test_card_refund_over_balance_rejected_REF6(ctx, db, s) -> None:  # type: ignore[no-untyped-def]
    gateway = FakeGateway()
    order_id = _paid_by_card(ctx, db, s)
    RefundService(ctx, gateway).refund(order_id, D("70.00"), method="card")
    with pytest.raises(RefundError, match=r"exceeds the refundable balance of \$30.00"):
        RefundService(ctx, gateway).refund(order_id, D("50.00"), method="card")
    with pytest.raises(RefundError, match="exceeds"):
        RefundService(ctx, gateway).refund(_paid_by_card(ctx, db, s), D("150.00"), method="card")
    assert len(gateway.calls) == 1


def test_card_refund_without_gateway_is_explained(ctx, db, s) -> None:  # type: ignore[no-untyped-def]
    order_id = _paid_by_card(ctx, db, s)
    with pytest.raises(RefundError, match="Card refunds need Stripe to be set up"):
        RefundService(ctx).refund(order_id, D("10.00"), method="card")
    with db.read() as session:
        assert session.scalars(select(Refund)).all() == []


def test_card_refund_split_across_intents_REF3_and_unique_keys_STR5(ctx, db, s) -> None:  # type: ignore[no-untyped-def]
    gateway = FakeGateway()
    order_id = _paid_by_card(ctx, db, s, tickets=2, intents=("pi_A", "pi_B"))  # 100 + 100
    svc = RefundService(ctx, gateway)
    svc.refund(order_id, D("60.00"), method="card")
    result = svc.refund(order_id, D("60.00"), method="card", reason="duplicate")
    assert [(c["payment_intent_id"], c["amount"]) for c in gateway.calls] == [
        ("pi_A", D("60.00")), ("pi_A", D("40.00")), ("pi_B", D("20.00"))
    ]
    assert len(result.refund_ids) == 2 and result.order.status == "partially_refunded"
    keys = [c["idempotency_key"] for c in gateway.calls]
    assert len(set(keys)) == 3
    assert keys[1].startswith("refund-pi_A-40.00-duplicate-")
    # two equal partial refunds still get distinct keys (STR-5 [FIX])
    svc.refund(order_id, D("10.00"), method="card")
    svc.refund(order_id, D("10.00"), method="card")
    assert gateway.calls[-1]["idempotency_key"] != gateway.calls[-2]["idempotency_key"]
    with db.read() as session:
        rows = session.scalars(select(Refund).order_by(Refund.id)).all()
        assert all(r.status == RefundStatus.SUCCEEDED and r.stripe_refund_id for r in rows)
        assert all(r.idempotency_key.endswith(f"-{r.id}") for r in rows)


def test_terminal_money_is_card_money_REF8(ctx, db, s) -> None:  # type: ignore[no-untyped-def]
    order_id = checked_out(ctx, s)
    card_payment(db, order_id, D("100.00"), "pi_T", method=PaymentMethod.TERMINAL)
    gateway = FakeGateway()
    assert RefundService(ctx, gateway).refundable(order_id).by_method["card"] == D("100.00")
    assert RefundService(ctx, gateway).refund(order_id, D("100.00"), method="card").order.status == "refunded"


def test_card_refund_limited_to_card_money_DEC2(ctx, db, s) -> None:  # type: ignore[no-untyped-def]
    order_id = checked_out(ctx, s, tickets=1, addons=2)  # 150.00
    card_payment(db, order_id, D("100.00"), "pi_A")
    factories.ensure_open_shift(ctx.db)
    PaymentService(ctx).pay_cash(order_id, D("50.00"))
    view = RefundService(ctx).refundable(order_id)
    assert view.total_refundable == D("150.00")
    assert view.by_method == {"card": D("100.00"), "cash": D("50.00"), "manual": D("0.00"), "credit": D("150.00")}
    result = RefundService(ctx, FakeGateway()).refund(order_id, D("100.00"), method="card")
    assert result.order.status == "partially_refunded"  # REF-5: compared with the total
    with pytest.raises(RefundError, match="to the card"):
        RefundService(ctx, FakeGateway()).refund(order_id, D("1.00"), method="card")
    final = RefundService(ctx).refund(order_id, D("50.00"), method="cash", operator_id=s.staff_id)
    assert final.order.status == "refunded" and final.order.refunded == D("150.00")
    assert RefundService(ctx).refundable(order_id).total_refundable == D("0.00")


def test_gateway_failure_marks_refund_failed_and_keeps_order(ctx, db, s) -> None:  # type: ignore[no-untyped-def]
    order_id = _paid_by_card(ctx, db, s)
    with pytest.raises(RefundError, match="declined"):
        RefundService(ctx, FakeGateway(fail_on_call=1)).refund(order_id, D("40.00"), method="card")
    with db.read() as session:
        refund = session.scalars(select(Refund)).one()
        assert refund.status == RefundStatus.FAILED
        assert session.get(Order, order_id).status.value == "paid"
    assert RefundService(ctx).refundable(order_id).by_method["card"] == D("100.00")  # failed ones free it again


def test_unreachable_stripe_leaves_the_refund_pending_not_failed_DESK5(ctx, db, s) -> None:  # type: ignore[no-untyped-def]
    order_id = _paid_by_card(ctx, db, s)
    with pytest.raises(RefundError, match="stays pending until the next sync"):
        RefundService(ctx, FakeGateway(unreachable_on_call=1)).refund(order_id, D("40.00"), method="card")
    with db.read() as session:
        refund = session.scalars(select(Refund)).one()
        assert refund.status == RefundStatus.PENDING  # Stripe may have refunded: sync settles it
        assert session.get(Order, order_id).status.value == "paid"
    assert RefundService(ctx).refundable(order_id).by_method["card"] == D("60.00")  # reserved meanwhile


def test_partial_failure_across_intents(ctx, db, s) -> None:  # type: ignore[no-untyped-def]
    order_id = _paid_by_card(ctx, db, s, tickets=2, intents=("pi_A", "pi_B"))
    with pytest.raises(RefundError, match=r"\$100.00 went back to the card"):
        RefundService(ctx, FakeGateway(fail_on_call=2)).refund(order_id, D("150.00"), method="card")
    summary = OrderService(ctx).get(order_id)
    assert summary.refunded == D("100.00") and summary.status == "partially_refunded"


def test_pending_gateway_refund_reserves_money(ctx, db, s) -> None:  # type: ignore[no-untyped-def]
    order_id = _paid_by_card(ctx, db, s)
    result = RefundService(ctx, FakeGateway(status="pending")).refund(order_id, D("100.00"), method="card")
    assert result.status == "pending" and result.order.status == "paid" and result.order.refunded == D("0.00")
    with pytest.raises(RefundError, match="already been refunded"):
        RefundService(ctx).refund(order_id, D("1.00"), method="credit")


def test_refund_as_store_credit_DEC2(ctx, db, s) -> None:  # type: ignore[no-untyped-def]
    order_id = checked_out(ctx, s)
    factories.ensure_open_shift(ctx.db)
    PaymentService(ctx).pay_cash(order_id, D("100.00"))
    result = RefundService(ctx).refund(order_id, D("30.00"), method="credit", reason="moved", operator_id=s.staff_id)
    assert result.order.status == "partially_refunded" and result.credit_id is not None
    with db.read() as session:
        credit = session.get(Credit, result.credit_id)
        assert (credit.amount, credit.remaining_amount, credit.status) == (D("30.00"), D("30.00"), CreditStatus.AVAILABLE)
        assert credit.source_order_id == order_id and credit.note == f"Refund for order {result.order.reference}: moved by Grace"
    listed = CreditService(ctx).available_for(s.customer_id, s.conference_id)
    assert [c.id for c in listed] == [result.credit_id]
    assert listed[0].source_order_reference == result.order.reference


def test_refund_of_credit_paid_order_as_credit(ctx, db, s) -> None:  # type: ignore[no-untyped-def]
    k = CreditService(ctx).issue(s.customer_id, s.conference_id, D("100.00"))
    order_id = checked_out(ctx, s)
    PaymentService(ctx).apply_credit(order_id, k.id)
    with pytest.raises(RefundError, match="in cash"):
        RefundService(ctx).refund(order_id, D("10.00"), method="cash")
    assert RefundService(ctx).refund(order_id, D("100.00"), method="credit").order.status == "refunded"


def test_refund_eligibility_REF1(ctx, db, s) -> None:  # type: ignore[no-untyped-def]
    order_id = checked_out(ctx, s)
    with pytest.raises(RefundError, match="Only paid or partially refunded orders"):
        RefundService(ctx).refund(order_id, D("10.00"), method="cash")
    factories.ensure_open_shift(ctx.db)
    PaymentService(ctx).pay_cash(order_id, D("100.00"))
    with pytest.raises(InvalidInput):
        RefundService(ctx).refund(order_id, D("0.00"), method="cash")
    with pytest.raises(InvalidInput, match="refund method"):
        RefundService(ctx).refund(order_id, D("1.00"), method="cheque")
    RefundService(ctx).refund(order_id, D("100.00"), method="cash")
    with pytest.raises(RefundError, match="is refunded"):
        RefundService(ctx).refund(order_id, D("1.00"), method="cash")


def test_comp_orders_have_nothing_to_refund(ctx, db, s) -> None:  # type: ignore[no-untyped-def]
    order_id = checked_out(ctx, s)
    PaymentService(ctx).comp(order_id, reason="speaker")
    assert RefundService(ctx).refundable(order_id).total_refundable == D("0.00")
    with pytest.raises(RefundError, match="already been refunded"):
        RefundService(ctx).refund(order_id, D("1.00"), method="credit")


def test_refunds_do_not_release_voucher_VCH13(ctx, db, s) -> None:  # type: ignore[no-untyped-def]
    factories.voucher(db, s.conference_id, code="HALF", discount_value=D("50.00"))
    order_id = checked_out(ctx, s, voucher="HALF")
    factories.ensure_open_shift(ctx.db)
    PaymentService(ctx).pay_cash(order_id, D("50.00"))
    RefundService(ctx).refund(order_id, D("50.00"), method="cash")
    with db.read() as session:
        assert session.scalars(select(Voucher.times_used)).one() == 1
        assert session.get(Order, order_id).status.value == "refunded"
