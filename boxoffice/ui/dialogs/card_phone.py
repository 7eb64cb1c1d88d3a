"""Pay-on-your-phone dialog: the Checkout Session URL as a large QR code; completion arrives by event sync."""

from __future__ import annotations

import io
from typing import Any

import segno
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from boxoffice.money import format_money
from boxoffice.services.money.card_payments import CardPaymentService
from boxoffice.ui.dialogs.card_attempt import CardAttemptDialog
from boxoffice.ui.tasks import TaskRunner

CHECK_MS = 2_000


def qr_pixmap(url: str, *, scale: int = 8) -> QPixmap:
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=scale, border=2)
    pixmap = QPixmap()
    pixmap.loadFromData(buffer.getvalue(), "PNG")
    return pixmap


class CardPhoneDialog(CardAttemptDialog):
    """A Stripe Checkout link as a QR code; the payment's end arrives by event sync, checked here."""

    def __init__(
        self,
        cards: CardPaymentService,
        tasks: TaskRunner,
        *,
        order_id: int,
        operator_id: int | None = None,
        check_ms: int = CHECK_MS,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(cards, tasks, title="Pay on your phone", order_id=order_id, operator_id=operator_id,
                         check_ms=check_ms, status="Creating the payment link…", parent=parent)
        self.status.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.qr = QLabel()
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.url = QLabel("")
        self.url.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.cancel_button = QPushButton("Cancel link")
        self.close_button = QPushButton("Close")
        self.close_button.hide()
        layout = QVBoxLayout(self)
        for widget in (self.status, self.qr, self.url, self.cancel_button, self.close_button):
            layout.addWidget(widget)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.close_button.clicked.connect(self.reject)

    def start(self) -> None:
        order_id, operator_id = self._order_id, self._operator_id
        self.in_flight_changed.emit(True)
        self._tasks.read(
            lambda: self._cards.start_checkout_session(order_id, operator_id=operator_id),
            self._on_started,
            self._on_error,
            owner=self,
        )

    def _on_started(self, attempt: Any) -> None:
        self.attempt = attempt
        self.qr.setPixmap(qr_pixmap(attempt.checkout_url))
        self.url.setText(attempt.checkout_url)
        self.status.setText(f"Scan to pay {format_money(attempt.amount, attempt.currency)} on your phone.")
        self._timer.start()

    def _check(self) -> None:
        if self.attempt is None:
            return
        payment_id = self.attempt.payment_id
        self._tasks.read(lambda: self._cards.get(payment_id), self._on_checked, lambda exc: None, owner=self)

    def _on_checked(self, attempt: Any) -> None:
        self.attempt = attempt
        if attempt.status == "succeeded":
            self._paid(attempt, f"Paid {format_money(attempt.amount, attempt.currency)}. Thank you!")
        elif attempt.status == "failed":
            self._finish(f"{attempt.failure_reason} The order is still open.")
        elif attempt.status == "processing":
            self.status.setText("Payment submitted; waiting for the bank to confirm…")

    def _on_cancel_clicked(self) -> None:
        if self.attempt is None:
            self._finish("Cancelled.")
            return
        payment_id = self.attempt.payment_id
        self.cancel_button.setEnabled(False)
        self._tasks.read(lambda: self._cards.cancel(payment_id), self._on_checked, self._on_error, owner=self)

    def _finish(self, text: str, *, failed: bool = False) -> None:
        super()._finish(text, failed=failed)
        self.qr.clear()
        self.cancel_button.hide()
        self.close_button.show()
