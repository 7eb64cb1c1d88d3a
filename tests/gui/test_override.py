"""A lead approves one refused action on a volunteer's screen; the volunteer stays signed in."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from boxoffice.domain.models import AuditEntry
from boxoffice.errors import PermissionDenied
from boxoffice.services.staff.access import SYSTEM, acting_as, current_actor
from tests.gui.auth_helpers import locked_window, sign_in
from tests.gui.conftest import LEAD_PASSWORD, VOLUNTEER_PIN
from tests.gui.helpers import type_text

pytestmark = pytest.mark.no_default_actor


def _pending_order(services, catalogue, actor):
    """A pending order with $10.00 of store credit on it: cancelling it needs a lead (the credit goes
    back); an order that took no money is the volunteer's own to cancel."""
    with acting_as(actor):
        customer = services.customers.get_or_create(name="Ada Lovelace", email="ada@example.org", company="")
        cart = services.carts.open_cart(catalogue.conference_id, customer.id)
        services.carts.add_ticket(cart.id, catalogue.regular, 1)
        order = services.checkout.checkout(cart.id)
    with acting_as(SYSTEM):
        credit = services.credits.issue(customer.id, catalogue.conference_id, Decimal("10.00"), note="goodwill")
    with acting_as(actor):
        services.payments.apply_credit(order.id, credit.id)
    return order


def _audit(services, action):
    with services.db.read() as session:
        rows = list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))
        session.expunge_all()
        return rows


def _signed_in_volunteer(qtbot, desk, staff_team):
    window = locked_window(qtbot, desk)
    sign_in(qtbot, window, "Vera", VOLUNTEER_PIN)
    qtbot.waitUntil(lambda: not window.is_locked())
    return window


def test_lead_approves_a_cancel_with_their_password(qtbot, desk, services, catalogue, staff_team) -> None:
    window = _signed_in_volunteer(qtbot, desk, staff_team)
    order = _pending_order(services, catalogue, staff_team.volunteer.actor())
    results, errors = [], []
    orders = services.orders
    desk.tasks.write(lambda: orders.cancel(order.id), results.append, errors.append)
    qtbot.waitUntil(lambda: getattr(window, "override_dialog", None) is not None
                    and window.override_dialog.isVisible())
    dialog = window.override_dialog
    assert "Cancelling an order needs a lead" in dialog.title.text()
    qtbot.keyClicks(dialog.form.name, "Linus")
    type_text(qtbot, dialog.form.secret, "not it at all")
    dialog.form.button.click()
    qtbot.waitUntil(lambda: dialog.form.message.text() != "")
    assert "do not match" in dialog.form.message.text() and results == []
    type_text(qtbot, dialog.form.secret, LEAD_PASSWORD)
    dialog.form.button.click()
    qtbot.waitUntil(lambda: len(results) == 1)
    assert errors == [] and results[0].status == "cancelled"
    assert services.orders.get(order.id).status == "cancelled"
    (cancel,) = _audit(services, "cancel_order")
    assert (cancel.actor_name, cancel.actor_role, cancel.approver_name) == ("Vera", "volunteer", "Linus")
    (override,) = _audit(services, "override")
    assert (override.actor_name, override.approver_name) == ("Vera", "Linus")
    assert not window.is_locked() and desk.operator_name == "Vera"
    assert current_actor().name == "Vera" and current_actor().approver is None   # approval was for one call
    assert window.status_operator.text() == "Operator: Vera (Volunteer)"


def test_cancelling_the_approval_hands_back_the_refusal(qtbot, desk, services, catalogue, staff_team) -> None:
    window = _signed_in_volunteer(qtbot, desk, staff_team)
    order = _pending_order(services, catalogue, staff_team.volunteer.actor())
    errors = []
    orders = services.orders
    desk.tasks.write(lambda: orders.cancel(order.id), lambda _r: None, errors.append)
    qtbot.waitUntil(lambda: getattr(window, "override_dialog", None) is not None
                    and window.override_dialog.isVisible())
    window.override_dialog.cancel.click()
    qtbot.waitUntil(lambda: len(errors) == 1)
    assert isinstance(errors[0], PermissionDenied) and "needs a lead" in str(errors[0])
    assert services.orders.get(order.id).status == "pending"
    assert _audit(services, "override") == [] and order.total == Decimal("100.00")


def test_a_volunteer_cannot_approve_for_another(qtbot, desk, services, catalogue, staff_team) -> None:
    window = _signed_in_volunteer(qtbot, desk, staff_team)
    order = _pending_order(services, catalogue, staff_team.volunteer.actor())
    orders = services.orders
    desk.tasks.write(lambda: orders.cancel(order.id), lambda _r: None, lambda _e: None)
    qtbot.waitUntil(lambda: getattr(window, "override_dialog", None) is not None
                    and window.override_dialog.isVisible())
    dialog = window.override_dialog
    qtbot.keyClicks(dialog.form.name, "Vera")
    type_text(qtbot, dialog.form.secret, VOLUNTEER_PIN)
    dialog.form.button.click()
    qtbot.waitUntil(lambda: dialog.form.message.text() != "")
    assert "Vera is a volunteer" in dialog.form.message.text()
    assert dialog.isVisible() and services.orders.get(order.id).status == "pending"
    dialog.cancel.click()


def test_enter_in_the_secret_field_approves_like_the_button(qtbot, desk, services, catalogue,
                                                            staff_team) -> None:
    from PySide6.QtCore import Qt

    window = _signed_in_volunteer(qtbot, desk, staff_team)
    order = _pending_order(services, catalogue, staff_team.volunteer.actor())
    results, errors = [], []
    orders = services.orders
    desk.tasks.write(lambda: orders.cancel(order.id), results.append, errors.append)
    qtbot.waitUntil(lambda: getattr(window, "override_dialog", None) is not None
                    and window.override_dialog.isVisible())
    dialog = window.override_dialog
    qtbot.keyClicks(dialog.form.name, "Linus")
    qtbot.keyClick(dialog.form.name, Qt.Key.Key_Return)     # Enter in the name field moves on
    qtbot.waitUntil(dialog.form.secret.hasFocus)
    assert dialog.isVisible()
    qtbot.keyClicks(dialog.form.secret, LEAD_PASSWORD)
    qtbot.keyClick(dialog.form.secret, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(results or errors))
    assert errors == [] and results[0].status == "cancelled"
    assert len(_audit(services, "override")) == 1


def test_cancelling_an_approval_gives_the_focus_back(qtbot, desk, services, catalogue, staff_team) -> None:
    from PySide6.QtWidgets import QLineEdit

    window = _signed_in_volunteer(qtbot, desk, staff_team)
    order = _pending_order(services, catalogue, staff_team.volunteer.actor())
    field = window.sell.voucher
    window.show_screen(0)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    field.setFocus()
    assert isinstance(field, QLineEdit) and field.hasFocus()
    errors = []
    orders = services.orders
    desk.tasks.write(lambda: orders.cancel(order.id), lambda _r: None, errors.append)
    qtbot.waitUntil(lambda: getattr(window, "override_dialog", None) is not None
                    and window.override_dialog.isVisible())
    window.override_dialog.cancel.click()
    qtbot.waitUntil(lambda: len(errors) == 1)
    qtbot.waitUntil(field.hasFocus)
