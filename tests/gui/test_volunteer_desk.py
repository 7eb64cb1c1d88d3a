"""A volunteer at the desk: backing out of a sale needs nobody else while no money was taken."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.gui.auth_helpers import locked_window, sign_in
from tests.gui.conftest import VOLUNTEER_PIN

pytestmark = pytest.mark.no_default_actor


def _volunteer_at_sell(qtbot, desk, staff_team):
    window = locked_window(qtbot, desk)
    sign_in(qtbot, window, "Vera", VOLUNTEER_PIN)
    qtbot.waitUntil(lambda: not window.is_locked())
    sell = window.sell
    qtbot.waitUntil(lambda: len(sell.catalog.tiles) == 3)
    return window, sell


def test_a_volunteer_cancels_the_sale_after_pay_and_the_ticket_is_back_on_sale(
        qtbot, desk, services, catalogue, staff_team) -> None:
    window, sell = _volunteer_at_sell(qtbot, desk, staff_team)
    qtbot.mouseClick(sell.catalog.tile("Last One"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: sell.cart is not None and len(sell.cart.lines) == 1)
    qtbot.mouseClick(sell.cart_panel.attendee.walkup, Qt.MouseButton.LeftButton)
    sell.pay()
    qtbot.waitUntil(lambda: sell.payment_dialog is not None)
    dialog = sell.payment_dialog
    order_id = dialog.order.id
    assert services.catalog.remaining_all(catalogue.conference_id)[("ticket", catalogue.last_one)] == 0
    qtbot.mouseClick(dialog.cancel_sale, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: sell.payment_dialog is None)
    assert getattr(window, "override_dialog", None) is None          # no lead was asked for
    assert services.orders.get(order_id).status == "cancelled"
    assert services.catalog.remaining_all(catalogue.conference_id)[("ticket", catalogue.last_one)] == 1
    qtbot.waitUntil(lambda: sell.catalog.tile("Last One").isEnabled())   # on sale again at once
    assert "cancelled" in desk.messages.shown[-1].text


def test_the_approval_dialog_says_what_is_approved(qtbot, desk, services, catalogue, staff_team) -> None:
    from tests.gui.conftest import LEAD_PASSWORD

    window, sell = _volunteer_at_sell(qtbot, desk, staff_team)
    qtbot.mouseClick(sell.catalog.tile("Regular"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: sell.cart is not None and len(sell.cart.lines) == 1)
    sell.cart_panel.attendee.walkup.setChecked(True)
    sell.pay()
    qtbot.waitUntil(lambda: sell.payment_dialog is not None)
    payment = sell.payment_dialog
    payment.choose("comp")
    qtbot.keyClicks(payment.comp.reason, "Speaker")
    payment.submit()
    qtbot.waitUntil(lambda: getattr(window, "override_dialog", None) is not None
                    and window.override_dialog.isVisible())
    approval = window.override_dialog
    assert approval.what.isVisible()
    assert approval.what.text() == f"Comp order {payment.order.reference}: $100.00 free (Speaker)"
    qtbot.keyClicks(approval.form.name, "Linus")
    qtbot.keyClicks(approval.form.secret, LEAD_PASSWORD)
    qtbot.keyClick(approval.form.secret, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: sell.confirmation is not None)
    assert services.orders.get(sell.confirmation.payment.order.id).status == "paid"


def test_a_banner_does_not_follow_to_another_screen_or_the_next_operator(qtbot, desk, staff_team) -> None:
    window, _sell = _volunteer_at_sell(qtbot, desk, staff_team)
    desk.messages.info("Order PY-1 is waiting for payment.")
    assert window.banner.text() == "Order PY-1 is waiting for payment."
    window.show_screen(1)
    assert window.banner.text() == "" and window.banner.isHidden()
    desk.messages.error_text("Something went wrong.")
    assert window.banner.text() == "Something went wrong."
    window.lock()
    assert window.banner.text() == ""


def test_a_cancelled_order_shows_nothing_due(qtbot, desk, services, catalogue, staff_team) -> None:
    from boxoffice.services.staff.access import acting_as
    from boxoffice.ui.screens.orders.detail_pane import detail_html

    with acting_as(staff_team.volunteer.actor()):
        cart = services.carts.new_walkup_cart(catalogue.conference_id)
        services.carts.add_ticket(cart.id, catalogue.regular, 1)
        order = services.checkout.checkout(cart.id)
        assert "due $100.00" in detail_html(services.orders.detail(order.id), desk.display)
        services.orders.cancel(order.id)
        assert "due" not in detail_html(services.orders.detail(order.id), desk.display)
