"""The desk's receipt printer jobs: the receipt and drawer pulse after a sale or refund, reprints, Retry.

A job never stands between the operator and the next sale: the payment is complete before a job
starts, each runs on the task runner's device thread (``TaskRunner.device``), and a fault comes
back as a ``PrintReport`` ("Receipt not printed: out of paper") that the confirmation dialog and
the status bar show with Retry. The print log (``receipt_print``) records every attempt.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from boxoffice import paths
from boxoffice.errors import UserError
from boxoffice.ui.desk import Desk

log = logging.getLogger(__name__)

_WHAT = {"sale": "Receipt not printed", "reprint": "Receipt not printed", "refund": "Drawer not opened"}


@dataclass(frozen=True)
class PrintReport:
    """How one job went. ``ok`` False: ``text`` is the fault ("Receipt not printed: <reason>")."""

    job_id: int
    order_id: int | None
    kind: str            # sale, refund or reprint
    ok: bool
    text: str            # "" when there was nothing to print (no printer set, a card sale without receipt)
    pdf: Path | None = None


def _open_pdf(path: Path) -> None:
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


class ReceiptJobs(QObject):
    """Sends the desk's receipt and drawer jobs and remembers them for Retry.

    Signals: ``started(job_id, order_id)`` when a job is handed to the device thread,
    ``finished(PrintReport)`` when it is done, printed or not.
    """

    started = Signal(int, object)
    finished = Signal(object)
    # Shows a reprinted PDF receipt (no receipt printer set); tests put a recorder here.
    open_pdf: Callable[[Path], None] = staticmethod(_open_pdf)

    def __init__(self, desk: Desk, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self._ids = itertools.count(1)
        self._jobs: dict[int, tuple[int | None, str, Callable[[int], PrintReport]]] = {}
        self.running: set[int] = set()
        self.last_fault: PrintReport | None = None

    @classmethod
    def of(cls, desk: Desk) -> ReceiptJobs:
        """The desk's one instance (made on first use)."""
        if desk.receipt_jobs is None:
            desk.receipt_jobs = cls(desk)
        jobs: ReceiptJobs = desk.receipt_jobs
        return jobs

    # ------------------------------------------------------------------ jobs

    def after_sale(self, payment: Any) -> int:
        """The completed payment's receipt (when the desk prints one) and the drawer pulse on cash."""
        printers, service = self.desk.printers, self.desk.services.receipt_printer
        order_id, method = payment.order.id, payment.method

        def job(job_id: int) -> PrintReport:
            outcome = service.after_sale(order_id, printers.receipt_printer, method=method,
                                         paper_mm=printers.receipt_paper_mm, auto_receipt=printers.auto_receipt,
                                         drawer=printers.cash_drawer)
            return PrintReport(job_id, order_id, "sale", True, _outcome_text(outcome))

        return self._start(order_id, "sale", job)

    def after_refund(self, refund: Any) -> int:
        """A cash refund opens the drawer to pay the money out."""
        printers, service = self.desk.printers, self.desk.services.receipt_printer
        order_id, method = refund.order.id, refund.method

        def job(job_id: int) -> PrintReport:
            outcome = service.after_refund(order_id, printers.receipt_printer, method=method,
                                           drawer=printers.cash_drawer)
            return PrintReport(job_id, order_id, "refund", True, _outcome_text(outcome))

        return self._start(order_id, "refund", job)

    def reprint(self, order_id: int) -> int:
        """The order's receipt again: on the receipt printer when one is set, else as a PDF (opened)."""
        printers, services = self.desk.printers, self.desk.services
        if printers.receipt_printer.strip():
            service = services.receipt_printer

            def job(job_id: int) -> PrintReport:
                outcome = service.print_receipt(order_id, printers.receipt_printer,
                                                paper_mm=printers.receipt_paper_mm)
                return PrintReport(job_id, order_id, "reprint", True, _outcome_text(outcome))
        else:
            receipts = services.receipts

            def job(job_id: int) -> PrintReport:
                from boxoffice.ui.receipt import write_receipt_model_pdf

                receipt = receipts.receipt(order_id)
                folder = paths.data_dir() / "receipts"
                folder.mkdir(parents=True, exist_ok=True)
                path = write_receipt_model_pdf(folder / f"{receipt.reference}.pdf", receipt)
                return PrintReport(job_id, order_id, "reprint", True,
                                   f"No receipt printer is set (Settings): receipt saved as PDF to {path}", path)

        return self._start(order_id, "reprint", job)

    def retry(self, job_id: int) -> int:
        """Run a job again, as it was first sent (the same order, printer and drawer pulse)."""
        order_id, kind, job = self._jobs[job_id]
        return self._start(order_id, kind, job, job_id=job_id)

    # ------------------------------------------------------------------ internals

    def _start(self, order_id: int | None, kind: str, job: Callable[[int], PrintReport], *,
               job_id: int | None = None) -> int:
        job_id = job_id if job_id is not None else next(self._ids)
        what = _WHAT[kind]

        def run() -> PrintReport:
            try:
                return job(job_id)
            except UserError as exc:   # a PrinterFault (it has a reason) says "Receipt not printed: …" already
                text = str(exc) if hasattr(exc, "reason") else f"{what}: {exc}"
                return PrintReport(job_id, order_id, kind, False, text)
            except Exception:   # never let a printer problem look like a failed sale
                log.exception("print job %s (%s) for order %s failed", job_id, kind, order_id)
                return PrintReport(job_id, order_id, kind, False, f"{what}: an unexpected error (see the log file)")

        self._jobs[job_id] = (order_id, kind, job)
        self.running.add(job_id)
        self.started.emit(job_id, order_id)
        self.desk.tasks.device(run, self._on_job_done, self._on_job_crashed, owner=self)
        return job_id

    def _on_job_done(self, report: PrintReport) -> None:
        self.running.discard(report.job_id)
        if not report.ok:
            self.last_fault = report
        elif self.last_fault is not None and self.last_fault.job_id == report.job_id:
            self.last_fault = None
        if report.ok and report.pdf is not None:
            type(self).open_pdf(report.pdf)
        self.finished.emit(report)

    def _on_job_crashed(self, exc: BaseException) -> None:   # run() catches everything; kept for safety
        log.error("print job crashed", exc_info=exc)


def _outcome_text(outcome: Any) -> str:
    if outcome.printed_receipt and outcome.drawer_kicked:
        return f"Receipt printed and drawer opened ({outcome.printer})"
    if outcome.printed_receipt:
        return f"Receipt printed ({outcome.printer})"
    if outcome.drawer_kicked:
        return f"Drawer opened ({outcome.printer})"
    return ""


class PrinterStatus(QWidget):
    """The status bar's printer slot: the last fault with Retry; hidden while the printer is fine."""

    def __init__(self, jobs: ReceiptJobs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.setObjectName("printerStatus")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.label.setObjectName("printerFault")
        self.retry = QPushButton("Retry")
        self.retry.setToolTip("Send the job again (the sale itself is complete)")
        layout.addWidget(self.label)
        layout.addWidget(self.retry)
        self._fault: PrintReport | None = None
        self.retry.clicked.connect(self._on_retry_clicked)
        jobs.finished.connect(self._on_jobs_finished)
        self.hide()

    def _on_jobs_finished(self, report: PrintReport) -> None:
        if not report.ok:
            self._fault = report
            self.label.setText(report.text)
            self.label.setToolTip(report.text)   # a crowded status bar may cut the reason short
            self.retry.setEnabled(True)
            self.show()
        elif self._fault is not None and self._fault.job_id == report.job_id:
            self._fault = None
            self.hide()

    def _on_retry_clicked(self) -> None:
        if self._fault is not None:
            self.retry.setEnabled(False)
            self.label.setText(f"{self._fault.text} · trying again…")
            self.jobs.retry(self._fault.job_id)


def install_printer_status(window: Any) -> PrinterStatus:
    """The printer slot in ``window``'s status bar (``window.status_printer``)."""
    status = PrinterStatus(ReceiptJobs.of(window.desk))
    window.statusBar().addPermanentWidget(status)
    window.status_printer = status
    return status
