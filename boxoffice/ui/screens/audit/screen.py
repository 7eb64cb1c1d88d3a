"""The Audit log screen (leads, admins): filter by action, operator, text and dates; export CSV."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from boxoffice.errors import NotSignedIn, PermissionDenied
from boxoffice.services.staff.audit import ACTIONS
from boxoffice.ui.desk import Desk
from boxoffice.ui.screens.audit.model import AuditModel, AuditQuery, Column, action_label
from boxoffice.ui.widgets.inline_message import InlineMessage

FILTER_DELAY_MS = 300


def ask_csv_path(parent: QWidget, suggested: str) -> str:
    """The file to write, chosen by the operator ('' when they cancel)."""
    name, _ = QFileDialog.getSaveFileName(parent, "Export audit log", suggested, "CSV files (*.csv)")
    if name and not name.lower().endswith(".csv"):
        name += ".csv"
    return name


class _DateFilter(QWidget):
    """A ticked date in the conference's calendar, or no bound."""

    def __init__(self, label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.enabled = QCheckBox(label)
        self.edit = QDateEdit(QDate.currentDate())
        self.edit.setCalendarPopup(True)
        self.edit.setDisplayFormat("yyyy-MM-dd")
        self.edit.setEnabled(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.enabled)
        layout.addWidget(self.edit)
        self.enabled.toggled.connect(self.edit.setEnabled)

    def value(self) -> date | None:
        if not self.enabled.isChecked():
            return None
        d = self.edit.date()
        return date(d.year(), d.month(), d.day())

    def set_value(self, value: date | None) -> None:
        if value is not None:
            self.edit.setDate(QDate(value.year, value.month, value.day))
        self.enabled.setChecked(value is not None)


class AuditScreen(QWidget):
    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.model = AuditModel(desk.services.audit, desk.tasks, desk.display, self)
        self.action = QComboBox()
        self.action.addItem("All actions", None)
        for action in sorted(ACTIONS, key=action_label):
            self.action.addItem(action_label(action), (action,))
        self.operator = QLineEdit()
        self.operator.setPlaceholderText("Operator name")
        self.operator.setClearButtonEnabled(True)
        self.text = QLineEdit()
        self.text.setPlaceholderText("Order, product, code or detail")
        self.text.setClearButtonEnabled(True)
        self.date_from = _DateFilter("From")
        self.date_to = _DateFilter("To")
        self.export_button = QPushButton("Export CSV…")
        self.count_label = QLabel()
        self.count_label.setObjectName("muted")
        filters = QHBoxLayout()
        filters.addWidget(self.action)
        filters.addWidget(self.operator, 1)
        filters.addWidget(self.text, 2)
        filters.addWidget(self.date_from)
        filters.addWidget(self.date_to)
        filters.addWidget(self.export_button)
        self.notice = InlineMessage()

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in ((Column.TIME, 140), (Column.OPERATOR, 260), (Column.ACTION, 140),
                              (Column.TARGET, 190), (Column.BEFORE, 95), (Column.AFTER, 95), (Column.DESK, 80)):
            self.table.setColumnWidth(column, width)

        # "Val Volunteer (approved by Lee Lead)" must be read in full: the column takes what it needs.
        self.model.modelReset.connect(lambda: self.table.resizeColumnToContents(Column.OPERATOR))
        self.model.rowsInserted.connect(lambda *_: self.table.resizeColumnToContents(Column.OPERATOR))
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.count_label)
        layout.addWidget(self.notice)
        layout.addWidget(self.table, 1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FILTER_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        self.operator.textChanged.connect(lambda _t: self._timer.start())
        self.text.textChanged.connect(lambda _t: self._timer.start())
        self.action.currentIndexChanged.connect(lambda _i: self.refresh())
        for bound in (self.date_from, self.date_to):
            bound.enabled.toggled.connect(lambda _on: self.refresh())
            bound.edit.dateChanged.connect(lambda _d: self.refresh())
        self.export_button.clicked.connect(self.export)
        self.model.loaded.connect(self._on_loaded)
        self.model.failed.connect(self._on_failed)

    def query(self) -> AuditQuery:
        """The filters as typed; dates are whole days in the conference's time zone."""
        tz = self.desk.display.zone
        start, end = self.date_from.value(), self.date_to.value()
        at_from = datetime.combine(start, time(0), tzinfo=tz) if start else None
        at_to = datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz) if end else None
        return AuditQuery(actions=self.action.currentData(), actor_name=self.operator.text().strip(),
                          text=self.text.text().strip(), at_from=at_from, at_to=at_to)

    def refresh(self) -> None:
        self._timer.stop()
        self.model.set_query(self.query())

    def _on_loaded(self) -> None:
        self.notice.clear_message()
        self._set_usable(True)
        shown, total = self.model.rowCount(), self.model.total
        self.count_label.setText(f"{total} entr{'y' if total == 1 else 'ies'}, newest first"
                                 + (f" (showing {shown}; scroll for more)" if shown < total else ""))

    def _on_failed(self, exc: BaseException) -> None:
        if isinstance(exc, (PermissionDenied, NotSignedIn)):
            self.model.set_rows(())
            self.count_label.setText("")
            self._set_usable(False)
        self.desk.messages.show_error(exc, near=self.notice)

    def _set_usable(self, usable: bool) -> None:
        for widget in (self.action, self.operator, self.text, self.date_from, self.date_to, self.export_button):
            widget.setEnabled(usable)

    def export(self) -> None:
        path = ask_csv_path(self, f"audit-{datetime.now(self.desk.display.zone):%Y%m%d-%H%M}.csv")
        if not path:
            return
        audit, filters = self.desk.services.audit, self.query().filters()
        self.export_button.setEnabled(False)

        def done(count: Any) -> None:
            self.export_button.setEnabled(True)
            self.desk.messages.info(f"{count} audit entries written to {Path(path).name}.", near=self.notice)

        def failed(exc: BaseException) -> None:
            self.export_button.setEnabled(True)
            self.desk.messages.show_error(exc, near=self.notice)

        self.desk.tasks.read(lambda: audit.export_csv(path, **filters), done, failed, owner=self)
