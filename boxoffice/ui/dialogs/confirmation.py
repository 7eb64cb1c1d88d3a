"""After payment: the order reference large enough to read aloud, the change due, the receipt and its printing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
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
from boxoffice.ui.receipt import receipt_text, write_receipt_model_pdf
from boxoffice.ui.receipt_jobs import PrintReport, ReceiptJobs
from boxoffice.ui.widgets.inline_message import InlineMessage


class ConfirmationDialog(QDialog):
    """Shows a paid order. Enter or Esc closes it (Next customer).

    The receipt printer's answer for this order shows under the receipt: "Receipt printed", or
    "Receipt not printed: <reason>" with Retry. The sale is complete either way.
    """

    def __init__(self, desk: Desk, payment: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.payment = payment   # the PaymentResult that paid the order
        self.detail: Any = None
        self.receipt_model: Any = None
        self._fault_job: int | None = None
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
        self.receipt.setFont(QFont("Monospace"))
        self.receipt.setPlainText("Loading receipt…")
        layout.addWidget(self.receipt, 1)
        print_row = QHBoxLayout()
        self.print_status = InlineMessage()   # error colours for a fault, muted for "Receipt printed"
        self.retry_print = QPushButton("&Retry printing")
        self.retry_print.setAutoDefault(False)
        self.retry_print.hide()
        print_row.addWidget(self.print_status, 1)
        print_row.addWidget(self.retry_print)
        layout.addLayout(print_row)
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
        self.retry_print.clicked.connect(self._on_retry_print_clicked)
        self.jobs = ReceiptJobs.of(desk)
        self.jobs.started.connect(self._on_jobs_started)
        self.jobs.finished.connect(self._on_jobs_finished)
        orders, receipts = desk.services.orders, desk.services.receipts
        desk.tasks.read(lambda: (orders.detail(order.id), receipts.receipt(order.id)), self._show_detail,
                        desk.messages.show_error, owner=self)

    def _show_detail(self, loaded: tuple[Any, Any]) -> None:
        self.detail, self.receipt_model = loaded
        self.receipt.setPlainText(receipt_text(self.receipt_model))
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
    # ------------------------------------------------------------------ printing

    def _on_jobs_started(self, _job_id: int, order_id: object) -> None:
        if order_id == self.payment.order.id:
            self.retry_print.setEnabled(False)
            self.print_status.show_message("Printing…", kind="info")

    def _on_jobs_finished(self, report: PrintReport) -> None:
        if report.order_id != self.payment.order.id:
            return
        self.print_status.show_message(report.text, kind="info" if report.ok else "error")
        if report.ok:
            if report.job_id == self._fault_job:
                self._fault_job = None
                self.retry_print.hide()
            return
        self._fault_job = report.job_id
        self.retry_print.setEnabled(True)
        self.retry_print.show()

    def _on_retry_print_clicked(self) -> None:
        if self._fault_job is not None:
            self.jobs.retry(self._fault_job)

    def save_receipt(self, path: Path) -> None:
        """Write the receipt PDF off the GUI thread (QPdfWriter is usable from any thread)."""
        receipt = self.receipt_model
        self.desk.tasks.read(lambda: write_receipt_model_pdf(path, receipt),
                             lambda saved: self.desk.messages.info(f"Receipt saved to {saved}"),
                             self.desk.messages.show_error)

    def _on_save_pdf_clicked(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Save receipt", f"{self.payment.order.reference}.pdf",
                                              "PDF (*.pdf)")
        if name:
            self.save_receipt(Path(name))

    def _on_print_clicked(self) -> None:
        """Print it (again) on the receipt printer, or as a PDF when the desk has none."""
        self.jobs.reprint(self.payment.order.id)
