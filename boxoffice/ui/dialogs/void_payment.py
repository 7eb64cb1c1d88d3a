"""Void a desk payment recorded by mistake (leads; a volunteer gets a lead's approval).

Cash, manual, comp and store-credit payments of a pending or paid order can be voided; card
money is refunded instead. The reason is required and goes to the audit log.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from boxoffice.ui.desk import Desk
from boxoffice.ui.receipt import METHOD_LABELS
from boxoffice.ui.widgets.inline_message import InlineMessage

VOIDABLE_METHODS = ("cash", "manual", "comp", "credit")


def voidable_payments(detail: Any) -> list[Any]:
    """The payments of ``detail`` a lead may void (the service checks again)."""
    if detail is None or detail.summary.status not in ("pending", "paid"):
        return []
    return [p for p in detail.payments if p.status == "succeeded" and p.method in VOIDABLE_METHODS]


class VoidPaymentDialog(QDialog):
    """Signals: ``voided(PaymentResult)`` once the service voided the payment."""

    voided = Signal(object)

    def __init__(self, desk: Desk, detail: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk, self.detail = desk, detail
        self.setWindowTitle(f"Void a payment on {detail.summary.reference}")
        self.setMinimumWidth(520)
        money, when = desk.display.money, desk.display.when
        layout = QVBoxLayout(self)
        intro = QLabel("Void a payment that was recorded by mistake (wrong amount, wrong order or wrong "
                       "method). It will count for nothing; a paid order that is no longer covered goes "
                       "back to pending. Card payments are refunded instead.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.payment = QComboBox()
        for p in voidable_payments(detail):
            self.payment.addItem(f"{METHOD_LABELS.get(p.method, p.method)} {money(p.amount)} · {when(p.created_at)}",
                                 p.id)
        form.addRow("&Payment", self.payment)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Why, e.g. 'keyed 500 instead of 50'")
        form.addRow("&Reason", self.reason)
        layout.addLayout(form)
        self.message = InlineMessage()
        layout.addWidget(self.message)
        buttons = QHBoxLayout()
        self.cancel = QPushButton("Keep the payment")
        self.void = QPushButton("&Void payment")
        self.void.setProperty("role", "danger")
        buttons.addWidget(self.cancel)
        buttons.addStretch(1)
        buttons.addWidget(self.void)
        layout.addLayout(buttons)
        self.cancel.clicked.connect(self.reject)
        self.void.clicked.connect(self.submit)
        self.reason.returnPressed.connect(self.submit)
        self.void.setEnabled(self.payment.count() > 0)

    def submit(self) -> None:
        payment_id, reason = self.payment.currentData(), self.reason.text().strip()
        if payment_id is None:
            return
        if not reason:
            self.message.show_message("Say why the payment is voided; the reason goes to the audit log.")
            self.reason.setFocus()
            return
        payments = self.desk.services.payments
        self.void.setEnabled(False)
        self.desk.tasks.write(lambda: payments.void(payment_id, reason=reason), self._done, self._failed,
                              owner=self, approval=f"Void the payment {self.payment.currentText()} on order "
                                                   f"{self.detail.summary.reference}")

    def _done(self, result: Any) -> None:
        self.voided.emit(result)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.void.setEnabled(True)
        self.desk.messages.show_error(exc, near=self.message)
