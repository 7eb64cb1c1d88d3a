"""Print one attendee's badge with the reprint guard: a reason for a reprint, a lead for the second one.

``BadgePrintPanel.print_attendee(attendee_id)`` is what the check-in screen calls too. The print runs
on the writer thread; a reprint without a reason comes back as ``ReprintNeedsReason`` and the panel
asks for one (``ReprintReasonDialog``) and tries again; the second reprint's ``PermissionDenied``
goes to the task runner's lead-approval dialog. The panel then shows "Badge printed 08:40".
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from boxoffice.services.printing.badges import BadgePrintView, ReprintNeedsReason


class ReprintReasonDialog(QDialog):
    """Why is this badge printed again? (lost, misspelt name, damaged)."""

    def __init__(self, message: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Reprint badge")
        layout = QVBoxLayout(self)
        text = QLabel(message)
        text.setWordWrap(True)
        layout.addWidget(text)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Reason, e.g. lost, name misspelt, damaged")
        label = QLabel("&Reason:")
        label.setBuddy(self.reason)
        layout.addWidget(label)
        layout.addWidget(self.reason)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Reprint")
        self.buttons.accepted.connect(self._accept_if_reason)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def _accept_if_reason(self) -> None:
        if self.reason.text().strip():
            self.accept()
        else:
            self.reason.setFocus()


class BadgePrintPanel(QWidget):
    """An access-code field, Print badge, and the last print's line. ``printed(view)`` after each print."""

    printed = Signal(object)

    def __init__(self, desk: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._desk = desk
        self._attendee_id: int | None = None
        self.dialog: ReprintReasonDialog | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.code = QLineEdit()
        self.code.setPlaceholderText("Access code")
        label = QLabel("Print a badge, access &code:")
        label.setBuddy(self.code)
        self.print_button = QPushButton("&Print badge")
        self.status = QLabel("")
        layout.addWidget(label)
        layout.addWidget(self.code, 1)
        layout.addWidget(self.print_button)
        layout.addWidget(self.status, 2)
        self.print_button.clicked.connect(self._print_code)
        self.code.returnPressed.connect(self._print_code)

    def _print_code(self) -> None:
        code = self.code.text().strip()
        if not code:
            self.code.setFocus()
            return
        badges, conference_id = self._desk.services.badges, self._desk.conference_id
        self._desk.tasks.read(lambda: badges.by_code(conference_id, code),
                              lambda badge: self.print_attendee(badge.attendee_id), self._failed, owner=self)

    def print_attendee(self, attendee_id: int, reason: str = "") -> None:
        """Print (or, with ``reason``, reprint) the attendee's badge on the desk's badge printer."""
        self._attendee_id = attendee_id
        badges = self._desk.services.badges
        self.status.setText("Printing badge…")
        self._desk.tasks.write(lambda: badges.print_badge(attendee_id, reason=reason), self._done, self._failed,
                               owner=self)

    def _done(self, view: BadgePrintView) -> None:
        self.status.setText(view.label)
        self.printed.emit(view)

    def _failed(self, error: BaseException) -> None:
        if isinstance(error, ReprintNeedsReason) and self._attendee_id is not None:
            self.status.setText("")
            self.dialog = ReprintReasonDialog(str(error), self)
            attendee_id = self._attendee_id
            self.dialog.accepted.connect(lambda: self.print_attendee(attendee_id, self._reason()))
            self.dialog.open()
            return
        self.status.setText(str(error) if hasattr(error, "field") else "Badge not printed.")
        self._desk.messages.show_error(error)

    def _reason(self) -> str:
        return self.dialog.reason.text().strip() if self.dialog is not None else ""
