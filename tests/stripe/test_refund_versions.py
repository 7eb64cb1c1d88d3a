"""Refund sync whatever the account's API version: the event bodies of 2022-08-01, 2023-10-16 and
2024-12-18.acacia differ (refunds list on the charge, refund.* events), the money on the order does not."""

from __future__ import annotations

from decimal import Decimal

import pytest

from boxoffice.domain.models import Order, OrderStatus, Refund, RefundStatus, StripeEvent
from boxoffice.services.money.card_payments import CardPaymentService
from boxoffice.services.money.refunds import RefundService
from boxoffice.stripe_sync.poller import Poller
from tests.fakes.fake_stripe import FakeStripe
from tests.stripe.conftest import make_gateway

VERSIONS = ("2022-08-01", "2023-10-16", "2024-12-18.acacia")


@pytest.fixture(params=VERSIONS)
def versioned(request):
    server = FakeStripe(account_version=request.param).start()
    yield server
    server.stop()


class WithoutRefundLists:
    """An event source that cannot list a charge's refunds: the charge's refunded amount decides."""

    def __init__(self, gateway):
        self.list_events_page = gateway.list_events_page


@pytest.mark.parametrize("can_list", [True, False], ids=["refunds-listed", "amount-only"])
def test_dashboard_refunds_reach_the_order_whatever_the_version(versioned, ctx, db, make_order, can_list):
    gateway = make_gateway(versioned.url)
    cards = CardPaymentService(ctx, gateway)
    poller = Poller(ctx, gateway if can_list else WithoutRefundLists(gateway))
    order = make_order(1)
    attempt = cards.start_terminal_payment(order.id, "tmr_desk1")
    versioned.present_payment_method("tmr_desk1")
    cards.check_terminal_payment(attempt.payment_id)
    poller.poll_once()

    versioned.refund_outside(attempt.payment_intent_id, 3000)  # in the Stripe dashboard
    assert poller.poll_once().failed == 0
    with db.read() as s:
        assert s.get(Order, order.id).status == OrderStatus.PARTIALLY_REFUNDED
        assert sum(r.amount for r in s.query(Refund).filter_by(status=RefundStatus.SUCCEEDED)) == Decimal("30.00")
        assert {e.api_version for e in s.query(StripeEvent)} == {versioned.account_version}
    # The money already refunded on Stripe is not offered again at the desk.
    assert RefundService(ctx).refundable(order.id).by_method["credit"] == Decimal("70.00")

    versioned.refund_outside(attempt.payment_intent_id, 7000)
    poller.poll_once()
    poller.poll_once()  # events read twice by the margin change nothing
    with db.read() as s:
        assert s.get(Order, order.id).status == OrderStatus.REFUNDED
        assert sum(r.amount for r in s.query(Refund).filter_by(status=RefundStatus.SUCCEEDED)) == Decimal("100.00")


def test_the_fake_shapes_charge_refunded_by_version(versioned, ctx, make_order):
    gateway = make_gateway(versioned.url)
    cards = CardPaymentService(ctx, gateway)
    order = make_order(1)
    attempt = cards.start_terminal_payment(order.id, "tmr_desk1")
    versioned.present_payment_method("tmr_desk1")
    cards.check_terminal_payment(attempt.payment_id)
    versioned.refund_outside(attempt.payment_intent_id, 1000)
    kinds = [e["type"] for e in versioned.events]
    charge = next(e for e in versioned.events if e["type"] == "charge.refunded")["data"]["object"]
    old = versioned.account_version < "2022-11-15"
    assert ("refunds" in charge) is old
    assert ("refund.created" in kinds) is (versioned.account_version >= "2024-10-28")
