"""Asks why a check-in is undone (a lead approves the undo itself; the reason goes into the audit log)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QVBoxLayout, QWidget

from boxoffice.ui.widgets.button_row import dialog_buttons
from boxoffice.ui.widgets.inline_message import InlineMessage


class UndoCheckInDialog(QDialog):
    """Accepted only with a reason; ``reason()`` is the text typed."""

    def __init__(self, who: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Undo check-in")
        self.setMinimumWidth(480)
        layout = QVBoxLayout(self)
        intro = QLabel(f"Undo the check-in of {who}? They count as expected again. A lead approves this.")
        intro.setWordWrap(True)
        label = QLabel("&Reason (for the audit log)")
        self.reason_field = QLineEdit()
        self.reason_field.setPlaceholderText("e.g. scanned the wrong badge")
        label.setBuddy(self.reason_field)
        self.message = InlineMessage()
        layout.addWidget(intro)
        layout.addWidget(label)
        layout.addWidget(self.reason_field)
        layout.addWidget(self.message)
        row, self.undo_button = dialog_buttons(self, leave="Keep the check-in", primary="Undo check-in")
        layout.addLayout(row)
        self.undo_button.clicked.connect(self._on_undo_clicked)
        self.reason_field.returnPressed.connect(self._on_undo_clicked)

    def reason(self) -> str:
        return " ".join(self.reason_field.text().split())

    def _on_undo_clicked(self) -> None:
        if not self.reason():
            self.message.show_message("Type why the check-in is undone, then press Undo check-in.")
            self.reason_field.setFocus()
            return
        self.accept()
