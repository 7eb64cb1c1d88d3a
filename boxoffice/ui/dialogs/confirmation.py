"""After payment: the order reference large enough to read aloud, the change due and the receipt."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from boxoffice.errors import UserError
from boxoffice.ui.desk import Desk
from boxoffice.ui.receipt import receipt_lines, write_receipt_pdf


class ConfirmationDialog(QDialog):
    """Shows a paid order. Enter or Esc closes it (Next customer)."""

    def __init__(self, desk: Desk, payment: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.payment = payment   # the PaymentResult that paid the order
        self.detail: Any = None
        order = payment.order
        self.setWindowTitle(f"Paid: {order.reference}")
        self.setMinimumSize(560, 620)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Paid. Order reference:"))
        self.reference = QLabel(order.reference)
        self.reference.setObjectName("reference")
        self.reference.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.reference.font()
        font.setPointSizeF(font.pointSizeF() * 3.0)
        font.setBold(True)
        self.reference.setFont(font)
        self.reference.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.reference)
        self.change = QLabel()
        self.change.setObjectName("changeDue")
        change_font = self.change.font()
        change_font.setPointSizeF(change_font.pointSizeF() * 2.0)
        self.change.setFont(change_font)
        self.change.setAlignment(Qt.AlignmentFlag.AlignCenter)
        if payment.change_due:
            self.change.setText(f"Give change: {desk.display.money(payment.change_due)}")
        self.change.setVisible(bool(payment.change_due))
        layout.addWidget(self.change)
        self.admitted = QLabel()
        self.admitted.setObjectName("admittedList")
        self.admitted.setWordWrap(True)
        admitted_font = self.admitted.font()
        admitted_font.setPointSizeF(admitted_font.pointSizeF() * 1.4)
        admitted_font.setBold(True)
        self.admitted.setFont(admitted_font)
        self.admitted.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.admitted.hide()
        self.admitted_results: list[Any] = []
        layout.addWidget(self.admitted)
        self.receipt = QPlainTextEdit()
        self.receipt.setReadOnly(True)
        self.receipt.setPlainText("Loading receipt…")
        layout.addWidget(self.receipt, 1)
        buttons = QHBoxLayout()
        self.save_pdf = QPushButton("Save receipt &PDF")
        self.print_button = QPushButton("Pr&int receipt")
        self.next_button = QPushButton("Next customer (Enter)")
        self.next_button.setProperty("role", "primary")
        self.next_button.setDefault(True)
        for button in (self.save_pdf, self.print_button):
            button.setAutoDefault(False)
            button.setEnabled(False)
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.next_button)
        layout.addLayout(buttons)
        self.next_button.clicked.connect(self.accept)
        self.save_pdf.clicked.connect(self._on_save_pdf_clicked)
        self.print_button.clicked.connect(self._on_print_clicked)
        orders = desk.services.orders
        desk.tasks.read(lambda: orders.detail(order.id), self._show_detail, desk.messages.show_error)

    def _show_detail(self, detail: Any) -> None:
        self.detail = detail
        self.receipt.setPlainText("\n".join(receipt_lines(detail, self.desk.display)))
        self.save_pdf.setEnabled(True)
        self.print_button.setEnabled(True)
        self.next_button.setFocus()

    def expect_admitted(self) -> None:
        """The sale's attendees are being checked in (the desk's walk-up setting)."""
        self.admitted.setText("Checking in…")
        self.admitted.show()

    def show_admitted(self, results: list[Any]) -> None:
        """Who was checked in with the sale (each ScanResult of ``CheckInService.admit_order``)."""
        self.admitted_results = list(results)
        names = [r.attendee.name for r in results if r.outcome == "admitted" and r.attendee is not None]
        refused = [f"{r.attendee.name if r.attendee is not None else ''}: {r.headline}".strip(": ")
                   for r in results if r.outcome != "admitted"]
        lines = [f"Checked in: {', '.join(names)}"] if names else []
        lines += [f"Not checked in: {text}" for text in refused]
        self.admitted.setProperty("kind", "error" if refused else "info")
        self.admitted.setText("\n".join(lines) or "Nobody to check in.")
        self.admitted.show()

    def show_admit_failed(self, exc: BaseException) -> None:
        text = str(exc) if isinstance(exc, UserError) else "the check-in could not be recorded"
        self.admitted.setProperty("kind", "error")
        self.admitted.setText(f"Not checked in ({text}). Scan their tickets on the Check-in screen (F11).")
        self.admitted.show()

    def save_receipt(self, path: Path) -> None:
        """Write the receipt PDF off the GUI thread (QPdfWriter is usable from any thread)."""
        detail, display = self.detail, self.desk.display
        self.desk.tasks.read(lambda: write_receipt_pdf(path, detail, display),
                             lambda saved: self.desk.messages.info(f"Receipt saved to {saved}"),
                             self.desk.messages.show_error)

    def _on_save_pdf_clicked(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Save receipt", f"{self.payment.order.reference}.pdf",
                                              "PDF (*.pdf)")
        if name:
            self.save_receipt(Path(name))

    def _on_print_clicked(self) -> None:
        from boxoffice.ui.printing import print_receipt  # QtPrintSupport only when printing

        print_receipt(self, self.detail, self.desk.display)
