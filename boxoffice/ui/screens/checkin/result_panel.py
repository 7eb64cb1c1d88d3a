"""The large result of one scan: the headline in colour, who it is, what to hand out, what to read, what next.

Signals: ``admit_requested()`` (Admit again / Admit, note read), ``pay_requested()`` (Not paid: take
the payment), ``undo_requested()``, ``redeem_requested(order_line_id)`` (hand out one add-on unit).
The buttons carry Alt mnemonics, so the scan field keeps the focus while the volunteer presses them.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from boxoffice.ui.formatting import Display

IDLE_HEADLINE = "Ready: scan a ticket or type a name"
# Outcomes whose result waits for a key (read the note, admit again, take the payment).
ACTIONS = {"attention": "&Admit: note read  [Alt+A]", "already_checked_in": "&Admit again (re-entry)  [Alt+A]"}


def _scaled(label: QLabel, factor: float, *, bold: bool = False) -> None:
    font = QFont(label.font())
    font.setPointSizeF(max(font.pointSizeF(), 9.0) * factor)
    font.setBold(bold)
    label.setFont(font)


class AddonRow(QWidget):
    """"Dinner: 0 of 1 used" and a Hand out button while units are left."""

    def __init__(self, use: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.use = use
        self.setObjectName("addonRow")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel(use.label if use.redeemable else f"{use.name}: {use.bought}")
        _scaled(self.label, 1.5)
        self.hand_out = QPushButton("Hand out one")
        self.hand_out.setVisible(use.redeemable)
        self.hand_out.setEnabled(use.redeemable and use.used < use.bought)
        self.hand_out.setAccessibleName(f"Hand out {use.name}")
        self.hand_out.setFocusPolicy(Qt.FocusPolicy.NoFocus)   # the scan field keeps the focus
        layout.addWidget(self.label, 1)
        layout.addWidget(self.hand_out)


class ResultPanel(QFrame):
    """Shows one ``ScanResult`` (or the idle prompt). ``tone`` is "green", "amber", "red" or "idle"."""

    admit_requested = Signal()
    pay_requested = Signal()
    undo_requested = Signal()
    redeem_requested = Signal(int)

    def __init__(self, display: Display, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("checkinResult")
        self._display = display
        self.result: Any = None
        self.addon_rows: list[AddonRow] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 18, 24, 18)
        self.headline = QLabel(IDLE_HEADLINE)
        self.headline.setObjectName("checkinHeadline")
        self.headline.setWordWrap(True)
        _scaled(self.headline, 3.2, bold=True)
        self.name = QLabel()
        self.name.setObjectName("checkinName")
        self.name.setWordWrap(True)
        self.name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        _scaled(self.name, 2.6, bold=True)
        self.ticket = QLabel()
        self.ticket.setObjectName("checkinTicket")
        self.ticket.setWordWrap(True)
        _scaled(self.ticket, 1.7)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        _scaled(self.detail, 1.4)
        self.notes = QLabel()
        self.notes.setObjectName("checkinNotes")
        self.notes.setWordWrap(True)
        _scaled(self.notes, 1.6, bold=True)
        self._addons = QVBoxLayout()
        self.next_step = QLabel()
        self.next_step.setObjectName("checkinNext")
        self.next_step.setWordWrap(True)
        _scaled(self.next_step, 1.4, bold=True)
        buttons = QHBoxLayout()
        self.admit_button = QPushButton(ACTIONS["attention"])
        self.admit_button.setProperty("role", "primary")
        self.pay_button = QPushButton("Take &payment  [Alt+P]")
        self.pay_button.setProperty("role", "primary")
        self.undo_button = QPushButton("&Undo check-in…  [Alt+U]")
        self.undo_button.setToolTip("Undo this check-in (a lead approves; asks for a reason)")
        for button in (self.admit_button, self.pay_button, self.undo_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setMinimumHeight(52)
            buttons.addWidget(button)
        buttons.addStretch(1)
        for widget in (self.headline, self.name, self.ticket, self.detail, self.notes):
            layout.addWidget(widget)
        layout.addLayout(self._addons)
        layout.addWidget(self.next_step)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.admit_button.clicked.connect(self.admit_requested)
        self.pay_button.clicked.connect(self.pay_requested)
        self.undo_button.clicked.connect(self.undo_requested)
        self.clear()

    @property
    def tone(self) -> str:
        return str(self.property("tone"))

    def _set_tone(self, tone: str) -> None:
        self.setProperty("tone", tone)
        # every label re-reads the style: a label left unpolished keeps the previous result's colour
        for widget in (self, *self.findChildren(QLabel)):
            widget.style().unpolish(widget)
            widget.style().polish(widget)

    def clear(self) -> None:
        """Back to the idle prompt (the result's time is up, or Esc)."""
        self.result = None
        self._set_tone("idle")
        self.headline.setText(IDLE_HEADLINE)
        for label in (self.name, self.ticket, self.detail, self.notes, self.next_step):
            label.clear()
            label.hide()
        self._set_addons(())
        self.admit_button.hide()
        self.pay_button.hide()
        self.undo_button.hide()

    def show_result(self, result: Any, *, extra: str = "") -> None:
        """Show ``result``; ``extra`` is added to the detail (e.g. the change to give)."""
        self.result = result
        self._set_tone(result.colour)
        self.headline.setText(result.headline)
        attendee = result.attendee
        self._show(self.name, attendee.name or attendee.access_code if attendee is not None else "")
        ticket = ""
        if attendee is not None:
            parts = [attendee.ticket_type or "Ticket", f"code {attendee.access_code}",
                     f"order {attendee.order_reference}"]
            if attendee.company:
                parts.insert(0, attendee.company)
            ticket = " · ".join(parts)
        self._show(self.ticket, ticket)
        self._show(self.detail, "\n".join(t for t in (result.detail, extra) if t))
        notes = attendee.attention if attendee is not None else ""
        self._show(self.notes, f"Note: {notes}" if notes else "")
        self._set_addons(result.addons if result.outcome in ("admitted", "already_checked_in") else ())
        self._show(self.next_step, result.next_step)
        action = ACTIONS.get(result.outcome)
        self.admit_button.setVisible(action is not None)
        if action is not None:
            self.admit_button.setText(action)
        self.pay_button.setVisible(result.outcome == "not_paid" and result.order_id is not None)
        self.undo_button.setVisible(result.check_in_id is not None
                                    and result.outcome in ("admitted", "already_checked_in"))

    def add_line(self, result: Any, text: str) -> None:
        """Add ``text`` to the detail of ``result`` if it is still the one shown ("Badge printed 08:40")."""
        if result is self.result and text:
            current = self.detail.text()
            self._show(self.detail, f"{current}\n{text}" if current else text)

    def show_problem(self, text: str) -> None:
        """A scan that could not be checked (the database is busy, nobody is signed in): red, with why."""
        self.clear()
        self._set_tone("red")
        self.headline.setText("Not checked in")
        self._show(self.detail, text)
        self._show(self.next_step, "Scan again; if it happens again, ask the desk lead.")

    def update_addons(self, addons: tuple[Any, ...]) -> None:
        """After a hand-out: the new used/bought counts."""
        self._set_addons(addons)

    def waits_for_key(self) -> bool:
        """A result the volunteer must act on stays longer than a plain one."""
        return self.result is not None and (self.admit_button.isVisible() or self.pay_button.isVisible())

    def _show(self, label: QLabel, text: str) -> None:
        label.setText(text)
        label.setVisible(bool(text))

    def _set_addons(self, addons: tuple[Any, ...]) -> None:
        for row in self.addon_rows:
            self._addons.removeWidget(row)
            row.deleteLater()
        self.addon_rows = []
        for use in addons:
            row = AddonRow(use)
            row.hand_out.clicked.connect(lambda _checked=False, line=use.order_line_id: self.redeem_requested.emit(line))
            self._addons.addWidget(row)
            self.addon_rows.append(row)
