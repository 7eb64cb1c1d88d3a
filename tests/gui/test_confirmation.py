"""The paid-order confirmation keeps the dialog's own result once the operator moves on."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from boxoffice.ui.dialogs.confirmation import ConfirmationDialog


def test_next_customer_leaves_the_confirmation_accepted(qtbot, desk, services, catalogue) -> None:
    customer = services.customers.get_or_create(name="Ada Lovelace", email="ada@example.org", company="")
    cart = services.carts.open_cart(catalogue.conference_id, customer.id)
    services.carts.add_ticket(cart.id, catalogue.regular, 1)
    order = services.checkout.checkout(cart.id)
    payment = services.payments.pay_cash(order.id, Decimal("120.00"))

    dialog = ConfirmationDialog(desk, payment)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.detail is not None)
    assert dialog.payment.order.id == order.id
    assert dialog.change.text() == "Give change: $20.00"
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert dialog.result() == QDialog.DialogCode.Accepted
