"""DEC-10: a lead cancels chosen units of an order; their money goes back and their stock is released."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from boxoffice.domain.models import (
    AddOn,
    Attendee,
    AttendeeStatus,
    AuditEntry,
    Conference,
    Order,
    OrderLineItem,
    Redemption,
    Refund,
    TicketType,
)
from boxoffice.errors import InvalidInput, PermissionDenied, RefundError
from boxoffice.money import units_share
from boxoffice.services.money.payments import PaymentService
from boxoffice.services.money.refunds import RefundService
from boxoffice.services.sales.catalog import CatalogService
from boxoffice.services.sales.orders import OrderService
from boxoffice.services.staff.access import Actor, Role, acting_as
from tests import factories
from tests.services.money_helpers import FakeGateway, card_payment, checked_out, counters_consistent, shop

D = Decimal


@pytest.fixture
def s(db, ctx):  # type: ignore[no-untyped-def]
    world = shop(db, total_quantity=10)
    with db.write() as session:
        session.get(AddOn, world.addon_id).total_quantity = 5
    factories.open_shift(db, ctx.desk_name, conference_id=world.conference_id)
    return world


def _paid(ctx, db, s, tickets=2, addons=1):  # type: ignore[no-untyped-def]
    order_id = checked_out(ctx, s, tickets=tickets, addons=addons)
    total = OrderService(ctx).detail(order_id).summary.total
    PaymentService(ctx).pay_cash(order_id, total)
    return order_id


def _lines(ctx, order_id):  # type: ignore[no-untyped-def]
    detail = OrderService(ctx).detail(order_id)
    return {line.kind: line for line in detail.lines}


def _counts(db, s):  # type: ignore[no-untyped-def]
    with db.read() as session:
        return (session.get(TicketType, s.ticket_type_id).sold_quantity,
                session.get(AddOn, s.addon_id).sold_quantity,
                session.get(Conference, s.conference_id).tickets_sold)


def _attendees(db, order_id):  # type: ignore[no-untyped-def]
    with db.read() as session:
        return [(a.unit, a.status) for a in session.scalars(
            select(Attendee).where(Attendee.order_id == order_id).order_by(Attendee.unit))]


def test_units_share_adds_up_to_the_line_total() -> None:
    shares = [units_share(D("100.00"), 3, before, 1) for before in range(3)]
    assert shares == [D("33.33"), D("33.34"), D("33.33")]
    assert sum(shares) == D("100.00")
    assert units_share(D("100.00"), 3, 1, 2) == D("66.67")


def test_cancelling_a_ticket_unit_in_cash_refunds_it_releases_its_stock_and_voids_its_attendee(ctx, db, s) -> None:  # type: ignore[no-untyped-def]
    order_id = _paid(ctx, db, s)
    assert _counts(db, s) == (2, 1, 2)
    ticket = _lines(ctx, order_id)["ticket"]
    remaining_before = CatalogService(ctx).remaining_all(s.conference_id)[("ticket", s.ticket_type_id)]

    result = RefundService(ctx).cancel_units(order_id, {ticket.id: 1}, method="cash", reason="colleague ill")

    assert result.amount == D("100.00") and result.units_cancelled == 1 and result.method == "cash"
    assert result.order.status == "partially_refunded"
    assert _counts(db, s) == (1, 1, 1)
    assert CatalogService(ctx).remaining_all(s.conference_id)[("ticket", s.ticket_type_id)] == remaining_before + 1
    assert _attendees(db, order_id) == [(1, AttendeeStatus.VALID), (2, AttendeeStatus.VOID)]
    line = _lines(ctx, order_id)["ticket"]
    assert (line.quantity, line.cancelled, line.live) == (2, 1, 1)
    assert counters_consistent(db)
    with db.read() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "cancel_units")).one()
        assert entry.target_id == order_id and entry.amount_before == D("225.00")
        assert entry.amount_after == D("125.00")
        assert f'"units": {{"{ticket.id}": 1}}' in entry.detail


def test_a_reprinted_receipt_shows_the_cancelled_units_and_their_refund(ctx, db, s) -> None:  # type: ignore[no-untyped-def]
    from boxoffice.services.printing.receipts import ReceiptRow, ReceiptService

    order_id = _paid(ctx, db, s)
    ticket = _lines(ctx, order_id)["ticket"]
    RefundService(ctx).cancel_units(order_id, {ticket.id: 1}, method="cash", reason="colleague ill")

    rows = ReceiptService(ctx).receipt(order_id).rows()
    at = next(i for i, row in enumerate(rows) if row.left == f"2 × {ticket.description}")
    assert rows[at + 1] == ReceiptRow("  1 of 2 cancelled", style="small")
    assert ReceiptRow("Refunded (Cash)", "−$100.00") in rows
    assert rows[-1] == ReceiptRow("Status", "Partly refunded")


def test_the_attendees_named_by_the_lead_are_the_ones_voided(ctx, db, s) -> None:  # type: ignore[no-untyped-def]
    order_id = _paid(ctx, db, s)
    ticket = _lines(ctx, order_id)["ticket"]
    with db.read() as session:
        first = session.scalar(select(Attendee.id).where(Attendee.order_id == order_id, Attendee.unit == 1))
    result = RefundService(ctx).cancel_units(order_id, {ticket.id: 1}, method="credit", attendee_ids=[first])
    assert result.attendees_voided == (first,) and result.credit_id is not None
    assert _attendees(db, order_id) == [(1, AttendeeStatus.VOID), (2, AttendeeStatus.VALID)]


def test_cancelling_every_unit_refunds_the_order_and_keeps_the_counters_right(ctx, db, s) -> None:  # type: ignore[no-untyped-def]
    order_id = _paid(ctx, db, s)
    lines = _lines(ctx, order_id)
    refunds = RefundService(ctx)
    refunds.cancel_units(order_id, {lines["addon"].id: 1}, method="cash")
    assert _counts(db, s) == (2, 0, 2)
    result = refunds.cancel_units(order_id, {lines["ticket"].id: 2}, method="cash")
    assert result.order.status == "refunded" and result.order.refunded == D("225.00")
    assert _counts(db, s) == (0, 0, 0)
    assert all(status == AttendeeStatus.VOID for _, status in _attendees(db, order_id))
    assert counters_consistent(db)
    with pytest.raises(RefundError, match="refunded"):
        refunds.cancel_units(order_id, {lines["ticket"].id: 1}, method="cash")


def test_a_refund_not_tied_to_units_never_restocks_REF9(ctx, db, s) -> None:  # type: ignore[no-untyped-def]
    order_id = _paid(ctx, db, s)
    RefundService(ctx).refund(order_id, D("100.00"), method="cash", reason="goodwill")
    assert _counts(db, s) == (2, 1, 2)
    assert all(status == AttendeeStatus.VALID for _, status in _attendees(db, order_id))


def test_after_a_goodwill_refund_units_refund_at_most_what_is_left(ctx, db, s) -> None:  # type: ignore[no-untyped-def]
    order_id = _paid(ctx, db, s, tickets=1, addons=0)
    refunds = RefundService(ctx)
    refunds.refund(order_id, D("80.00"), method="cash", reason="goodwill")
    result = refunds.cancel_units(order_id, {_lines(ctx, order_id)["ticket"].id: 1}, method="cash")
    assert result.amount == D("20.00") and result.order.status == "refunded"
    assert _counts(db, s) == (0, 0, 0) and counters_consistent(db)


def test_wrong_choices_are_refused_and_change_nothing(ctx, db, s) -> None:  # type: ignore[no-untyped-def]
    order_id = _paid(ctx, db, s)
    other = _paid(ctx, db, s, tickets=1, addons=0)
    lines = _lines(ctx, order_id)
    refunds = RefundService(ctx)
    with pytest.raises(RefundError, match="has 2 Individual left to cancel"):
        refunds.cancel_units(order_id, {lines["ticket"].id: 3}, method="cash")
    with pytest.raises(InvalidInput, match="is not on order"):
        refunds.cancel_units(order_id, {_lines(ctx, other)["ticket"].id: 1}, method="cash")
    with pytest.raises(InvalidInput, match="at least one unit"):
        refunds.cancel_units(order_id, {lines["ticket"].id: 0}, method="cash")
    with db.write() as session:  # the T-shirt was handed out
        attendee = session.scalar(select(Attendee.id).where(Attendee.order_id == order_id, Attendee.unit == 1))
        session.add(Redemption(attendee_id=attendee, order_line_id=lines["addon"].id, addon_id=s.addon_id))
    with pytest.raises(RefundError, match=r"0 T-Shirt left to cancel \(1 already handed out\)"):
        refunds.cancel_units(order_id, {lines["addon"].id: 1}, method="cash")
    volunteer = Actor(staff_id=None, name="Val", role=Role.VOLUNTEER)
    with acting_as(volunteer), pytest.raises(PermissionDenied):
        refunds.cancel_units(order_id, {lines["ticket"].id: 1}, method="cash")
    assert _counts(db, s) == (3, 1, 3)
    with db.read() as session:
        assert session.scalars(select(Refund)).all() == []
        assert session.get(Order, order_id).status.value == "paid"


def test_by_card_the_units_go_with_the_refund_stripe_took(ctx, db, s) -> None:  # type: ignore[no-untyped-def]
    order_id = checked_out(ctx, s, tickets=2, addons=0)
    card_payment(db, order_id, D("200.00"), "pi_A")
    ticket = _lines(ctx, order_id)["ticket"]
    gateway = FakeGateway()
    result = RefundService(ctx, gateway).cancel_units(order_id, {ticket.id: 1}, method="card")
    assert gateway.calls[0]["amount"] == D("100.00") and gateway.calls[0]["payment_intent_id"] == "pi_A"
    assert result.status == "succeeded" and result.units_cancelled == 1
    assert _counts(db, s)[0] == 1 and counters_consistent(db)


def test_a_refused_card_refund_cancels_no_unit(ctx, db, s) -> None:  # type: ignore[no-untyped-def]
    order_id = checked_out(ctx, s, tickets=2, addons=0)
    card_payment(db, order_id, D("200.00"), "pi_A")
    ticket = _lines(ctx, order_id)["ticket"]
    with pytest.raises(RefundError, match="No unit was cancelled"):
        RefundService(ctx, FakeGateway(fail_on_call=1)).cancel_units(order_id, {ticket.id: 1}, method="card")
    assert _counts(db, s)[0] == 2
    with db.read() as session:
        assert session.get(OrderLineItem, ticket.id).cancelled_quantity == 0
    assert all(status == AttendeeStatus.VALID for _, status in _attendees(db, order_id))
