"""Refund an order in full or in part, to the original method or as store credit (REF-*, DEC-1/2).

A cash refund needs the desk's cash shift open: when the service says none is, the open-shift
dialog (``shift_prompt``) asks for the float and the refund is tried once more.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from boxoffice.errors import NoOpenShift
from boxoffice.money import parse_amount
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
        layout.addWidget(QLabel("Tick the lines to refund, or type an amount:"))
        self.lines = QListWidget()
        for line in detail.lines:
            item = QListWidgetItem(f"{line.quantity} × {line.description}  {money(line.line_total)}")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            item.setData(Qt.ItemDataRole.UserRole, str(line.line_total))
            self.lines.addItem(item)
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
        self.lines.itemChanged.connect(self._on_lines_item_changed)

    def check_line(self, row: int) -> None:
        self.lines.item(row).setCheckState(Qt.CheckState.Checked)

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

    def _on_lines_item_changed(self, _item: QListWidgetItem) -> None:
        total = sum((Decimal(self.lines.item(i).data(Qt.ItemDataRole.UserRole))
                     for i in range(self.lines.count())
                     if self.lines.item(i).checkState() == Qt.CheckState.Checked), Decimal("0.00"))
        self.amount.setText(str(total) if total else "")
