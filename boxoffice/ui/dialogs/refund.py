"""Refund an order in full or in part, to the original method or as store credit (REF-*, DEC-1/2).

Choosing units of its lines cancels them (DEC-10): their share goes back and their stock is released
(a seat of a workshop, one of two tickets). A refund typed as an amount is not tied to units and keeps
the stock sold (REF-9). A cash refund needs the desk's cash shift open: when the service says none is, the open-shift
dialog (``shift_prompt``) asks for the float and the refund is tried once more.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from boxoffice.errors import NoOpenShift
from boxoffice.money import ZERO, parse_amount, units_share
from boxoffice.ui.desk import Desk
from boxoffice.ui.dialogs.shift_open import ShiftOpenDialog, shift_notifier
from boxoffice.ui.widgets.inline_message import InlineMessage

METHOD_TEXT = {"credit": "Store credit", "cash": "Cash from the drawer", "card": "Back to the card",
               "manual": "Other (cheque, transfer)"}


class RefundDialog(QDialog):
    """Signals: ``refunded(RefundResult)`` after the service accepted the refund."""

    refunded = Signal(object)

    def __init__(self, desk: Desk, detail: Any, refundable: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk, self.detail, self.refundable = desk, detail, refundable
        self.shift_prompt: ShiftOpenDialog | None = None
        money = desk.display.money
        self.setWindowTitle(f"Refund {detail.summary.reference}")
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Up to {money(refundable.total_refundable)} can be refunded."))
        hint = QLabel("Choose the units to cancel: their money goes back and their stock is released. Or type "
                      "an amount for a refund that keeps everything sold (a goodwill gesture).")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.lines = QTableWidget(len(detail.lines), 4)
        self.lines.setHorizontalHeaderLabels(["Line", "Bought", "Cancel", "Worth"])
        self.lines.verticalHeader().hide()
        self.lines.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.lines.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.lines.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.unit_spins: list[QSpinBox] = []
        for row, line in enumerate(detail.lines):
            bought = f"{line.quantity}" + (f" ({line.cancelled} cancelled)" if line.cancelled else "")
            self.lines.setItem(row, 0, QTableWidgetItem(line.description))
            self.lines.setItem(row, 1, QTableWidgetItem(bought))
            spin = QSpinBox()
            spin.setRange(0, max(line.quantity - line.cancelled, 0))
            spin.setEnabled(line.quantity > line.cancelled)
            spin.setAccessibleName(f"Units of {line.description} to cancel")
            spin.valueChanged.connect(lambda _value: self._on_units_changed())
            self.lines.setCellWidget(row, 2, spin)
            self.unit_spins.append(spin)
            self.lines.setItem(row, 3, QTableWidgetItem(""))
        row_height = max((spin.sizeHint().height() for spin in self.unit_spins), default=28) + 6
        self.lines.verticalHeader().setDefaultSectionSize(row_height)
        self.lines.setFocusPolicy(Qt.FocusPolicy.NoFocus)   # Tab goes from one units box to the next
        layout.addWidget(self.lines)
        form = QFormLayout()
        self.amount = QLineEdit()
        self.full = QPushButton("Full amount")
        amount_row = QHBoxLayout()
        amount_row.addWidget(self.amount, 1)
        amount_row.addWidget(self.full)
        amount_label = QLabel("&Amount")
        amount_label.setBuddy(self.amount)   # a row of a layout gets no buddy by itself
        form.addRow(amount_label, amount_row)
        self.method = QComboBox()
        for key, most in refundable.by_method.items():
            if most > 0:
                self.method.addItem(f"{METHOD_TEXT.get(key, key)} (up to {money(most)})", key)
        credit_index = self.method.findData("credit")
        if credit_index >= 0:
            self.method.setCurrentIndex(credit_index)
        form.addRow("&Refund as", self.method)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("e.g. Cannot attend the workshop")
        form.addRow("R&eason", self.reason)
        layout.addLayout(form)
        self.message = InlineMessage()
        layout.addWidget(self.message)
        buttons = QHBoxLayout()
        cancel = QPushButton("Close")
        self.confirm = QPushButton("Refund")
        self.confirm.setProperty("role", "primary")
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.confirm)
        layout.addLayout(buttons)
        cancel.clicked.connect(self.reject)
        self.confirm.clicked.connect(lambda: self.submit())
        self.full.clicked.connect(lambda: self.amount.setText(str(refundable.total_refundable)))

    def showEvent(self, event: QShowEvent) -> None:
        """Show every line (up to six) without scrolling, at whatever scale the desk runs."""
        super().showEvent(event)
        QTimer.singleShot(0, self._fit_lines)   # once the table is laid out and styled

    def _fit_lines(self) -> None:
        rows = sum(self.lines.rowHeight(r) for r in range(min(self.lines.rowCount(), 6)))
        header = max(self.lines.horizontalHeader().height(), self.lines.horizontalHeader().sizeHint().height())
        self.lines.setMinimumHeight(header + rows + 2 * self.lines.frameWidth() + 2)
        self.resize(self.width(), max(self.height(), self.sizeHint().height()))

    def check_line(self, row: int) -> None:
        """Cancel every unit of the line left to cancel."""
        self.unit_spins[row].setValue(self.unit_spins[row].maximum())

    def set_units(self, row: int, units: int) -> None:
        self.unit_spins[row].setValue(units)

    def chosen_units(self) -> dict[int, int]:
        """Order line id → units to cancel, for the lines with any."""
        return {line.id: spin.value() for line, spin in zip(self.detail.lines, self.unit_spins) if spin.value()}

    def choose_method(self, key: str) -> None:
        index = self.method.findData(key)
        if index < 0:
            raise KeyError(key)
        self.method.setCurrentIndex(index)

    def submit(self, *, retried: bool = False) -> None:
        try:
            amount = parse_amount(self.amount.text())
        except ValueError as exc:
            self.desk.messages.error_text(str(exc), near=self.message)
            return
        method = self.method.currentData()
        if method is None:
            self.desk.messages.error_text("Nothing on this order can be refunded.", near=self.message)
            return
        order_id, reason, operator = self.detail.summary.id, self.reason.text().strip(), self.desk.operator_id
        refunds = self.desk.services.refunds
        units = self.chosen_units()
        self.confirm.setEnabled(False)

        def done(result: Any) -> None:
            if result.method == "cash":
                shift_notifier().cash_moved.emit()
            self.refunded.emit(result)
            self.accept()

        def failed(exc: BaseException) -> None:
            self.confirm.setEnabled(True)
            if isinstance(exc, NoOpenShift) and not retried:
                self.prompt_open_shift(str(exc))
                return
            self.desk.messages.show_error(exc, near=self.message)

        what = (f"Refund {self.desk.display.money(amount)} ({self.method.currentText()}) on order "
                f"{self.detail.summary.reference}")
        if units:
            what = f"Cancel {sum(units.values())} unit(s) and r{what[1:]}"
            self.desk.tasks.write(lambda: refunds.cancel_units(order_id, units, method=method, reason=reason,
                                                               operator_id=operator), done, failed, owner=self,
                                  approval=what)
        else:
            self.desk.tasks.write(lambda: refunds.refund(order_id, amount, method=method, reason=reason,
                                                         operator_id=operator), done, failed, owner=self,
                                  approval=what)

    def prompt_open_shift(self, reason: str) -> None:
        """Ask for the float and open the shift, then refund once more (cash needs an open drawer)."""
        if self.shift_prompt is not None:
            return
        dialog = ShiftOpenDialog(self.desk, self, reason=reason)
        dialog.opened.connect(lambda _shift: self.submit(retried=True))
        dialog.finished.connect(lambda _code: setattr(self, "shift_prompt", None))
        self.shift_prompt = dialog
        dialog.open()

    def _on_units_changed(self) -> None:
        """Units chosen: the amount is what they are worth (at most what is refundable), as the service
        computes it; none chosen: the amount is typed again."""
        money = self.desk.display.money
        total = ZERO
        for row, (line, spin) in enumerate(zip(self.detail.lines, self.unit_spins)):
            worth = units_share(line.line_total, line.quantity, line.cancelled, spin.value())
            total += worth
            cell = self.lines.item(row, 3)
            if cell is not None:
                cell.setText(money(worth) if spin.value() else "")
        chosen = any(spin.value() for spin in self.unit_spins)
        if chosen:
            self.amount.setText(str(min(total, self.refundable.total_refundable)))
        elif self.amount.isReadOnly():
            self.amount.clear()
        self.amount.setReadOnly(chosen)
        self.full.setEnabled(not chosen)
        self.confirm.setText("Cancel units and refund" if chosen else "Refund")
