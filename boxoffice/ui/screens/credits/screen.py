"""The Credits screen: every store credit, and issue, expire or apply one to the current sale.

Signals: ``apply_requested(CreditView)`` (the main window hands it to the Sell screen).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from boxoffice.money import parse_amount
from boxoffice.ui.desk import Desk
from boxoffice.ui.models.credits_model import ROW_ROLE, SORT_ROLE, CreditsModel
from boxoffice.ui.widgets.inline_message import InlineMessage

STATUSES = (("All", None), ("Available", ("available",)), ("Applied", ("applied",)),
            ("Expired", ("expired",)))


class IssueCreditDialog(QDialog):
    """Find the attendee, type the amount and a note. Signals: ``issued(CreditView)``."""

    issued = Signal(object)

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.setWindowTitle("Issue store credit")
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.who = QLineEdit()
        self.who.setPlaceholderText("Type a name or email")
        self.matches = QListWidget()
        self.amount = QLineEdit()
        self.note = QLineEdit()
        form.addRow("&Attendee", self.who)
        form.addRow("", self.matches)
        form.addRow("A&mount", self.amount)
        form.addRow("&Note", self.note)
        layout.addLayout(form)
        self.message = InlineMessage()
        layout.addWidget(self.message)
        buttons = QHBoxLayout()
        close = QPushButton("Close")
        self.confirm = QPushButton("Issue credit")
        self.confirm.setProperty("role", "primary")
        buttons.addStretch(1)
        buttons.addWidget(close)
        buttons.addWidget(self.confirm)
        layout.addLayout(buttons)
        close.clicked.connect(self.reject)
        self.confirm.clicked.connect(self.submit)
        self.who.textEdited.connect(self._on_who_edited)

    def _on_who_edited(self, text: str) -> None:
        customers = self.desk.services.customers
        query = text.strip()
        if len(query) < 2:
            self.matches.clear()
            return
        self.desk.tasks.read(lambda: customers.find(query, limit=8), self._show_matches,
                             lambda exc: self.desk.messages.show_error(exc, near=self.message),
                             key="issue-credit-lookup", owner=self)

    def _show_matches(self, customers: list[Any]) -> None:
        self.matches.clear()
        for customer in customers:
            item = QListWidgetItem(f"{customer.label}  {customer.email or ''}")
            item.setData(Qt.ItemDataRole.UserRole, customer.id)
            self.matches.addItem(item)
        if customers:
            self.matches.setCurrentRow(0)

    def submit(self) -> None:
        item = self.matches.currentItem()
        if item is None:
            self.desk.messages.error_text("Find the attendee first: type their name or email.", near=self.message)
            return
        try:
            amount = parse_amount(self.amount.text())
        except ValueError as exc:
            self.desk.messages.error_text(str(exc), near=self.message)
            return
        customer_id, note = int(item.data(Qt.ItemDataRole.UserRole)), self.note.text().strip()
        desk, credits = self.desk, self.desk.services.credits

        def done(credit: Any) -> None:
            self.issued.emit(credit)
            self.accept()

        desk.tasks.write(lambda: credits.issue(customer_id, desk.conference_id, amount, note=note,
                                               operator_id=desk.operator_id),
                         done, lambda exc: desk.messages.show_error(exc, near=self.message), owner=self,
                         approval=f"Issue {desk.display.money(amount)} of store credit to {item.text()}")


class CreditsScreen(QWidget):
    apply_requested = Signal(object)

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.issue_dialog: IssueCreditDialog | None = None
        self.model = CreditsModel(desk.display, self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)
        top = QHBoxLayout()
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter by attendee, order or note")
        self.status_filter = QComboBox()
        for label, statuses in STATUSES:
            self.status_filter.addItem(label, statuses)
        self.status_filter.setCurrentIndex(1)
        top.addWidget(QLabel("Filter"))
        top.addWidget(self.filter, 1)
        top.addWidget(self.status_filter)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((220, 100, 110, 100, 150, 150)):
            self.table.setColumnWidth(column, width)
        self.message = InlineMessage()
        actions = QHBoxLayout()
        self.apply_button = QPushButton("Apply to current sale")
        self.apply_button.setProperty("role", "primary")
        self.issue_button = QPushButton("Issue credit…")
        self.expire_button = QPushButton("Expire")
        self.expire_button.setProperty("role", "danger")
        actions.addWidget(self.apply_button)
        actions.addWidget(self.issue_button)
        actions.addStretch(1)
        actions.addWidget(self.expire_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addLayout(actions)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.status_filter.currentIndexChanged.connect(lambda _i: self.refresh())
        self.apply_button.clicked.connect(self._on_apply_clicked)
        self.issue_button.clicked.connect(self.open_issue)
        self.expire_button.clicked.connect(self._on_expire_clicked)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self._update_buttons()

    def refresh(self) -> None:
        credits, conference, statuses = self.desk.services.credits, self.desk.conference_id, \
            self.status_filter.currentData()
        self.desk.tasks.read(lambda: credits.list(conference, statuses=statuses), self._show_rows,
                             lambda exc: self.desk.messages.show_error(exc, near=self.message),
                             key="credits-list", owner=self)

    def selected(self) -> Any:
        rows = self.table.selectionModel().selectedRows()
        return self.proxy.data(rows[0], ROW_ROLE) if rows else None

    def select_credit(self, credit_id: int) -> None:
        for row in range(self.proxy.rowCount()):
            if self.proxy.data(self.proxy.index(row, 0), ROW_ROLE).id == credit_id:
                self.table.selectRow(row)
                return

    def _show_rows(self, rows: list[Any]) -> None:
        chosen = self.selected()
        self.model.set_rows(rows)
        if chosen is not None:
            self.select_credit(chosen.id)
        self._update_buttons()

    def _update_buttons(self) -> None:
        credit = self.selected()
        usable = credit is not None and credit.status == "available" and credit.remaining > 0
        self.apply_button.setEnabled(usable)
        self.expire_button.setEnabled(usable)

    def _on_apply_clicked(self) -> None:
        credit = self.selected()
        if credit is not None:
            self.apply_requested.emit(credit)

    def _on_expire_clicked(self) -> None:
        credit = self.selected()
        if credit is None:
            return
        credits, operator = self.desk.services.credits, self.desk.operator_id
        self.desk.tasks.write(lambda: credits.expire(credit.id, operator_id=operator),
                              lambda _view: self.refresh(),
                              lambda exc: self.desk.messages.show_error(exc, near=self.message), owner=self,
                              approval=f"Expire {credit.customer_label}'s store credit of "
                                       f"{self.desk.display.money(credit.remaining)}")

    def _on_issued(self, credit: Any) -> None:
        self.refresh()
        self.desk.messages.info(
            f"Credit of {self.desk.display.money(credit.amount)} issued to {credit.customer_label}.",
            near=self.message)

    def open_issue(self) -> None:
        dialog = IssueCreditDialog(self.desk, self)
        dialog.issued.connect(self._on_issued)
        dialog.finished.connect(lambda _code: setattr(self, "issue_dialog", None))
        self.issue_dialog = dialog
        dialog.open()
