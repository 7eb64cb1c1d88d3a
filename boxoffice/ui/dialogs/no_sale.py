"""Open the cash drawer without a sale (PRN-2): a reason, then a lead's approval; audited either way."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QVBoxLayout, QWidget

from boxoffice.ui.desk import Desk
from boxoffice.ui.widgets.button_row import dialog_buttons
from boxoffice.ui.widgets.inline_message import InlineMessage


class NoSaleDialog(QDialog):
    """Asks why the drawer opens, then sends the pulse on the device thread.

    A volunteer's request goes to the lead-approval dialog (the task runner's override); the
    dialog closes once the drawer opened. Signals: ``opened(PrintOutcome)``.
    """

    opened = Signal(object)

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.setWindowTitle("Open the cash drawer (no sale)")
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        hint = QLabel("Opening the drawer without a sale needs a lead and goes to the audit log. "
                      "Say why (change for the float, a note stuck, counting).")
        hint.setWordWrap(True)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Reason, e.g. change for the float")
        label = QLabel("&Reason")
        label.setBuddy(self.reason)
        self.message = InlineMessage()
        layout.addWidget(hint)
        layout.addWidget(label)
        layout.addWidget(self.reason)
        layout.addWidget(self.message)
        row, self.open_button = dialog_buttons(self, leave="Cancel", primary="Open drawer")
        layout.addLayout(row)
        self.open_button.clicked.connect(self.submit)

    def submit(self) -> None:
        reason = self.reason.text().strip()
        if not reason:
            self.desk.messages.error_text("Give a reason for opening the drawer.", near=self.message)
            self.reason.setFocus()
            return
        printer = self.desk.printers.receipt_printer
        if not printer.strip():
            self.desk.messages.error_text(
                "This desk has no receipt printer, so no drawer is connected. Set the receipt printer "
                "under Settings (F10).", near=self.message)
            return
        service = self.desk.services.receipt_printer
        self.open_button.setEnabled(False)
        self.message.show_message("Opening the drawer…", kind="info")
        self.desk.tasks.device(lambda: service.open_drawer(printer, reason=reason), self._on_opened,
                               self._on_failed, owner=self, approvable=True)

    def _on_opened(self, outcome: object) -> None:
        self.open_button.setEnabled(True)
        self.opened.emit(outcome)
        self.accept()

    def _on_failed(self, exc: BaseException) -> None:
        self.open_button.setEnabled(True)
        self.desk.messages.show_error(exc, near=self.message)
