"""Check-in at the door on a real database: scans, refusals, re-entry, undo, add-ons, the dashboard."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from boxoffice.db.engine import Database
from boxoffice.domain.attendee_rules import order_qr_payload, qr_payload
from boxoffice.domain.models import Attendee, AttendeeWord, AuditEntry, CheckIn, Order, Redemption
from boxoffice.errors import InvalidInput, PermissionDenied, UserError
from boxoffice.services.checkin import roster
from boxoffice.services.checkin.admission import CheckInService
from boxoffice.services.checkin.attendees import AttendeeService
from boxoffice.services.context import ServiceContext
from boxoffice.services.money.payments import PaymentService
from boxoffice.services.money.refunds import RefundService
from boxoffice.services.sales.cart import CartService
from boxoffice.services.sales.checkout import CheckoutService
from boxoffice.services.sales.customers import CustomerService
from boxoffice.services.sales.orders import OrderService
from boxoffice.services.staff.access import Actor, Role, acting_as
from boxoffice.timeutil import FixedClock
from tests import factories

D = Decimal


@pytest.fixture
def conf(db: Database) -> int:
    return factories.conference(db, reference_prefix="PYC", total_capacity=500).id


@pytest.fixture
def ticket(db: Database, conf: int) -> int:
    return factories.ticket_type(db, conf, name="Individual", price=D("100.00"), total_quantity=100).id


def _sell(ctx: ServiceContext, conf: int, items: list[tuple[str, int, int]], *, name: str = "Ada Lovelace",
          email: str = "ada@example.org", company: str = "Analytical Engines", pay: bool = True,
          holders: list[tuple[str, str, str]] | None = None) -> int:
    customer = CustomerService(ctx).get_or_create(name=name, email=email, company=company)
    carts = CartService(ctx)
    cart = carts.open_cart(conf, customer.id)
    for kind, product, qty in items:
        (carts.add_ticket if kind == "ticket" else carts.add_addon)(cart.id, product, qty)
    order = CheckoutService(ctx).checkout(cart.id, holders=holders)
    if pay and order.total:
        factories.ensure_open_shift(ctx.db, ctx.desk_name)
        PaymentService(ctx).pay_cash(order.id, order.total)
    return order.id


def _entries(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(CheckIn)) or 0)


def test_a_scanned_code_admits_once_then_says_where_and_by_whom(ctx: ServiceContext, conf: int, ticket: int) -> None:
    order = _sell(ctx, conf, [("ticket", ticket, 1)])
    [attendee] = AttendeeService(ctx).for_order(order)
    door = CheckInService(ctx)
    with acting_as(Actor(None, "Vic", Role.VOLUNTEER)):
        first = door.scan(conf, attendee.access_code.lower())
        second = door.scan(conf, f"  {attendee.access_code} ")
    assert first.outcome == "admitted" and first.ok and first.check_in_id
    assert first.attendee is not None and first.attendee.name == "Ada Lovelace"
    assert first.attendee.checked_in_by == "Vic" and first.attendee.checked_in_desk == "Desk 1"
    assert second.outcome == "already_checked_in" and second.ok
    # 12:00 UTC is 08:00 in New York, the conference's zone
    assert second.detail == "Checked in at 08:00 at Desk 1 by Vic"
    assert second.check_in_id == first.check_in_id
    assert _entries(ctx.db) == 1
    assert AttendeeService(ctx).get(attendee.id).checked_in_at == ctx.clock.now()


def test_admit_again_records_a_re_entry(ctx: ServiceContext, conf: int, ticket: int) -> None:
    order = _sell(ctx, conf, [("ticket", ticket, 1)])
    [attendee] = AttendeeService(ctx).for_order(order)
    door = CheckInService(ctx)
    door.scan(conf, attendee.access_code)
    again = door.scan(conf, attendee.access_code, admit_again=True)
    assert again.outcome == "admitted" and again.headline == "Admitted again"
    with ctx.db.read() as session:
        assert sorted(session.scalars(select(CheckIn.kind)).all()) == ["entry", "re-entry"]


def test_qr_payloads_and_order_references_in_any_spelling_admit(ctx: ServiceContext, conf: int,
                                                               ticket: int) -> None:
    orders = [_sell(ctx, conf, [("ticket", ticket, 1)], name=f"Person {i}", email=f"p{i}@example.org")
              for i in range(4)]
    references = [OrderService(ctx).get(o).reference for o in orders]
    assert len(references) == 4 and all(r.startswith("PYC-") for r in references)
    door = CheckInService(ctx)
    codes = [AttendeeService(ctx).for_order(o)[0].access_code for o in orders]
    assert door.scan(conf, qr_payload(codes[0])).outcome == "admitted"
    assert door.scan(conf, order_qr_payload(references[1])).outcome == "admitted"
    body = references[2].split("-", 1)[1]
    assert door.scan(conf, body.lower()).outcome == "admitted"                # without prefix and dash
    assert door.scan(conf, "pyc" + references[3].split("-", 1)[1]).outcome == "admitted"   # without the dash
    assert _entries(ctx.db) == 4


def test_refusals_are_red_and_write_nothing(ctx: ServiceContext, db: Database, conf: int, ticket: int) -> None:
    pending = _sell(ctx, conf, [("ticket", ticket, 1)], pay=False)
    refunded = _sell(ctx, conf, [("ticket", ticket, 1)], name="Bob", email="bob@example.org")
    RefundService(ctx).refund(refunded, D("100.00"), method="cash", reason="cannot come")
    other_conf = factories.conference(db, name="Other Con", slug="other", reference_prefix="OTH").id
    other_ticket = factories.ticket_type(db, other_conf, total_quantity=5).id
    other = _sell(ctx, other_conf, [("ticket", other_ticket, 1)], name="Eve", email="eve@example.org")
    codes = {k: AttendeeService(ctx).for_order(o)[0].access_code
             for k, o in (("pending", pending), ("refunded", refunded), ("other", other))}
    door = CheckInService(ctx)
    with db.read() as session:
        audit_before = session.scalar(select(func.count()).select_from(AuditEntry))
    not_paid = door.scan(conf, codes["pending"])
    assert (not_paid.outcome, not_paid.order_id) == ("not_paid", pending)
    assert door.scan(conf, codes["refunded"]).outcome == "refunded"
    assert door.scan(conf, codes["other"]).outcome == "other_conference"
    assert "Other Con" in door.scan(conf, codes["other"]).detail
    garbage = door.scan(conf, "%%%~~~###")
    assert garbage.outcome == "unknown" and garbage.colour == "red" and garbage.next_step
    assert door.scan(conf, qr_payload("ZZZZZZZZ")).outcome == "unknown"
    assert door.scan(conf, "   ").outcome == "unknown"
    assert _entries(db) == 0
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == audit_before


def test_a_name_is_a_search_and_admits_nobody(ctx: ServiceContext, conf: int, ticket: int) -> None:
    _sell(ctx, conf, [("ticket", ticket, 1)], name="José Núñez", email="jose@example.org", company="Ñandú SA")
    result = CheckInService(ctx).scan(conf, "jose nu")
    assert result.outcome == "matches" and [m.name for m in result.matches] == ["José Núñez"]
    assert _entries(ctx.db) == 0


def test_a_note_needs_a_confirming_key(ctx: ServiceContext, db: Database, conf: int) -> None:
    speaker = factories.ticket_type(db, conf, name="Speaker", price=D("0.00"), total_quantity=10,
                                    checkin_note="Speaker: send to the green room").id
    order = _sell(ctx, conf, [("ticket", speaker, 1)], pay=False)
    PaymentService(ctx).complete_free_order(order)
    [attendee] = AttendeeService(ctx).for_order(order)
    door = CheckInService(ctx)
    first = door.scan(conf, attendee.access_code)
    assert first.outcome == "attention" and "green room" in first.detail and _entries(db) == 0
    confirmed = door.scan(conf, attendee.access_code, confirm_attention=True)
    assert confirmed.outcome == "admitted" and "green room" in confirmed.detail


def test_undo_needs_a_lead_and_a_reason_and_is_audited(ctx: ServiceContext, conf: int, ticket: int) -> None:
    order = _sell(ctx, conf, [("ticket", ticket, 1)])
    [attendee] = AttendeeService(ctx).for_order(order)
    door = CheckInService(ctx)
    admitted = door.scan(conf, attendee.access_code)
    assert admitted.check_in_id is not None
    with acting_as(Actor(None, "Vic", Role.VOLUNTEER)), pytest.raises(PermissionDenied):
        door.undo(admitted.check_in_id, reason="wrong person")
    with pytest.raises(InvalidInput):
        door.undo(admitted.check_in_id, reason="  ")
    with acting_as(Actor(None, "Lee", Role.LEAD)):
        undone = door.undo(admitted.check_in_id, reason="wrong person")
    assert undone.outcome == "undone"
    with pytest.raises(UserError):
        door.undo(admitted.check_in_id, reason="again")
    assert AttendeeService(ctx).get(attendee.id).checked_in_at is None
    with ctx.db.read() as session:
        row = session.get(CheckIn, admitted.check_in_id)
        assert row is not None and row.undone_at is not None and row.undo_reason == "wrong person"
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "checkin_undo")).one()
        assert entry.actor_name == "Lee" and "wrong person" in entry.detail
    assert door.scan(conf, attendee.access_code).outcome == "admitted"   # admitted afresh


def test_holders_named_at_the_sale_get_their_own_codes(ctx: ServiceContext, conf: int, ticket: int) -> None:
    order = _sell(ctx, conf, [("ticket", ticket, 3)],
                  holders=[("", "", ""), ("Grace Hopper", "grace@example.org", "Navy")])
    attendees = AttendeeService(ctx).for_order(order)
    assert [a.name for a in attendees] == ["Ada Lovelace", "Grace Hopper", "Guest 2 of Ada Lovelace"]
    assert len({a.access_code for a in attendees}) == 3
    result = CheckInService(ctx).scan(conf, order_qr_payload(attendees[0].order_reference))
    assert result.outcome == "matches" and len(result.matches) == 3 and _entries(ctx.db) == 0


def test_the_roster_names_missing_attendees_as_the_checkout_named_them(
        ctx: ServiceContext, conf: int, ticket: int) -> None:
    holders = [("", "", ""), ("Grace Hopper", "grace@example.org", "Navy")]
    order_id = _sell(ctx, conf, [("ticket", ticket, 3)], holders=holders)
    at_checkout = [(a.name, a.email, a.company) for a in AttendeeService(ctx).for_order(order_id)]
    with ctx.db.write() as session:
        of_order = select(Attendee.id).where(Attendee.order_id == order_id)
        session.execute(delete(AttendeeWord).where(AttendeeWord.attendee_id.in_(of_order)))
        session.execute(delete(Attendee).where(Attendee.order_id == order_id))
        order = session.get(Order, order_id)
        assert order is not None
        again = [(a.name, a.email, a.company) for a in roster.ensure_attendees(session, order, holders)]
    assert again == at_checkout
    assert at_checkout[1:] == [("Grace Hopper", "grace@example.org", "Navy"), ("Guest 2 of Ada Lovelace", "", "")]


def test_a_pending_sale_has_attendees_that_scan_as_not_paid(ctx: ServiceContext, conf: int, ticket: int) -> None:
    order = _sell(ctx, conf, [("ticket", ticket, 2)], pay=False)
    attendees = AttendeeService(ctx).for_order(order)
    assert len(attendees) == 2
    assert CheckInService(ctx).scan(conf, attendees[1].access_code).outcome == "not_paid"
    factories.ensure_open_shift(ctx.db, ctx.desk_name)
    PaymentService(ctx).pay_cash(order, D("200.00"))
    assert [a.access_code for a in AttendeeService(ctx).for_order(order)] == [a.access_code for a in attendees]
    assert CheckInService(ctx).scan(conf, attendees[1].access_code).outcome == "admitted"


def test_holders_with_a_bad_email_are_refused_before_anything_is_written(ctx: ServiceContext, conf: int,
                                                                         ticket: int) -> None:
    with pytest.raises(InvalidInput):
        _sell(ctx, conf, [("ticket", ticket, 2)], holders=[("Ada", "not-an-email", "")], pay=False)


def test_walk_up_sale_admitted_at_once(ctx: ServiceContext, conf: int, ticket: int) -> None:
    order = _sell(ctx, conf, [("ticket", ticket, 2)])
    results = CheckInService(ctx).admit_order(order)
    assert [r.outcome for r in results] == ["admitted", "admitted"]
    assert CheckInService(ctx).admit_order(order) == []
    assert _entries(ctx.db) == 2


def test_redemptions_never_exceed_what_was_bought(ctx: ServiceContext, db: Database, conf: int, ticket: int) -> None:
    dinner = factories.addon(db, conf, name="Dinner", price=D("30.00"), total_quantity=50, redeemable=True).id
    shirt = factories.addon(db, conf, name="T-Shirt", price=D("20.00"), total_quantity=50).id
    order = _sell(ctx, conf, [("ticket", ticket, 1), ("addon", dinner, 1), ("addon", shirt, 1)])
    [attendee] = AttendeeService(ctx).for_order(order)
    admitted = CheckInService(ctx).scan(conf, attendee.access_code)
    assert [u.label for u in admitted.addons] == ["Dinner: 0 of 1 used", "T-Shirt: 0 of 1 used"]
    assert admitted.next_step == "Hand out: Dinner: 0 of 1 used"
    dinner_line = admitted.addons[0].order_line_id
    uses = CheckInService(ctx).redeem(attendee.id, dinner_line)
    assert uses[0].label == "Dinner: 1 of 1 used"
    with pytest.raises(UserError, match="nothing left"):
        CheckInService(ctx).redeem(attendee.id, dinner_line)
    with pytest.raises(UserError, match="not handed out"):
        CheckInService(ctx).redeem(attendee.id, admitted.addons[1].order_line_id)
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Redemption)) == 1


def test_add_ons_of_a_group_order_are_assigned_per_attendee(ctx: ServiceContext, db: Database, conf: int,
                                                            ticket: int) -> None:
    dinner = factories.addon(db, conf, name="Dinner", price=D("30.00"), total_quantity=50, redeemable=True).id
    order = _sell(ctx, conf, [("ticket", ticket, 2), ("addon", dinner, 2)])
    first, second = AttendeeService(ctx).for_order(order)
    service = AttendeeService(ctx)
    assert [u.bought for u in service.addons(first.id)] == [1]          # one each by default
    line = service.addons(first.id)[0].order_line_id
    with pytest.raises(UserError, match="Assign at most 1"):
        service.assign_addon(first.id, line, 2)
    service.assign_addon(second.id, line, 0)
    assert service.assign_addon(first.id, line, 2)[0].bought == 2
    assert service.addons(second.id)[0].bought == 0
    CheckInService(ctx).redeem(first.id, line)
    with pytest.raises(UserError, match="Assign at least 1"):
        service.assign_addon(first.id, line, 0)


def test_dashboard_counts_and_expected_csv(ctx: ServiceContext, db: Database, conf: int, ticket: int,
                                          clock: FixedClock, tmp_path: Path) -> None:
    student = factories.ticket_type(db, conf, name="Student", price=D("50.00"), total_quantity=10).id
    orders = [_sell(ctx, conf, [("ticket", ticket, 2)]),
              _sell(ctx, conf, [("ticket", student, 1)], name="Bea", email="bea@example.org")]
    _sell(ctx, conf, [("ticket", ticket, 1)], pay=False, name="Pat", email="pat@example.org")   # not expected
    people = [a for o in orders for a in AttendeeService(ctx).for_order(o)]
    door = CheckInService(ctx)
    door.scan(conf, people[0].access_code)
    clock.advance(minutes=20)
    other_desk = CheckInService(ServiceContext(ctx.db, clock, desk_name="Desk 2"))
    other_desk.scan(conf, people[2].access_code)
    board = door.dashboard(conf)
    assert board.per_ticket_type == (("Individual", 1, 2), ("Student", 1, 1))
    assert (board.checked_in, board.expected) == (2, 3)
    assert dict(board.per_desk) == {"Desk 1": 1, "Desk 2": 1}
    assert sum(n for _, n in board.per_quarter_hour) == 2
    assert all(start.minute % 15 == 0 for start, _ in board.per_quarter_hour)
    path = tmp_path / "expected.csv"
    assert door.expected_csv(conf, path) == 1
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["access_code"] for r in rows] == [people[1].access_code]
