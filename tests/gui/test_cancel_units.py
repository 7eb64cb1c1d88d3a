"""DEC-10 on the Orders screen: cancelling a workshop seat refunds it and puts the seat back on sale."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt

from boxoffice.ui.main_window import MainWindow
from tests.gui.helpers import paid_cash_sale


def _window(qtbot, desk) -> MainWindow:  # type: ignore[no-untyped-def]
    window = MainWindow(desk, conference_name="Python 2077", database_label="test.sqlite3")
    qtbot.addWidget(window)
    window.resize(1280, 860)
    window.show()
    window.activateWindow()   # the F-key shortcuts work in the active window
    qtbot.waitUntil(window.isActiveWindow)
    return window


def _press(qtbot, window, key) -> None:  # type: ignore[no-untyped-def]
    window.activateWindow()   # offscreen does not re-activate the window after a dialog
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, key)


def test_cancelling_the_workshop_seat_refunds_it_and_the_sell_screen_shows_it_free_again(
        qtbot, desk, services, catalogue) -> None:  # type: ignore[no-untyped-def]
    order = paid_cash_sale(services, catalogue.conference_id, name="Ada Lovelace", email="ada@example.org",
                           tickets={catalogue.regular: 1}, addons={catalogue.workshop: 1})
    window = _window(qtbot, desk)
    sell = window.sell
    qtbot.waitUntil(lambda: len(sell.catalog.tiles) == 3)
    qtbot.mouseClick(sell.catalog.tile("Regular"), Qt.MouseButton.LeftButton)   # the workshop is on sale
    qtbot.waitUntil(lambda: sell.catalog.tile("Workshop").status_text == "49 left")

    _press(qtbot, window, Qt.Key.Key_F2)
    orders = window.orders
    qtbot.keyClicks(orders.search, order.reference)
    qtbot.keyClick(orders.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: orders.detail is not None and orders.detail.summary.id == order.id)
    qtbot.mouseClick(orders.refund, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: orders.refund_dialog is not None)
    dialog = orders.refund_dialog
    row = next(i for i, line in enumerate(orders.detail.lines) if line.description == "Workshop")
    spin = dialog.unit_spins[row]
    assert spin.maximum() == 1
    spin.setFocus()
    qtbot.keyClick(spin, Qt.Key.Key_Up)   # one unit, as the lead would choose it
    qtbot.waitUntil(lambda: spin.value() == 1)
    assert dialog.amount.text() == "40.00" and dialog.amount.isReadOnly()
    assert dialog.confirm.text() == "Cancel units and refund"
    dialog.choose_method("cash")
    dialog.reason.setText("Workshop clashes with a talk")
    qtbot.mouseClick(dialog.confirm, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: orders.refund_dialog is None and orders.detail.summary.status == "partially_refunded")
    assert "1 unit cancelled and back on sale" in orders.message.text()
    assert "(1 cancelled)" in orders.detail_view.toPlainText()
    assert services.orders.get(order.id).refunded == Decimal("40.00")

    _press(qtbot, window, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is sell)
    qtbot.waitUntil(lambda: sell.catalog.tile("Workshop").status_text == "50 left")
    assert services.catalog.remaining_all(catalogue.conference_id)[("addon", catalogue.workshop)] == 50


def test_a_refund_by_amount_keeps_the_seat_sold(qtbot, desk, services, catalogue) -> None:  # type: ignore[no-untyped-def]
    order = paid_cash_sale(services, catalogue.conference_id, name="Ada Lovelace", email="ada@example.org",
                           tickets={catalogue.regular: 1}, addons={catalogue.workshop: 1})
    window = _window(qtbot, desk)
    _press(qtbot, window, Qt.Key.Key_F2)
    orders = window.orders
    orders.show_reference(order.reference)
    qtbot.waitUntil(lambda: orders.detail is not None and orders.detail.summary.id == order.id)
    orders.open_refund()
    qtbot.waitUntil(lambda: orders.refund_dialog is not None)
    dialog = orders.refund_dialog
    dialog.set_units(0, 1)
    dialog.set_units(0, 0)   # changed their mind: the amount is typed again
    assert not dialog.amount.isReadOnly() and dialog.amount.text() == ""
    qtbot.keyClicks(dialog.amount, "40")
    dialog.choose_method("cash")
    qtbot.mouseClick(dialog.confirm, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: orders.refund_dialog is None and orders.detail.summary.status == "partially_refunded")
    assert "back on sale" not in orders.message.text()
    assert services.catalog.remaining_all(catalogue.conference_id)[("addon", catalogue.workshop)] == 49


def _oversold_order(services, catalogue):  # type: ignore[no-untyped-def]
    """The last seat: Ada's part-paid order lapses, Bob buys the seat, Ada's card money comes in late."""
    from datetime import timedelta

    from boxoffice.domain.models import Order, Payment, PaymentMethod, PaymentStatus
    from boxoffice.services.sales.order_state import OVERSOLD_NOTE

    ada = services.customers.get_or_create(name="Ada Lovelace", email="ada@example.org", company="")
    cart = services.carts.open_cart(catalogue.conference_id, ada.id)
    services.carts.add_ticket(cart.id, catalogue.last_one, 1)
    order = services.checkout.checkout(cart.id)
    services.payments.pay_cash(order.id, Decimal("30.00"))
    with services.db.write() as session:   # its hold lapsed long ago
        session.get(Order, order.id).hold_expires_at = services.ctx.clock.now() - timedelta(hours=1)
    paid_cash_sale(services, catalogue.conference_id, name="Bob Byte", email="bob@example.org",
                   tickets={catalogue.last_one: 1})
    with services.db.write() as session:   # as card sync leaves it (DEC-14)
        session.add(Payment(order_id=order.id, method=PaymentMethod.STRIPE, status=PaymentStatus.SUCCEEDED,
                            amount=Decimal("50.00"), stripe_payment_intent_id="pi_late"))
        session.get(Order, order.id).needs_attention = OVERSOLD_NOTE
    return order


def test_a_lead_admits_an_oversold_order_from_the_orders_screen(qtbot, desk, services, catalogue) -> None:  # type: ignore[no-untyped-def]
    from boxoffice.ui.screens.orders.screen import OrdersScreen

    order = _oversold_order(services, catalogue)
    screen = OrdersScreen(desk)
    qtbot.addWidget(screen)
    screen.show()
    screen.show_reference(order.reference)
    qtbot.waitUntil(lambda: screen.detail is not None and screen.detail.summary.id == order.id)
    assert screen.admit.isVisible() and screen.admit.isEnabled()
    assert "Oversold: needs a lead" in screen.detail_view.toPlainText()
    qtbot.mouseClick(screen.admit, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.admit_dialog is not None)
    dialog = screen.admit_dialog
    dialog.setTextValue("An extra chair at the back")
    dialog.accept()
    qtbot.waitUntil(lambda: screen.detail.summary.status == "paid")
    assert "admitted beyond the stock" in screen.message.text()
    assert not screen.admit.isVisible()
    assert services.catalog.remaining_all(catalogue.conference_id)[("ticket", catalogue.last_one)] == -1
