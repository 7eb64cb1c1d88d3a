"""The Sell screen: catalog tiles and the cart side by side, voucher field, attendee and Pay.

Signals: ``order_scanned(reference)`` when a scanned code is an order reference (the main window
shows it in Orders); ``sale_completed(OrderSummary)`` after a confirmed payment (whose receipt
and drawer pulse then go to the printer: ``ui/receipt_jobs.py``).

A sale made here is a walk-up: when the desk's ``checkin_walkups`` setting is on, its attendees are
checked in as soon as it is paid and the confirmation names them (an order re-opened from Orders
is not: its people may not be at the desk).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from boxoffice.errors import NotFound
from boxoffice.ui.desk import Desk, looks_like_reference
from boxoffice.ui.dialogs.confirmation import ConfirmationDialog
from boxoffice.ui.dialogs.payment import PaymentDialog
from boxoffice.ui.models.change_feed import ChangeFeed
from boxoffice.ui.receipt_jobs import ReceiptJobs
from boxoffice.ui.screens.sell.cart_panel import CartPanel
from boxoffice.ui.screens.sell.catalog_panel import CatalogPanel
from boxoffice.ui.widgets.inline_message import InlineMessage

log = logging.getLogger(__name__)
LOOKUP_DELAY_MS = 200


class SellScreen(QWidget):
    """Sell tickets and add-ons to one attendee (or a walk-up) and take payment."""

    order_scanned = Signal(str)
    sale_completed = Signal(object)

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.cart: Any = None
        self._opened_cart_id: int | None = None
        self._preferred_credit_id: int | None = None
        self.payment_dialog: PaymentDialog | None = None
        self.confirmation: ConfirmationDialog | None = None
        self._walkup_order_id: int | None = None   # the order of the sale in the payment dialog
        services = desk.services
        self._catalog_service, self._carts = services.catalog, services.carts
        self._customers, self._checkout = services.customers, services.checkout

        top = QHBoxLayout()
        self.voucher = QLineEdit()
        self.voucher.setPlaceholderText("Voucher code or scan an order reference, then Enter")
        self.voucher.setClearButtonEnabled(True)
        self.voucher_button = QPushButton("Apply &voucher")
        self.voucher_label = QLabel()
        self.voucher_label.setObjectName("muted")
        top.addWidget(QLabel("Voucher"))
        top.addWidget(self.voucher, 1)
        top.addWidget(self.voucher_button)
        self.voucher_message = InlineMessage()
        left = QVBoxLayout()
        left.addLayout(top)
        left.addWidget(self.voucher_label)
        left.addWidget(self.voucher_message)
        self.catalog = CatalogPanel(desk.display)
        left.addWidget(self.catalog, 1)
        self.cart_panel = CartPanel(desk.display)
        self.cart_panel.setMinimumWidth(380)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 3)
        layout.addWidget(self.cart_panel, 2)

        self._lookup_timer = QTimer(self)
        self._lookup_timer.setSingleShot(True)
        self._lookup_timer.setInterval(LOOKUP_DELAY_MS)
        self._lookup_text = ""
        self._lookup_timer.timeout.connect(self._run_lookup)

        self.catalog.product_chosen.connect(self._on_catalog_product_chosen)
        self.cart_panel.quantity_changed.connect(self._on_cart_quantity_changed)
        self.cart_panel.remove_requested.connect(self._on_cart_remove_requested)
        self.cart_panel.pay_requested.connect(self.pay)
        self.cart_panel.attendee.lookup_requested.connect(self._on_attendee_lookup_requested)
        self.voucher.returnPressed.connect(self._on_voucher_entered)
        self.voucher_button.clicked.connect(self._on_voucher_entered)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self._on_pay_shortcut, context=Qt.ShortcutContext.ApplicationShortcut)
        # Another desk's sale: the tiles' counts refresh in place; the cart and attendee stay as they are.
        self.changes = ChangeFeed.for_screen(self, desk, self._on_data_changed)

    # ------------------------------------------------------------------ loading

    def refresh_catalog(self) -> None:
        cart_id = self.cart.id if self.cart is not None else None
        conference_id = self.desk.conference_id
        self.desk.tasks.read(
            lambda: self._catalog_service.list_products(conference_id, cart_id=cart_id),
            self.catalog.set_catalog, self.desk.messages.show_error, key="sell-catalog")

    def _on_data_changed(self) -> None:
        if self.isVisible():  # a hidden screen is refreshed when it is shown
            self.refresh_catalog()

    def reset(self) -> None:
        """Back to an empty screen for the next customer."""
        self.cart = None
        self._opened_cart_id = None
        self._preferred_credit_id = None
        self.cart_panel.set_cart(None)
        self._lookup_timer.stop()   # a look-up typed for this customer must not show for the next
        self.cart_panel.attendee.reset()
        self.cart_panel.holders.reset()
        self.cart_panel.message.clear_message()
        self.voucher.clear()
        self.voucher_label.clear()
        self.voucher_message.clear_message()
        self.refresh_catalog()

    def focus_scan_field(self) -> None:
        self.voucher.setFocus()
        self.voucher.selectAll()

    # ------------------------------------------------------------------ cart changes

    def _with_cart(self, then: Callable[[int], Any], near: InlineMessage) -> None:
        """Run ``then(cart_id)`` on the writer, opening a cart (for the attendee or a walk-up) first."""
        attendee = self.cart_panel.attendee
        existing = self.cart.id if self.cart is not None else self._opened_cart_id
        conference_id = self.desk.conference_id
        details = attendee.details() if attendee.has_details() and not attendee.walkup.isChecked() else None
        picked = attendee.picked_customer

        def work() -> Any:
            cart_id = existing if existing is not None else self._opened_cart_id
            if cart_id is None:
                if picked is not None:
                    cart_id = self._carts.open_cart(conference_id, picked.id).id
                elif details is not None:
                    name, email, company = details
                    customer = self._customers.get_or_create(name=name, email=email or None, company=company)
                    cart_id = self._carts.open_cart(conference_id, customer.id).id
                else:
                    cart_id = self._carts.new_walkup_cart(conference_id).id
                # writes run one at a time: a second click queued behind this one reuses the cart
                self._opened_cart_id = cart_id
            return then(cart_id)

        near.clear_message()
        self.desk.tasks.write(work, self._show_cart,
                              lambda exc: self.desk.messages.show_error(exc, near=near))

    def _show_cart(self, cart: Any) -> None:
        if self.cart is not None and cart.id != self.cart.id and self.cart.status == "open":
            log.debug("ignoring result for cart %s, showing %s", cart.id, self.cart.id)
            return
        self.cart = cart
        self.cart_panel.set_cart(cart)
        self.voucher_label.setText(self._voucher_text(cart))
        self.refresh_catalog()

    def _voucher_text(self, cart: Any) -> str:
        """What the applied voucher did, or, with nothing yet for it to discount, what it will do."""
        code, offer = cart.voucher_code or "", getattr(cart, "voucher_offer", "")
        if not code:
            return ""
        if cart.discount:
            return f"Voucher {code} applied: −{self.desk.display.money(cart.discount)}" + (
                f" (it {offer})" if offer else "")
        return f"Voucher {code} is on this cart: it {offer}." if offer else f"Voucher {code} is on this cart."

    def _on_catalog_product_chosen(self, kind: str, product_id: int) -> None:
        carts = self._carts
        if kind == "ticket":
            self._with_cart(lambda cid: carts.add_ticket(cid, product_id, 1), self.cart_panel.message)
        else:
            self._with_cart(lambda cid: carts.add_addon(cid, product_id, 1), self.cart_panel.message)

    def _on_cart_quantity_changed(self, item_id: int, quantity: int) -> None:
        if self.cart is None:
            return
        cart_id, carts = self.cart.id, self._carts

        def failed(exc: BaseException) -> None:
            self.desk.messages.show_error(exc, near=self.cart_panel.message)
            self.cart_panel.set_cart(self.cart)   # the stepper goes back to what the cart holds

        self.cart_panel.message.clear_message()
        self.desk.tasks.write(lambda: carts.set_quantity(cart_id, item_id, quantity), self._show_cart, failed)

    def _on_cart_remove_requested(self, item_id: int) -> None:
        if self.cart is None:
            return
        cart_id, carts = self.cart.id, self._carts
        self.desk.tasks.write(lambda: carts.remove_item(cart_id, item_id), self._show_cart,
                              lambda exc: self.desk.messages.show_error(exc, near=self.cart_panel.message))

    def _on_voucher_entered(self) -> None:
        code = self.voucher.text().strip()
        self.voucher_message.clear_message()
        if not code:
            if self.cart is not None and self.cart.voucher_code:
                cart_id, carts = self.cart.id, self._carts
                self.desk.tasks.write(lambda: carts.remove_voucher(cart_id), self._show_cart,
                                      lambda exc: self.desk.messages.show_error(exc, near=self.voucher_message))
            return
        if looks_like_reference(code):
            orders, conference_id = self.desk.services.orders, self.desk.conference_id
            self.desk.tasks.read(lambda: orders.by_reference(code.upper(), conference_id=conference_id),
                                 lambda summary: self._on_reference_found(summary),
                                 lambda exc: self._apply_voucher(code) if isinstance(exc, NotFound)
                                 else self.desk.messages.show_error(exc, near=self.voucher_message))
            return
        self._apply_voucher(code)

    def _on_reference_found(self, summary: Any) -> None:
        self.voucher.clear()
        self.order_scanned.emit(summary.reference)

    def _apply_voucher(self, code: str) -> None:
        carts = self._carts
        self._with_cart(lambda cid: carts.apply_voucher(cid, code), self.voucher_message)

    # ------------------------------------------------------------------ attendee lookup

    def _on_attendee_lookup_requested(self, text: str) -> None:
        self._lookup_text = text
        self._lookup_timer.start()

    def _run_lookup(self) -> None:
        text, customers = self._lookup_text, self._customers
        self.desk.tasks.read(lambda: customers.find(text, limit=6), self.cart_panel.attendee.show_matches,
                             self.desk.messages.show_error, key="sell-lookup")

    # ------------------------------------------------------------------ payment

    def _on_pay_shortcut(self) -> None:
        # application-wide so it works whatever has focus; never behind an open dialog
        if self.isVisible() and self.payment_dialog is None and QApplication.activeModalWidget() is None:
            self.pay()

    def pay(self) -> None:
        """Check out the cart and open the payment dialog (Ctrl+Enter)."""
        attendee = self.cart_panel.attendee
        if self.cart is None or not self.cart.lines:
            self.desk.messages.error_text("The cart is empty. Click a ticket to add it first.",
                                          near=self.cart_panel.message)
            return
        if not attendee.walkup.isChecked() and not attendee.has_details():
            self.desk.messages.error_text(
                "Enter the attendee's name or email, or press “Walk-up, no details” (Alt+W).",
                near=attendee.message)
            attendee.name.setFocus()
            return
        cart = self.cart
        details = None if attendee.walkup.isChecked() else attendee.details()
        holders = self.cart_panel.holders.holders()
        picked = attendee.picked_customer
        customers, carts, checkout = self._customers, self._carts, self._checkout

        def work() -> Any:
            if details is not None:
                name, email, company = details
                customer = picked if picked is not None else customers.get_or_create(
                    name=name, email=email or None, company=company)
                if customer.id != cart.customer_id:
                    carts.assign_customer(cart.id, customer.id)
                return checkout.checkout(cart.id, billing_name=name, billing_email=email,
                                         billing_company=company, holders=holders)
            return checkout.checkout(cart.id, holders=holders)

        self.cart_panel.pay_button.setEnabled(False)

        def failed(exc: BaseException) -> None:
            self.cart_panel.pay_button.setEnabled(True)
            self.desk.messages.show_error(exc, near=self.cart_panel.message)

        self.desk.tasks.write(work, self._open_sale_payment, failed)

    def _open_sale_payment(self, order: Any) -> None:
        self.open_payment(order)
        self._walkup_order_id = order.id

    def open_payment(self, order: Any) -> None:
        """Take payment for a pending order (after checkout, or re-opened from Orders)."""
        credit_id = self._preferred_credit_id
        self.reset()
        self._walkup_order_id = None
        dialog = PaymentDialog(self.desk, order, self)
        dialog.paid.connect(self._on_payment_paid)
        dialog.left_pending.connect(self._on_payment_left_pending)
        self.payment_dialog = dialog
        dialog.open()
        if credit_id is not None and order.balance > 0:
            dialog.choose("credit", prefer_credit_id=credit_id)

    def use_credit_of(self, credit: Any) -> None:
        """Sell to the credit's owner and offer that credit first at payment (Credits: Apply)."""
        customers, carts = self._customers, self._carts
        cart_id = self.cart.id if self.cart is not None else None

        def work() -> tuple[Any, Any]:
            customer = customers.get(credit.customer_id)
            cart = carts.assign_customer(cart_id, customer.id) if cart_id is not None else None
            return customer, cart

        def done(result: tuple[Any, Any]) -> None:
            customer, cart = result
            attendee = self.cart_panel.attendee
            attendee.walkup.setChecked(False)
            attendee.name.setText(customer.name or "")
            attendee.email.setText(customer.email or "")
            attendee.company.setText(customer.company or "")
            attendee.picked_customer = customer
            self._preferred_credit_id = credit.id
            if cart is not None:
                self._show_cart(cart)
            self.desk.messages.info(
                f"Selling to {customer.label}: their credit of {self.desk.display.money(credit.remaining)} "
                "is offered first when you press Pay.", near=self.cart_panel.message)

        self.desk.tasks.write(work, done, lambda exc: self.desk.messages.show_error(exc, near=self.cart_panel.message))

    def _on_payment_paid(self, result: Any) -> None:
        self.payment_dialog = None
        dialog = ConfirmationDialog(self.desk, result, self)
        self.confirmation = dialog
        dialog.finished.connect(lambda _code: self._on_confirmation_closed())
        dialog.open()
        if result.order.id == self._walkup_order_id and self.desk.checkin_walkups:
            self._check_in_walkup(result.order.id, dialog)
        self._walkup_order_id = None
        # The sale is complete; the receipt and the drawer pulse follow on the device thread and a
        # printer fault shows on the confirmation and in the status bar with Retry.
        ReceiptJobs.of(self.desk).after_sale(result)
        self.sale_completed.emit(result.order)

    def _check_in_walkup(self, order_id: int, dialog: ConfirmationDialog) -> None:
        """CIN-5: the people who just paid at the desk are in; the confirmation says who."""
        checkin = self.desk.services.checkin
        dialog.expect_admitted()
        self.desk.tasks.write(lambda: checkin.admit_order(order_id), dialog.show_admitted,
                              dialog.show_admit_failed, owner=dialog)

    def _on_payment_left_pending(self, order: Any) -> None:
        self.payment_dialog = None
        if order.status == "pending":
            self.desk.messages.info(
                f"Order {order.reference} is waiting for payment and holds its tickets. Find it under "
                "Orders (F2) to take payment, or cancel it there to release them.")
        else:
            self.desk.messages.info(f"Order {order.reference} was cancelled; its tickets are on sale again.")
        self.refresh_catalog()   # the tiles show the stock the cancel released (or the hold took)

    def _on_confirmation_closed(self) -> None:
        self.confirmation = None
        self.catalog.setFocus()
