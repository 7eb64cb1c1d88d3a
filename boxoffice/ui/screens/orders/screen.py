"""The Orders screen: search as you type over a lazily fetched table, filters, detail and actions.

Signals: ``take_payment_requested(OrderSummary)`` (re-open a pending order in the payment dialog),
``credit_issued()`` after a refund made store credit, ``stock_changed()`` after cancelled units gave
their stock back (the Sell screen's counts refresh).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from boxoffice.ui.desk import Desk, looks_like_reference
from boxoffice.ui.dialogs.refund import RefundDialog
from boxoffice.ui.dialogs.void_payment import VoidPaymentDialog, voidable_payments
from boxoffice.ui.models.change_feed import ChangeFeed
from boxoffice.ui.models.orders_model import Column, OrderQuery, OrdersModel
from boxoffice.ui.receipt import write_receipt_model_pdf
from boxoffice.ui.receipt_jobs import PrintReport, ReceiptJobs
from boxoffice.ui.screens.orders.attendees_pane import AttendeesPane
from boxoffice.ui.screens.orders.detail_pane import detail_html
from boxoffice.ui.widgets.inline_message import InlineMessage

SEARCH_DELAY_MS = 250
STATUSES = (("All statuses", None), ("Pending", ("pending",)), ("Paid", ("paid",)),
            ("Part refunded", ("partially_refunded",)), ("Refunded", ("refunded",)),
            ("Cancelled", ("cancelled",)))
RECEIPT_STATUSES = ("paid", "partially_refunded", "refunded")
DATES = ("Any date", "Today", "Yesterday", "Last 7 days")


class OrdersScreen(QWidget):
    take_payment_requested = Signal(object)
    credit_issued = Signal()
    stock_changed = Signal()

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.detail: Any = None
        self.refund_dialog: RefundDialog | None = None
        self.void_dialog: VoidPaymentDialog | None = None
        self.admit_dialog: QInputDialog | None = None
        self._select_reference = ""
        self.model = OrdersModel(desk.services.orders, desk.tasks, desk.conference_id, desk.display, self)

        filters = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search reference, name, email or company (or scan a receipt)")
        self.search.setClearButtonEnabled(True)
        self.status_filter = QComboBox()
        for label, statuses in STATUSES:
            self.status_filter.addItem(label, statuses)
        self.date_filter = QComboBox()
        self.date_filter.addItems(DATES)
        self.count_label = QLabel()
        self.count_label.setObjectName("muted")
        find_label = QLabel("&Find")
        find_label.setBuddy(self.search)
        filters.addWidget(find_label)
        filters.addWidget(self.search, 1)
        filters.addWidget(self.status_filter)
        filters.addWidget(self.date_filter)
        filters.addWidget(self.count_label)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(Column.CREATED, Qt.SortOrder.DescendingOrder)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        for column, width in ((Column.REFERENCE, 135), (Column.CREATED, 130), (Column.NAME, 150),
                              (Column.EMAIL, 180), (Column.STATUS, 115), (Column.TOTAL, 85)):
            self.table.setColumnWidth(column, width)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        self.detail_view = QTextBrowser()
        self.detail_view.setOpenLinks(False)
        self.message = InlineMessage()
        actions = QHBoxLayout()
        self.take_payment = QPushButton("Take &payment")
        self.take_payment.setProperty("role", "primary")
        self.refund = QPushButton("&Refund…")
        self.cancel_order = QPushButton("Cancel order")
        self.cancel_order.setProperty("role", "danger")
        self.admit = QPushButton("&Admit anyway…")
        self.admit.setToolTip("Keep an order whose stock was sold while its hold had lapsed: the stock goes "
                              "below zero (leads; a reason is asked and recorded)")
        actions.addWidget(self.take_payment)
        actions.addWidget(self.refund)
        actions.addWidget(self.admit)
        actions.addWidget(self.cancel_order)
        receipts = QHBoxLayout()
        self.save_pdf = QPushButton("Save receipt PDF")
        self.print_button = QPushButton("Reprin&t receipt  [Ctrl+P]")
        self.print_button.setToolTip("Print the receipt again on the receipt printer (a PDF when the desk has none)")
        self.void_payment = QPushButton("&Void payment…")
        self.void_payment.setToolTip("Void a cash, manual, comp or credit payment recorded by mistake (leads)")
        receipts.addWidget(self.save_pdf)
        receipts.addWidget(self.print_button)
        receipts.addWidget(self.void_payment)
        self.attendees = AttendeesPane(desk)
        right_layout.addWidget(self.detail_view, 1)
        right_layout.addWidget(self.attendees)
        right_layout.addWidget(self.message)
        right_layout.addLayout(actions)
        right_layout.addLayout(receipts)
        splitter = QSplitter()
        splitter.addWidget(self.table)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([880, 480])
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(splitter, 1)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.refresh)
        self.search.textEdited.connect(lambda _text: self._search_timer.start())
        self.search.returnPressed.connect(self._on_search_return_pressed)
        self.status_filter.currentIndexChanged.connect(lambda _i: self.refresh())
        self.date_filter.currentIndexChanged.connect(lambda _i: self.refresh())
        self.model.loaded.connect(self._on_model_loaded)
        self.model.failed.connect(lambda exc: desk.messages.show_error(exc, near=self.message))
        self.table.selectionModel().currentRowChanged.connect(lambda current, _prev: self._load_detail(current.row()))
        self.take_payment.clicked.connect(self._on_take_payment_clicked)
        self.refund.clicked.connect(self.open_refund)
        self.admit.clicked.connect(self.open_admit)
        self.void_payment.clicked.connect(self.open_void)
        self.cancel_order.clicked.connect(self._on_cancel_clicked)
        self.save_pdf.clicked.connect(self._on_save_pdf_clicked)
        self.print_button.clicked.connect(self.reprint_receipt)
        QShortcut(QKeySequence("Ctrl+P"), self, self.reprint_receipt,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.jobs = ReceiptJobs.of(desk)
        self.jobs.finished.connect(self._on_jobs_finished)
        self._retry_job: int | None = None
        self._show_detail(None)
        # Another desk's sale or payment: reload the rows in place (selection and scroll kept).
        self.changes = ChangeFeed.for_screen(self, desk, self._on_data_changed)

    # ------------------------------------------------------------------ search

    def current_query(self) -> OrderQuery:
        created_from, created_to = self._date_range(self.date_filter.currentIndex())
        old = self.model.query
        return OrderQuery(self.search.text().strip(), self.status_filter.currentData(), created_from,
                          created_to, old.sort, old.descending)

    def refresh(self) -> None:
        self._search_timer.stop()
        self.model.set_query(self.current_query())

    def _on_data_changed(self) -> None:
        if not self.isVisible() or self._search_timer.isActive():  # shown or typed: a full search follows
            return
        top = self.table.rowAt(0)
        top_id = self.model.row_of(top).id if top > 0 else None  # at the very top: new orders show
        self.model.reload(lambda: self._after_reload(top_id))

    def _after_reload(self, top_id: int | None) -> None:
        total = self.model.total
        self.count_label.setText(f"{total:,} order{'s' if total != 1 else ''}")
        if top_id is not None and (row := self.model.find_row(top_id)) >= 0:
            self.table.scrollTo(self.model.index(row, 0), QAbstractItemView.ScrollHint.PositionAtTop)
        if self.detail is not None and self.model.find_row(self.detail.summary.id) >= 0:
            self._load_detail(self.model.find_row(self.detail.summary.id))  # its payments may have changed

    def show_reference(self, reference: str) -> None:
        """Find and select one order (a scanned receipt, or the Sell screen's scan)."""
        self.search.setText(reference)
        self._select_reference = reference.upper()
        self.refresh()

    def _date_range(self, choice: int) -> tuple[datetime | None, datetime | None]:
        if choice == 0:
            return None, None
        local = self.desk.services.ctx.clock.now().astimezone(self.desk.display.zone)
        midnight = datetime.combine(local.date(), time(0), tzinfo=local.tzinfo)
        if choice == 1:
            start, end = midnight, midnight + timedelta(days=1)
        elif choice == 2:
            start, end = midnight - timedelta(days=1), midnight
        else:
            start, end = midnight - timedelta(days=6), midnight + timedelta(days=1)
        return start.astimezone(UTC), end.astimezone(UTC)

    def _on_search_return_pressed(self) -> None:
        text = self.search.text().strip()
        if looks_like_reference(text):
            self._select_reference = text.upper()
        self.refresh()

    def _on_model_loaded(self) -> None:
        total = self.model.total
        self.count_label.setText(f"{total:,} order{'s' if total != 1 else ''}")
        row = 0 if self.model.rowCount() else -1
        wanted = self._select_reference
        self._select_reference = ""
        if wanted:
            matches = [r for r in range(self.model.rowCount()) if self.model.row_of(r).reference == wanted]
            row = matches[0] if matches else row
        elif self.detail is not None and self.model.find_row(self.detail.summary.id) >= 0:
            row = self.model.find_row(self.detail.summary.id)
        if row >= 0:
            self.table.selectRow(row)
            self._load_detail(row)
        else:
            self._show_detail(None)

    # ------------------------------------------------------------------ detail

    def _load_detail(self, row: int) -> None:
        if row < 0 or row >= self.model.rowCount():
            return
        order_id = self.model.row_of(row).id
        orders = self.desk.services.orders
        self.desk.tasks.read(lambda: orders.detail(order_id), self._show_detail,
                             lambda exc: self.desk.messages.show_error(exc, near=self.message),
                             key="orders-detail", owner=self)

    def _show_detail(self, detail: Any) -> None:
        previous = self.detail.summary.id if self.detail is not None else None
        self.detail = detail
        if detail is None or detail.summary.id != previous:
            self.message.clear_message()
        self.attendees.load(detail.summary.id if detail is not None else None)
        status = detail.summary.status if detail is not None else ""
        self.detail_view.setHtml(detail_html(detail, self.desk.display) if detail is not None
                                 else "<p>Select an order to see its lines, payments and refunds.</p>")
        self.take_payment.setEnabled(status == "pending")
        self.cancel_order.setEnabled(status == "pending")
        self.refund.setEnabled(status in ("paid", "partially_refunded"))
        oversold = detail is not None and detail.summary.oversold
        self.admit.setVisible(oversold)
        self.admit.setEnabled(oversold)
        self.save_pdf.setEnabled(detail is not None)
        self.print_button.setEnabled(status in RECEIPT_STATUSES)
        self.void_payment.setEnabled(bool(voidable_payments(detail)))

    def _after_change(self, summary: Any) -> None:
        self.model.update_order(summary)
        self._load_detail(self.model.find_row(summary.id))

    # ------------------------------------------------------------------ actions

    def open_refund(self) -> None:
        if self.detail is None:
            return
        detail, refunds = self.detail, self.desk.services.refunds

        def show(refundable: Any) -> None:
            dialog = RefundDialog(self.desk, detail, refundable, self)
            dialog.refunded.connect(self._on_refund_done)
            dialog.finished.connect(lambda _code: setattr(self, "refund_dialog", None))
            self.refund_dialog = dialog
            dialog.open()

        self.desk.tasks.read(lambda: refunds.refundable(detail.summary.id), show,
                             lambda exc: self.desk.messages.show_error(exc, near=self.message), owner=self)

    def open_admit(self) -> None:
        """DEC-14: a lead keeps an oversold order; the reason goes into the audit log."""
        if self.detail is None or not self.detail.summary.oversold or self.admit_dialog is not None:
            return
        summary = self.detail.summary
        dialog = QInputDialog(self)
        dialog.setWindowTitle(f"Admit {summary.reference} anyway")
        dialog.setLabelText("Its stock was sold while its hold had lapsed. Admitting it takes the stock below "
                            "zero (an extra chair, a second T-shirt order).\n\nWhy is it admitted?")
        dialog.setOkButtonText("Admit anyway")
        dialog.textValueSelected.connect(lambda reason: self._admit(summary.id, reason))
        dialog.finished.connect(lambda _code: setattr(self, "admit_dialog", None))
        self.admit_dialog = dialog
        dialog.open()

    def _admit(self, order_id: int, reason: str) -> None:
        orders, operator = self.desk.services.orders, self.desk.operator_id

        def done(summary: Any) -> None:
            self._after_change(summary)
            self.desk.messages.info(f"{summary.reference} admitted beyond the stock." + (
                f" {self.desk.display.money(summary.balance)} is still due." if summary.balance else ""),
                near=self.message)

        self.desk.tasks.write(lambda: orders.admit_oversold(order_id, reason=reason, operator_id=operator), done,
                              lambda exc: self.desk.messages.show_error(exc, near=self.message), owner=self)

    def open_void(self) -> None:
        if not voidable_payments(self.detail):
            return
        dialog = VoidPaymentDialog(self.desk, self.detail, self)
        dialog.voided.connect(self._on_void_done)
        dialog.finished.connect(lambda _code: setattr(self, "void_dialog", None))
        self.void_dialog = dialog
        dialog.open()

    def _on_void_done(self, result: Any) -> None:
        self._after_change(result.order)
        self.desk.messages.info(f"Payment voided; {self.desk.display.money(result.order.balance)} is now due "
                                f"on {result.order.reference}." if result.order.balance else
                                "Payment voided.", near=self.message)

    def _on_refund_done(self, result: Any) -> None:
        if result.method == "cash":
            self.jobs.after_refund(result)   # the drawer opens to pay the money out
        text = f"Refunded {self.desk.display.money(result.amount)}"
        if result.credit_id is not None:
            text += " as store credit"
            self.credit_issued.emit()
        if result.units_cancelled:
            units = result.units_cancelled
            text += f"; {units} unit{'s' if units != 1 else ''} cancelled and back on sale"
            self.stock_changed.emit()
        self._after_change(result.order)
        self.desk.messages.info(text + ".", near=self.message)

    def _on_take_payment_clicked(self) -> None:
        if self.detail is not None and self.detail.summary.status == "pending":
            self.take_payment_requested.emit(self.detail.summary)

    def _on_cancel_clicked(self) -> None:
        if self.detail is None:
            return
        order_id, operator = self.detail.summary.id, self.desk.operator_id
        orders, summary = self.desk.services.orders, self.detail.summary
        self.desk.tasks.write(lambda: orders.cancel(order_id, operator_id=operator), self._after_change,
                              lambda exc: self.desk.messages.show_error(exc, near=self.message), owner=self,
                              approval=f"Cancel order {summary.reference} ({self.desk.display.money(summary.total)})")

    def save_receipt(self, path: Path) -> None:
        if self.detail is None:
            return
        order_id, receipts = self.detail.summary.id, self.desk.services.receipts
        self.desk.tasks.read(lambda: write_receipt_model_pdf(path, receipts.receipt(order_id)),
                             lambda saved: self.desk.messages.info(f"Receipt saved to {saved}", near=self.message),
                             lambda exc: self.desk.messages.show_error(exc, near=self.message), owner=self)

    def _on_save_pdf_clicked(self) -> None:
        if self.detail is None:
            return
        name, _ = QFileDialog.getSaveFileName(self, "Save receipt", f"{self.detail.summary.reference}.pdf",
                                              "PDF (*.pdf)")
        if name:
            self.save_receipt(Path(name))

    def reprint_receipt(self) -> None:
        """Ctrl+P: the selected order's receipt again (receipt printer, else a PDF)."""
        if self.detail is None or self.detail.summary.status not in RECEIPT_STATUSES:
            return
        self.message.show_message("Printing the receipt…", kind="info")
        self._retry_job = self.jobs.reprint(self.detail.summary.id)

    def _on_jobs_finished(self, report: PrintReport) -> None:
        if self.detail is None or report.order_id != self.detail.summary.id or report.kind == "sale":
            return
        if report.ok:
            if report.kind == "refund":   # the drawer opened: the refund's own message stays
                return
            if report.text:
                self.desk.messages.info(report.text + ".", near=self.message)
            elif report.job_id == self._retry_job:
                self.message.clear_message()
        else:
            self.desk.messages.error_text(report.text + " Retry from the status bar, or press Ctrl+P again.",
                                          near=self.message)
