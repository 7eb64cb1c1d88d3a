"""The button row every desk dialog ends with: a way out on the left, the primary action on the right."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QHBoxLayout, QPushButton


def dialog_buttons(dialog: QDialog, *, leave: str, primary: str) -> tuple[QHBoxLayout, QPushButton]:
    """``leave`` rejects the dialog; ``primary`` is the default (Enter) button, returned for wiring."""
    row = QHBoxLayout()
    leave_button = QPushButton(leave)
    action = QPushButton(primary)
    action.setProperty("role", "primary")
    action.setDefault(True)
    row.addWidget(leave_button)
    row.addStretch(1)
    row.addWidget(action)
    leave_button.clicked.connect(dialog.reject)
    return row, action
