"""The built-in pages of the payment dialog: cash, store credit, comp and manual/other."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol, TypeVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from boxoffice.money import parse_amount
from boxoffice.ui.desk import Desk


class PaymentHost(Protocol):
    """What a payment page may use: the dialog implements it (card pages use it too)."""

    desk: Desk
    order: Any   # the OrderSummary as it is now (balance updated after each payment)

    def record(self, work: Any, approval: str = "") -> None:
        """Run ``work()`` (returning a PaymentResult) on the writer; the dialog handles the result.
        ``approval`` says what a lead approves if the operator may not do it alone."""

    def record_cash(self, work: Any) -> None:
        """``record`` for cash into the drawer: asks to open a cash shift when none is open."""

    def fail(self, text: str) -> None:
        """Show a problem the page found itself (bad input) next to the Pay button."""


_W = TypeVar("_W", bound=QWidget)


def _big(widget: _W, factor: float) -> _W:
    font = widget.font()
    font.setPointSizeF(font.pointSizeF() * factor)
    font.setBold(True)
    widget.setFont(font)
    return widget


class CashPage(QWidget):
    """Tendered amount, quick note buttons and the change due, large."""

    submitted = Signal()

    def __init__(self, host: PaymentHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._host = host
        layout = QVBoxLayout(self)
        self.tendered = QLineEdit()
        self.tendered.setPlaceholderText("Cash handed over, e.g. 50")
        self.tendered.setAccessibleName("Cash tendered")
        _big(self.tendered, 1.6)
        form = QFormLayout()
        form.addRow("Cash &tendered", self.tendered)
        layout.addLayout(form)
        notes = QGridLayout()
        self.exact = QPushButton("Exact")
        self.exact.setProperty("role", "quick")
        self.exact.clicked.connect(lambda: self._set_tendered(str(self._host.order.balance)))
        notes.addWidget(self.exact, 0, 0)
        self.note_buttons: list[QPushButton] = []
        for index, note in enumerate(host.desk.quick_cash_notes, start=1):
            button = QPushButton(host.desk.display.money(Decimal(note)))
            button.setProperty("role", "quick")
            button.clicked.connect(lambda _=False, n=note: self._set_tendered(str(n)))
            notes.addWidget(button, index // 6, index % 6)
            self.note_buttons.append(button)
        layout.addLayout(notes)
        caption = self.caption = QLabel("Change due")
        self.change = _big(QLabel(), 2.6)
        self.change.setObjectName("changeDue")
        self.change.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(caption)
        layout.addWidget(self.change)
        layout.addStretch(1)
        self.tendered.textChanged.connect(self.update_change)
        self.tendered.returnPressed.connect(self.submitted)
        self.update_change()

    def _set_tendered(self, text: str) -> None:
        """A quick amount: the cursor goes back to the tendered field, where Enter takes the cash."""
        self.tendered.setText(text)
        self.tendered.setFocus()

    def activate(self) -> None:
        self.tendered.setFocus()
        self.tendered.selectAll()
        self.update_change()

    def update_change(self) -> None:
        balance = self._host.order.balance
        money = self._host.desk.display.money
        try:
            tendered = parse_amount(self.tendered.text())
        except ValueError:
            self.change.setText(money(Decimal("0.00")))
            return
        short = tendered < balance
        self.change.setProperty("short", short)
        self.change.style().unpolish(self.change)
        self.change.style().polish(self.change)
        self.caption.setText("Still due after this cash" if short else "Change due")
        self.change.setText(money(balance - tendered) if short else money(tendered - balance))

    def submit(self) -> None:
        try:
            tendered = parse_amount(self.tendered.text())
        except ValueError as exc:
            self._host.fail(str(exc))
            self.tendered.setFocus()
            return
        order_id, operator = self._host.order.id, self._host.desk.operator_id
        payments = self._host.desk.services.payments
        self._host.record_cash(lambda: payments.pay_cash(order_id, tendered, operator_id=operator))


class CreditPage(QWidget):
    """The attendee's available store credits; the remainder is paid another way."""

    def __init__(self, host: PaymentHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._host = host
        self.preferred_id: int | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Store credits of this attendee"))
        self.credits = QListWidget()
        layout.addWidget(self.credits, 1)
        self.empty = QLabel("This attendee has no store credit available.")
        self.empty.setObjectName("muted")
        layout.addWidget(self.empty)
        self.credits.itemActivated.connect(lambda _item: self.submit())

    def activate(self) -> None:
        desk, order = self._host.desk, self._host.order
        credits_service = desk.services.credits
        desk.tasks.read(lambda: credits_service.available_for(order.customer_id, desk.conference_id),
                        self.show_credits, desk.messages.show_error, key="payment-credits")

    def show_credits(self, credits: list[Any]) -> None:
        money = self._host.desk.display.money
        self.credits.clear()
        for credit in credits:
            source = f" from {credit.source_order_reference}" if credit.source_order_reference else ""
            item = QListWidgetItem(f"{money(credit.remaining)} left of {money(credit.amount)}{source}")
            item.setData(Qt.ItemDataRole.UserRole, credit.id)
            self.credits.addItem(item)
        self.empty.setVisible(not credits)
        if credits:
            ids = [credit.id for credit in credits]
            self.credits.setCurrentRow(ids.index(self.preferred_id) if self.preferred_id in ids else 0)
            self.credits.setFocus()

    def submit(self) -> None:
        item = self.credits.currentItem()
        if item is None:
            self._host.fail("Pick a store credit first (or choose another way to pay).")
            return
        credit_id = int(item.data(Qt.ItemDataRole.UserRole))
        order_id, operator = self._host.order.id, self._host.desk.operator_id
        payments = self._host.desk.services.payments
        self._host.record(lambda: payments.apply_credit(order_id, credit_id, operator_id=operator))


class CompPage(QWidget):
    """Give the order away, with a reason that is kept on the payment."""

    submitted = Signal()

    def __init__(self, host: PaymentHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._host = host
        layout = QFormLayout(self)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("e.g. Speaker, volunteer, sponsor guest")
        layout.addRow("&Reason", self.reason)
        self.reason.returnPressed.connect(self.submitted)

    def activate(self) -> None:
        self.reason.setFocus()

    def submit(self) -> None:
        reason = self.reason.text().strip()
        if not reason:
            self._host.fail("Type why this order is free (for example “Speaker”).")
            self.reason.setFocus()
            return
        order_id, operator = self._host.order.id, self._host.desk.operator_id
        payments = self._host.desk.services.payments
        money, order = self._host.desk.display.money, self._host.order
        self._host.record(lambda: payments.comp(order_id, reason=reason, operator_id=operator),
                          approval=f"Comp order {order.reference}: {money(order.balance)} free ({reason})")


class ManualPage(QWidget):
    """Cheque, bank transfer or other money recorded by hand."""

    submitted = Signal()

    def __init__(self, host: PaymentHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._host = host
        layout = QFormLayout(self)
        self.amount = QLineEdit()
        self.reference = QLineEdit()
        self.reference.setPlaceholderText("Cheque number, transfer id…")
        self.note = QLineEdit()
        layout.addRow("&Amount", self.amount)
        layout.addRow("Re&ference", self.reference)
        layout.addRow("N&ote", self.note)
        for field in (self.amount, self.reference, self.note):
            field.returnPressed.connect(self.submitted)

    def activate(self) -> None:
        self.amount.setText(str(self._host.order.balance))
        self.amount.setFocus()
        self.amount.selectAll()

    def submit(self) -> None:
        try:
            amount = parse_amount(self.amount.text())
        except ValueError as exc:
            self._host.fail(str(exc))
            return
        reference, note = self.reference.text().strip(), self.note.text().strip()
        order_id, operator = self._host.order.id, self._host.desk.operator_id
        payments = self._host.desk.services.payments
        self._host.record(lambda: payments.pay_manual(order_id, amount, reference=reference, note=note,
                                                      operator_id=operator),
                          approval=f"Record {self._host.desk.display.money(amount)} paid by hand on order "
                                   f"{self._host.order.reference}")
