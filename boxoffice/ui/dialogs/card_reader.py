"""Card reader dialog: sends the balance to the reader, shows progress, allows cancel, shows a decline."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QProgressBar, QPushButton, QVBoxLayout, QWidget

from boxoffice.errors import UserError
from boxoffice.money import format_money
from boxoffice.services.money.card_payments import CardPaymentService
from boxoffice.ui.dialogs.card_attempt import CardAttemptDialog
from boxoffice.ui.tasks import TaskRunner

CHECK_MS = 1_000


class CardReaderDialog(CardAttemptDialog):
    """The balance on the desk's card reader until the buyer's card is charged, declined or cancelled."""

    def __init__(
        self,
        cards: CardPaymentService,
        tasks: TaskRunner,
        *,
        order_id: int,
        reader_id: str,
        operator_id: int | None = None,
        check_ms: int = CHECK_MS,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(cards, tasks, title="Card payment", order_id=order_id, operator_id=operator_id,
                         check_ms=check_ms, status="Sending the amount to the card reader…", parent=parent)
        self._reader_id = reader_id
        self._checking = False
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.cancel_button = QPushButton("Cancel payment")
        self.retry_button = QPushButton("Try again")
        self.close_button = QPushButton("Close")
        self.retry_button.hide()
        self.close_button.hide()
        buttons = QHBoxLayout()
        for button in (self.cancel_button, self.retry_button, self.close_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.progress)
        layout.addLayout(buttons)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self.retry_button.clicked.connect(self.start)
        self.close_button.clicked.connect(self.reject)

    def start(self) -> None:
        self._set_waiting("Sending the amount to the card reader…")
        order_id, reader_id, operator_id = self._order_id, self._reader_id, self._operator_id
        self._tasks.read(
            lambda: self._cards.start_terminal_payment(order_id, reader_id, operator_id=operator_id),
            self._on_started,
            self._on_error,
            owner=self,
        )

    def _set_waiting(self, text: str) -> None:
        self.status.setText(text)
        self.progress.show()
        self.cancel_button.show()
        self.cancel_button.setEnabled(True)
        self.retry_button.hide()
        self.close_button.hide()
        self.in_flight_changed.emit(True)

    def _on_started(self, attempt: Any) -> None:
        self.attempt = attempt
        self.status.setText(
            f"{format_money(attempt.amount, attempt.currency)} on the reader. "
            "Ask the buyer to tap, insert or swipe their card."
        )
        self._timer.start()

    def _check(self) -> None:
        if self._checking or self.attempt is None:
            return
        self._checking = True
        payment_id = self.attempt.payment_id
        self._tasks.read(
            lambda: self._cards.check_terminal_payment(payment_id),
            self._on_checked,
            self._on_check_error,
            owner=self,
        )

    def _on_checked(self, attempt: Any) -> None:
        self._checking = False
        self.attempt = attempt
        if attempt.status == "succeeded":
            self._paid(attempt, f"Paid {format_money(attempt.amount, attempt.currency)} by "
                                f"{attempt.card_brand or 'card'} ending {attempt.card_last4 or '????'}.")
        elif attempt.status == "failed":
            self._finish(
                f"{attempt.failure_reason or 'The payment failed.'} The order is still open: try "
                "again or take another payment method.",
                failed=True,
            )

    def _on_check_error(self, exc: BaseException) -> None:
        self._checking = False  # network trouble: keep waiting, the next tick tries again
        if isinstance(exc, UserError):
            self.status.setText(f"{exc} Still waiting for the reader…")

    def _on_cancel_clicked(self) -> None:
        self.cancel_button.setEnabled(False)
        if self.attempt is None:
            self._finish("Cancelled.", failed=True)
            return
        payment_id = self.attempt.payment_id
        self.status.setText("Cancelling on the reader…")
        self._tasks.read(
            lambda: self._cards.cancel(payment_id), self._on_cancelled, self._on_error, owner=self
        )

    def _on_cancelled(self, attempt: Any) -> None:
        self.attempt = attempt
        self._finish("Payment cancelled. Nothing was charged; the order is still open.", failed=True)

    def _finish(self, text: str, *, failed: bool = False) -> None:
        super()._finish(text, failed=failed)
        self.progress.hide()
        self.cancel_button.hide()
        self.retry_button.setVisible(failed)
        self.close_button.setVisible(failed)
