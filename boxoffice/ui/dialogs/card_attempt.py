"""What the card reader and pay-on-phone dialogs share: one card attempt, checked on a timer until it ends."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QDialog, QLabel, QWidget

from boxoffice.errors import UserError
from boxoffice.services.money.card_payments import CardAttemptView, CardPaymentService
from boxoffice.ui.tasks import TaskRunner


class CardAttemptDialog(QDialog):
    """Signals: ``payment_finished(CardAttemptView)`` once the card was charged (the dialog then accepts),
    ``in_flight_changed(bool)`` so the sync controller polls fast meanwhile.

    Subclasses start the attempt, ask for its state in ``_check`` (every ``check_ms`` once
    ``_timer`` runs) and show the end in ``_finish``.
    """

    payment_finished = Signal(object)
    in_flight_changed = Signal(bool)

    def __init__(self, cards: CardPaymentService, tasks: TaskRunner, *, title: str, order_id: int,
                 operator_id: int | None, check_ms: int, status: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self._cards, self._tasks = cards, tasks
        self._order_id, self._operator_id = order_id, operator_id
        self.attempt: CardAttemptView | None = None
        self.status = QLabel(status)
        self.status.setWordWrap(True)
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._timer = QTimer(self)
        self._timer.setInterval(check_ms)
        self._timer.timeout.connect(self._check)

    def _check(self) -> None:
        raise NotImplementedError

    def _finish(self, text: str, *, failed: bool = False) -> None:
        """The attempt is over: stop checking and say how it ended."""
        self._timer.stop()
        self.status.setText(text)
        self.in_flight_changed.emit(False)

    def _paid(self, attempt: Any, text: str) -> None:
        self._finish(text)
        self.payment_finished.emit(attempt)
        self.accept()

    def _on_error(self, exc: BaseException) -> None:
        self._finish(str(exc) if isinstance(exc, UserError) else "Unexpected error; see the log.", failed=True)

    def done(self, result: int) -> None:  # closing by any route stops the checks
        self._timer.stop()
        super().done(result)
