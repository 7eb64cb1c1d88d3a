"""The permission matrix: every service operation x every role (and nobody signed in).

Each case builds the same small world as an admin, then calls one operation as one role.
Allowed: the call succeeds. Denied: it raises PermissionDenied (NotSignedIn without an
operator) and the database is exactly as before (row counts of every table, audit included).
A last test walks every public method of every service on AppServices, so an operation added
later without an entry here (or an explicit reason to be open) fails the suite.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, table
from sqlalchemy import inspect as sa_inspect

from boxoffice.app import AppServices, build_app
from boxoffice.db.engine import sqlite_url
from boxoffice.errors import NotSignedIn, PermissionDenied
from boxoffice.services.staff.access import SYSTEM, Actor, Permission, Role, acting_as, authorize
from boxoffice.timeutil import FixedClock
from tests import factories

pytestmark = pytest.mark.no_default_actor

D = Decimal


@dataclass
class World:
    app: AppServices
    conference_id: int
    ticket_id: int
    addon_id: int
    voucher_code: str
    voucher_id: int
    customer_id: int
    cart_id: int
    cart_item_id: int
    pending_order_id: int
    credited_order_id: int
    free_order_id: int
    paid_order_id: int
    cash_payment_id: int
    credit_id: int
    shift_id: int
    volunteer_id: int
    tmp: Path
    # check-in: the paid order's attendee; a group order (2 tickets, 2 redeemable add-ons) whose first
    # attendee is checked in; that check-in; the add-on line
    attendee_id: int = 0
    group_order_id: int = 0
    group_attendee_id: int = 0
    check_in_id: int = 0
    addon_line_id: int = 0


def _world(db_path: Path, clock: FixedClock, tmp: Path) -> World:
    app = build_app(sqlite_url(db_path), clock=clock, use_stripe=False)
    db = app.db
    with acting_as(SYSTEM):
        conf = factories.conference(db, total_capacity=100)
        ticket = factories.ticket_type(db, conf.id, price=D("50.00"), total_quantity=50)
        free = factories.ticket_type(db, conf.id, name="Speaker", price=D("0.00"), total_quantity=10)
        addon = factories.addon(db, conf.id, price=D("10.00"), total_quantity=20, redeemable=True)
        voucher = factories.voucher(db, conf.id, code="HALF", discount_value=D("5.00"), ticket_types=[ticket.id])
        shift_id = factories.open_shift(db, app.ctx.desk_name, conference_id=conf.id).id
        volunteer = factories.staff(db, "Val Volunteer")
        customer = app.customers.get_or_create(name="Ada", email="ada@example.org", company="")

        def order_of(ticket_id: int) -> int:
            cart = app.carts.open_cart(conf.id, customer.id)
            app.carts.add_ticket(cart.id, ticket_id, 1)
            return app.checkout.checkout(cart.id).id

        paid = order_of(ticket.id)
        cash = app.payments.pay_cash(paid, D("50.00"))
        pending = order_of(ticket.id)
        credited = order_of(ticket.id)
        app.payments.apply_credit(credited, app.credits.issue(customer.id, conf.id, D("10.00"), note="part").id)
        free_order = order_of(free.id)
        credit = app.credits.issue(customer.id, conf.id, D("20.00"), note="goodwill")
        cart = app.carts.open_cart(conf.id, customer.id)
        cart = app.carts.add_ticket(cart.id, ticket.id, 1)
        group_cart = app.carts.open_cart(conf.id, app.customers.get_or_create(
            name="Bo Group", email="bo@example.org", company="").id)
        app.carts.add_ticket(group_cart.id, ticket.id, 2)
        app.carts.add_addon(group_cart.id, addon.id, 2)
        group = app.checkout.checkout(group_cart.id).id
        app.payments.pay_manual(group, D("120.00"), reference="BANK-0")
        group_attendee = app.attendees.for_order(group)[0]
        entry = app.checkin.admit(group_attendee.id)
        addon_line = app.attendees.addons(group_attendee.id)[0].order_line_id
        attendee = app.attendees.for_order(paid)[0].id
    assert entry.check_in_id is not None
    return World(app, conf.id, ticket.id, addon.id, "HALF", voucher.id, customer.id, cart.id, cart.lines[0].item_id,
                 pending, credited, free_order, paid, cash.payment_id, credit.id, shift_id, volunteer.id, tmp,
                 attendee_id=attendee, group_order_id=group, group_attendee_id=group_attendee.id,
                 check_in_id=entry.check_in_id, addon_line_id=addon_line)


Op = Callable[[World], Any]


def flag_oversold(w: World) -> int:
    """Flag the pending order as card money after an oversell leaves it (DEC-14); returns its id."""
    from boxoffice.domain.models import Order
    from boxoffice.services.sales.order_state import OVERSOLD_NOTE

    with w.app.db.write() as session:
        session.get(Order, w.pending_order_id).needs_attention = OVERSOLD_NOTE
    return w.pending_order_id

# name -> (permission needed, the call). Reads that any signed-in or anonymous caller may make are
# listed in OPEN below with the reason.
OPERATIONS: dict[str, tuple[Permission, Op]] = {
    "carts.open_cart": (Permission.SELL, lambda w: w.app.carts.open_cart(w.conference_id, w.customer_id)),
    "carts.new_walkup_cart": (Permission.SELL, lambda w: w.app.carts.new_walkup_cart(w.conference_id)),
    "carts.add_ticket": (Permission.SELL, lambda w: w.app.carts.add_ticket(w.cart_id, w.ticket_id, 1)),
    "carts.add_addon": (Permission.SELL, lambda w: w.app.carts.add_addon(w.cart_id, w.addon_id, 1)),
    "carts.set_quantity": (Permission.SELL, lambda w: w.app.carts.set_quantity(w.cart_id, w.cart_item_id, 2)),
    "carts.remove_item": (Permission.SELL, lambda w: w.app.carts.remove_item(w.cart_id, w.cart_item_id)),
    "carts.apply_voucher": (Permission.SELL, lambda w: w.app.carts.apply_voucher(w.cart_id, w.voucher_code)),
    "carts.remove_voucher": (Permission.SELL, lambda w: w.app.carts.remove_voucher(w.cart_id)),
    "carts.assign_customer": (Permission.SELL, lambda w: w.app.carts.assign_customer(
        w.cart_id, w.app.customers.create_anonymous().id)),
    "carts.abandon": (Permission.SELL, lambda w: w.app.carts.abandon(w.cart_id)),
    "checkout.checkout": (Permission.SELL, lambda w: w.app.checkout.checkout(w.cart_id)),
    "customers.get_or_create": (Permission.SELL, lambda w: w.app.customers.get_or_create(
        name="Grace", email="grace@example.org", company="Navy")),
    "customers.create_anonymous": (Permission.SELL, lambda w: w.app.customers.create_anonymous()),
    "payments.pay_cash": (Permission.SELL, lambda w: w.app.payments.pay_cash(w.pending_order_id, D("60.00"))),
    "payments.apply_credit": (Permission.SELL, lambda w: w.app.payments.apply_credit(
        w.pending_order_id, w.credit_id)),
    "payments.complete_free_order": (Permission.SELL, lambda w: w.app.payments.complete_free_order(
        w.free_order_id)),
    "payments.pay_manual": (Permission.MANUAL_PAYMENT, lambda w: w.app.payments.pay_manual(
        w.pending_order_id, D("50.00"), reference="BANK-1")),
    "payments.comp": (Permission.COMP, lambda w: w.app.payments.comp(w.pending_order_id, reason="speaker")),
    "payments.void": (Permission.VOID_PAYMENT, lambda w: w.app.payments.void(
        w.cash_payment_id, reason="keyed twice")),
    "refunds.refund": (Permission.REFUND, lambda w: w.app.refunds.refund(
        w.paid_order_id, D("10.00"), method="cash", reason="left early")),
    # an order that took no money is the seller's to cancel: tests/services/test_volunteer_cancel.py
    "orders.cancel": (Permission.CANCEL_ORDER, lambda w: w.app.orders.cancel(w.credited_order_id)),
    "refunds.cancel_units": (Permission.REFUND, lambda w: w.app.refunds.cancel_units(
        w.paid_order_id, {w.app.orders.detail(w.paid_order_id).lines[0].id: 1}, method="cash", reason="ill")),
    "orders.admit_oversold": (Permission.ADMIT_OVERSOLD, lambda w: w.app.orders.admit_oversold(
        flag_oversold(w), reason="an extra chair")),
    "credits.issue": (Permission.ISSUE_CREDIT, lambda w: w.app.credits.issue(
        w.customer_id, w.conference_id, D("5.00"), note="sorry")),
    "credits.expire": (Permission.EXPIRE_CREDIT, lambda w: w.app.credits.expire(w.credit_id)),
    "audit.search": (Permission.VIEW_AUDIT, lambda w: w.app.audit.search()),
    "audit.count": (Permission.VIEW_AUDIT, lambda w: w.app.audit.count()),
    "audit.export_csv": (Permission.VIEW_AUDIT, lambda w: w.app.audit.export_csv(w.tmp / "audit.csv")),
    "staff.get_or_create": (Permission.MANAGE_STAFF, lambda w: w.app.staff.get_or_create("Newcomer")),
    # Staff accounts
    "auth.list_staff": (Permission.MANAGE_STAFF, lambda w: w.app.auth.list_staff()),
    "auth.add_staff": (Permission.MANAGE_STAFF, lambda w: w.app.auth.add_staff("Vic", "volunteer", "246800")),
    "auth.set_role": (Permission.MANAGE_STAFF, lambda w: w.app.auth.set_role(
        w.volunteer_id, "lead", secret="a long passphrase")),
    "auth.reset_secret": (Permission.MANAGE_STAFF, lambda w: w.app.auth.reset_secret(w.volunteer_id, "135700")),
    "auth.unlock": (Permission.MANAGE_STAFF, lambda w: w.app.auth.unlock(w.volunteer_id)),
    "auth.deactivate": (Permission.MANAGE_STAFF, lambda w: w.app.auth.deactivate(w.volunteer_id)),
    "auth.reactivate": (Permission.MANAGE_STAFF, lambda w: (
        w.app.auth.deactivate(w.volunteer_id), w.app.auth.reactivate(w.volunteer_id))),
    # Cash drawer: this desk's open shift is anyone's to see and to open/close; other shifts are leads'
    "shifts.current": (Permission.OPEN_SHIFT, lambda w: w.app.shifts.current()),
    "shifts.expected_cash": (Permission.OPEN_SHIFT, lambda w: w.app.shifts.expected_cash(w.shift_id)),
    "shifts.summary": (Permission.OPEN_SHIFT, lambda w: w.app.shifts.summary(w.shift_id)),
    "shifts.report": (Permission.OPEN_SHIFT, lambda w: w.app.shifts.report(w.shift_id)),
    "shifts.report_csv": (Permission.OPEN_SHIFT, lambda w: w.app.shifts.report_csv(w.shift_id, w.tmp / "s.csv")),
    "shifts.close": (Permission.OPEN_SHIFT, lambda w: w.app.shifts.close(w.shift_id, D("150.00"))),
    "shifts.open": (Permission.OPEN_SHIFT, lambda w: (
        w.app.shifts.close(w.shift_id, D("150.00")), w.app.shifts.open(D("80.00")))),
    "shifts.list": (Permission.VIEW_REPORTS, lambda w: w.app.shifts.list()),
    "shifts.my_last_closed": (Permission.OPEN_SHIFT, lambda w: w.app.shifts.my_last_closed()),
    # Catalog administration
    "catalog_admin.list_ticket_types": (Permission.MANAGE_CATALOG, lambda w: w.app.catalog_admin.list_ticket_types(
        w.conference_id)),
    "catalog_admin.create_ticket_type": (Permission.MANAGE_CATALOG, lambda w: w.app.catalog_admin.create_ticket_type(
        w.conference_id, name="Late", price=D("70.00"), total_quantity=5)),
    "catalog_admin.update_ticket_type": (Permission.MANAGE_CATALOG, lambda w: w.app.catalog_admin.update_ticket_type(
        w.ticket_id, price=D("55.00"))),
    "catalog_admin.list_addons": (Permission.MANAGE_CATALOG, lambda w: w.app.catalog_admin.list_addons(
        w.conference_id)),
    "catalog_admin.create_addon": (Permission.MANAGE_CATALOG, lambda w: w.app.catalog_admin.create_addon(
        w.conference_id, name="Lunch", price=D("12.00"))),
    "catalog_admin.update_addon": (Permission.MANAGE_CATALOG, lambda w: w.app.catalog_admin.update_addon(
        w.addon_id, price=D("11.00"))),
    "catalog_admin.list_vouchers": (Permission.MANAGE_VOUCHERS, lambda w: w.app.catalog_admin.list_vouchers(
        w.conference_id)),
    "catalog_admin.create_voucher": (Permission.MANAGE_VOUCHERS, lambda w: w.app.catalog_admin.create_voucher(
        w.conference_id, code="NEW10", voucher_type="percentage", discount_value=D("10"))),
    "catalog_admin.update_voucher": (Permission.MANAGE_VOUCHERS, lambda w: w.app.catalog_admin.update_voucher(
        w.voucher_id, max_uses=5)),
    "catalog_admin.generate_vouchers": (Permission.MANAGE_VOUCHERS, lambda w: w.app.catalog_admin.generate_vouchers(
        w.conference_id, 3, voucher_type="percentage", discount_value=D("10"))),
    "catalog_admin.export_vouchers_csv": (Permission.MANAGE_VOUCHERS, lambda w:
                                          w.app.catalog_admin.export_vouchers_csv(w.conference_id, w.tmp / "v.csv")),
    # Check-in: volunteers scan, admit, rename and hand out add-ons; a lead undoes a check-in
    "checkin.scan": (Permission.CHECK_IN, lambda w: w.app.checkin.scan(
        w.conference_id, w.app.attendees.get(w.attendee_id).access_code)),
    "checkin.admit": (Permission.CHECK_IN, lambda w: w.app.checkin.admit(w.attendee_id)),
    "checkin.admit_order": (Permission.CHECK_IN, lambda w: w.app.checkin.admit_order(w.group_order_id)),
    "checkin.undo": (Permission.UNDO_CHECKIN, lambda w: w.app.checkin.undo(w.check_in_id, reason="wrong person")),
    "checkin.redeem": (Permission.CHECK_IN, lambda w: w.app.checkin.redeem(w.group_attendee_id, w.addon_line_id)),
    "checkin.dashboard": (Permission.CHECK_IN, lambda w: w.app.checkin.dashboard(w.conference_id)),
    "checkin.expected_csv": (Permission.CHECK_IN, lambda w: w.app.checkin.expected_csv(
        w.conference_id, w.tmp / "expected.csv")),
    "attendees.rename": (Permission.RENAME_ATTENDEE, lambda w: w.app.attendees.rename(
        w.attendee_id, name="Grace Hopper", email="grace@example.org")),
    "attendees.set_note": (Permission.RENAME_ATTENDEE, lambda w: w.app.attendees.set_note(
        w.attendee_id, "wheelchair: use the side door")),
    "attendees.assign_addon": (Permission.RENAME_ATTENDEE, lambda w: w.app.attendees.assign_addon(
        w.group_attendee_id, w.addon_line_id, 0)),
    "attendees.export_csv": (Permission.CHECK_IN, lambda w: w.app.attendees.export_csv(
        w.conference_id, w.tmp / "attendees.csv")),
    "registrations.import_registrations": (Permission.IMPORT_REGISTRATIONS, lambda w:
                                           w.app.registrations.import_registrations(_registrations_csv(w), _slug(w))),
    "registrations.export_registrations_csv": (Permission.IMPORT_REGISTRATIONS, lambda w:
                                               w.app.registrations.export_registrations_csv(_slug(w), w.tmp / "r.csv")),
    # Badges and desk printers (a receipt printer spec that goes nowhere: allowed calls fail on the
    # printer, after the permission check, and that is all this matrix looks at)
    "badge_templates.save_template": (Permission.MANAGE_CATALOG, lambda w: w.app.badge_templates.save_template(
        w.conference_id, None, banner_color="#b22222")),
    "badges.print_badge": (Permission.SELL, lambda w: _expect_printer_fault(
        lambda: w.app.badges.print_badge(_attendee(w)))),
    "receipt_printer.print_receipt": (Permission.SELL, lambda w: _expect_printer_fault(
        lambda: w.app.receipt_printer.print_receipt(w.paid_order_id, f"file:{w.tmp}/no/such/dir"))),
    "receipt_printer.after_sale": (Permission.SELL, lambda w: w.app.receipt_printer.after_sale(
        w.paid_order_id, "", method="cash")),
    "receipt_printer.after_refund": (Permission.SELL, lambda w: w.app.receipt_printer.after_refund(
        w.paid_order_id, "", method="cash")),
    "receipt_printer.test_page": (Permission.SELL, lambda w: w.app.receipt_printer.test_page(
        f"file:{w.tmp}/test-page.bin")),
    "receipt_printer.open_drawer": (Permission.OPEN_DRAWER, lambda w: w.app.receipt_printer.open_drawer(
        f"file:{w.tmp}/drawer.bin", reason="change")),
}


def _slug(w: World) -> str:
    return w.app.conferences.get(w.conference_id).slug


def _registrations_csv(w: World) -> Path:
    from boxoffice.services.checkin.registrations_csv import HEADER

    path = w.tmp / "registrations.csv"
    path.write_text(",".join(HEADER) + "\n", encoding="utf-8")
    return path


def _attendee(w: World) -> int:
    return w.app.badges.bulk(w.conference_id)[0].attendee_id


def _expect_printer_fault(call: Callable[[], Any]) -> None:
    from boxoffice.services.printing.badges import BadgeNotPrinted
    from boxoffice.services.printing.printer_connection import PrinterFault

    with pytest.raises((PrinterFault, BadgeNotPrinted)):
        call()

# Public methods that need no role, and why.
OPEN: dict[str, str] = {
    "attendees.search": "read: attendee look-up as you type",
    "attendees.get": "read",
    "attendees.for_order": "read",
    "attendees.addons": "read",
    "catalog.list_products": "read: what is on sale",
    "catalog.remaining_all": "read: stock left",
    "customers.find": "read: customer look-up",
    "customers.get": "read",
    "carts.get": "read",
    "orders.search": "read",
    "orders.count": "read",
    "orders.by_reference": "read",
    "orders.get": "read",
    "orders.detail": "read",
    "orders.sweep_stale": "housekeeping run by the desk's timer: releases lapsed holds (ORD-6)",
    "credits.list": "read",
    "credits.available_for": "read",
    "credits.sweep_expired": "housekeeping run by the desk's timer: expires credits past their date (DEC-3)",
    "refunds.refundable": "read",
    "conferences.list": "read",
    "conferences.get": "read",
    "staff.list": "read: names for the sign-in list",
    "directory.needs_first_admin": "first start, before anyone exists to sign in",
    "auth.create_first_admin": "first start: refused once an admin exists (tests/services/test_auth.py)",
    "directory.sign_in_names": "the sign-in list",
    "auth.sign_in": "signing in is how an operator gets a role",
    "auth.verify_override": "checks the approver's own secret and role (tests/services/test_auth.py)",
    "badge_templates.list_templates": "read",
    "badge_templates.template_for": "read",
    "badges.badge": "read",
    "badges.by_code": "read",
    "badges.bulk": "read",
    "badges.bulk_by_slug": "read: the command line's bulk PDF",
    "badges.last_print": "read: 'Badge printed 08:40' on the check-in result",
    "badges.prints": "read: the print log",
    "receipts.receipt": "read: what a receipt says",
    "receipt_printer.escpos_job": "read: the bytes of a receipt, written to a file by the command line",
    "receipt_printer.prints": "read: the print log",
}

ROLES: dict[str, Actor | None] = {
    "nobody": None,
    "volunteer": Actor(staff_id=None, name="Val Volunteer", role=Role.VOLUNTEER),
    "lead": Actor(staff_id=None, name="Lee Lead", role=Role.LEAD),
    "admin": Actor(staff_id=None, name="Ada Admin", role=Role.ADMIN),
}


def _fingerprint(app: AppServices) -> dict[str, int]:
    """Row count of every table: a refused call must leave all of them as they were."""
    with app.db.read() as session:
        names = sa_inspect(session.connection()).get_table_names()
        return {n: int(session.scalar(select(func.count()).select_from(table(n))) or 0) for n in names}


def _allowed(role: str, permission: Permission) -> bool:
    actor = ROLES[role]
    return actor is not None and actor.role.rank >= permission.min_role.rank


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_permission_matrix(operation: str, role: str, db_path: Path, clock: FixedClock, tmp_path: Path) -> None:
    permission, call = OPERATIONS[operation]
    world = _world(db_path, clock, tmp_path)
    try:
        before = _fingerprint(world.app)
        with acting_as(ROLES[role]):
            if _allowed(role, permission):
                call(world)
                return
            expected = NotSignedIn if ROLES[role] is None else PermissionDenied
            with pytest.raises(expected) as refused:
                call(world)
        assert _fingerprint(world.app) == before, "a refused call changed the database"
        if expected is PermissionDenied:
            assert refused.value.needs == permission.min_role.value
            assert permission.min_role.value in str(refused.value)
    finally:
        world.app.close()


def test_the_role_table_is_the_one_the_issue_describes() -> None:
    volunteer = {p for p in Permission if p.min_role == Role.VOLUNTEER}
    lead = {p for p in Permission if p.min_role == Role.LEAD}
    assert volunteer == {Permission.SELL, Permission.OPEN_SHIFT, Permission.CHECK_IN, Permission.RENAME_ATTENDEE}
    assert Permission.UNDO_CHECKIN in lead
    assert {Permission.REFUND, Permission.COMP, Permission.CANCEL_ORDER, Permission.ISSUE_CREDIT,
            Permission.EXPIRE_CREDIT, Permission.VOID_PAYMENT} <= lead
    assert {Permission.MANAGE_CATALOG, Permission.MANAGE_VOUCHERS, Permission.MANAGE_STAFF,
            Permission.MANAGE_SETTINGS, Permission.MANAGE_STRIPE_KEY, Permission.IMPORT_REGISTRATIONS} == {
        p for p in Permission if p.min_role == Role.ADMIN}


@pytest.mark.no_default_actor
def test_a_refusal_names_the_action_and_who_may_approve_it() -> None:
    with acting_as(Actor(5, "Val", Role.VOLUNTEER)), pytest.raises(PermissionDenied) as refused:
        authorize(Permission.REFUND)
    assert str(refused.value) == ("Giving a refund needs a lead. Ask a lead to approve it with their PIN, "
                                  "or to sign in.")


def test_an_override_lets_a_volunteer_do_one_lead_action(db_path: Path, clock: FixedClock, tmp_path: Path) -> None:
    world = _world(db_path, clock, tmp_path)
    try:
        volunteer, lead = ROLES["volunteer"], ROLES["lead"]
        assert volunteer is not None and lead is not None
        with acting_as(volunteer.approved_by(lead)):
            world.app.orders.cancel(world.credited_order_id)
        with acting_as(volunteer), pytest.raises(PermissionDenied):
            world.app.credits.expire(world.credit_id)   # the approval was for one call only
        with acting_as(SYSTEM):
            rows = world.app.audit.search(actions=["cancel_order"])
        assert [(r.actor_name, r.approver_name) for r in rows] == [("Val Volunteer", "Lee Lead")]
    finally:
        world.app.close()


def test_every_public_service_operation_is_in_the_matrix(db_path: Path, clock: FixedClock) -> None:
    app = build_app(sqlite_url(db_path), clock=clock, use_stripe=False)
    try:
        missing = []
        assert {"carts", "checkout", "auth", "shifts", "catalog_admin"} <= set(AppServices.service_names())
        for attr in AppServices.service_names():
            service = getattr(app, attr)
            for name, member in inspect.getmembers(type(service), inspect.isfunction):
                key = f"{attr}.{name}"
                if not name.startswith("_") and key not in OPERATIONS and key not in OPEN:
                    missing.append(key)
        assert missing == [], f"service operations with no permission decision in the matrix: {missing}"
    finally:
        app.close()
