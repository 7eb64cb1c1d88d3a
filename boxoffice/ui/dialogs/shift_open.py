"""Open the desk's cash drawer shift: count the starting float in, with quick amounts.

``shift_notifier().changed`` is emitted (on the GUI thread) whenever a dialog of this desk opens
or closes a shift, and ``cash_moved`` when cash went in or out, so the status bar and the Shifts
screen follow at once (they also refresh on a slow timer for other windows' changes).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from boxoffice.money import parse_amount
from boxoffice.ui.desk import Desk
from boxoffice.ui.widgets.inline_message import InlineMessage

QUICK_FLOATS = (0, 50, 100, 150, 200, 250)


class ShiftNotifier(QObject):
    """Signals: ``changed(ShiftView | None)`` after a shift was opened (the view) or closed;
    ``cash_moved()`` after this desk took a cash payment or paid a cash refund."""

    changed = Signal(object)
    cash_moved = Signal()


_notifier: ShiftNotifier | None = None


def shift_notifier() -> ShiftNotifier:
    """The one notifier of this process (created on first use, on the GUI thread)."""
    global _notifier
    if _notifier is None:
        _notifier = ShiftNotifier()
    return _notifier


class ShiftOpenDialog(QDialog):
    """Signals: ``opened(ShiftView)`` once the service opened the shift (the dialog then accepts)."""

    opened = Signal(object)

    def __init__(self, desk: Desk, parent: QWidget | None = None, *, reason: str = "") -> None:
        super().__init__(parent)
        self.desk = desk
        self._busy = False
        self.setWindowTitle("Open cash shift")
        self.setModal(True)
        self.setMinimumWidth(680)
        layout = QVBoxLayout(self)
        title = QLabel(f"Open the cash drawer at {desk.services.ctx.desk_name}")
        title.setObjectName("sectionTitle")
        layout.addWidget(title)
        self.reason = QLabel(reason or "Count the notes and coins you put in the drawer to start with "
                                       "(the float). Every cash payment and cash refund from now on "
                                       "belongs to this shift until it is closed and counted.")
        self.reason.setWordWrap(True)
        self.reason.setObjectName("muted")
        layout.addWidget(self.reason)

        form = QFormLayout()
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("e.g. 150.00")
        self.amount.setAccessibleName("Starting float")
        font = self.amount.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.amount.setFont(font)
        form.addRow("Starting &float", self.amount)
        layout.addLayout(form)
        quick = QGridLayout()
        self.quick_buttons: list[QPushButton] = []
        for index, value in enumerate(QUICK_FLOATS):
            button = QPushButton(desk.display.money(Decimal(value)))
            button.setProperty("role", "quick")
            button.setAutoDefault(False)
            button.clicked.connect(lambda _=False, v=value: self._set_amount(v))
            quick.addWidget(button, 0, index)
            self.quick_buttons.append(button)
        layout.addLayout(quick)
        note_form = QFormLayout()
        self.note = QLineEdit()
        self.note.setPlaceholderText("Optional, e.g. who counted the float")
        note_form.addRow("&Note", self.note)
        layout.addLayout(note_form)

        self.message = InlineMessage()
        layout.addWidget(self.message)
        buttons = QHBoxLayout()
        self.cancel = QPushButton("Not now")
        self.cancel.setAutoDefault(False)
        self.confirm = QPushButton("Open shift")
        self.confirm.setProperty("role", "primary")
        self.confirm.setAutoDefault(False)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel)
        buttons.addWidget(self.confirm)
        layout.addLayout(buttons)
        self.cancel.clicked.connect(self.reject)
        self.confirm.clicked.connect(self.submit)
        self.amount.returnPressed.connect(self.submit)
        self.note.returnPressed.connect(self.submit)
        self.amount.textEdited.connect(lambda _t: self.message.clear_message())
        self.amount.setFocus()

    def _set_amount(self, value: int) -> None:
        self.amount.setText(f"{value}.00")
        self.message.clear_message()
        self.amount.setFocus()

    def submit(self) -> None:
        if self._busy:
            return
        text = self.amount.text()
        if not text.strip():
            self._fail("Type the starting float (0.00 if the drawer starts empty), or pick an amount.")
            return
        try:
            amount = parse_amount(text)
        except ValueError as exc:
            self._fail(str(exc))
            return
        desk, note = self.desk, self.note.text().strip()
        shifts, conference_id = desk.services.shifts, desk.conference_id
        self._busy = True
        self.confirm.setEnabled(False)
        desk.tasks.write(lambda: shifts.open(amount, conference_id=conference_id, note=note),
                         self._on_opened, self._on_failed, owner=self)

    def _fail(self, text: str) -> None:
        self.desk.messages.error_text(text, near=self.message)
        self.amount.setFocus()
        self.amount.selectAll()

    def _on_opened(self, shift: Any) -> None:
        self._busy = False
        self.opened.emit(shift)
        shift_notifier().changed.emit(shift)
        self.accept()

    def _on_failed(self, exc: BaseException) -> None:
        self._busy = False
        self.confirm.setEnabled(True)
        self.desk.messages.show_error(exc, near=self.message)
