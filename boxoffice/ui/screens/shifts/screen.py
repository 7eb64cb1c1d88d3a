"""The Shifts screen: the open shift's float, cash in and out and expected cash; open, close, reports.

Signals: ``shift_changed(ShiftView | None)`` after this screen opened or closed a shift.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from boxoffice.errors import PermissionDenied
from boxoffice.ui.desk import Desk
from boxoffice.ui.dialogs.no_sale import NoSaleDialog
from boxoffice.ui.dialogs.shift_close import ShiftCloseDialog, default_ask_save_path, save_report
from boxoffice.ui.dialogs.shift_open import ShiftOpenDialog, shift_notifier
from boxoffice.ui.screens.shifts.shifts_model import ROW_ROLE, SORT_ROLE, Column, ShiftsModel
from boxoffice.ui.widgets.inline_message import InlineMessage


def _figure(caption: str) -> tuple[QWidget, QLabel]:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(8, 4, 8, 4)
    title = QLabel(caption)
    title.setObjectName("muted")
    value = QLabel("—")
    font = value.font()
    font.setPointSizeF(font.pointSizeF() * 1.7)
    font.setBold(True)
    value.setFont(font)
    layout.addWidget(title)
    layout.addWidget(value)
    return box, value


class ShiftsScreen(QWidget):
    shift_changed = Signal(object)
    ask_save_path: ClassVar[Any] = staticmethod(default_ask_save_path)

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.current: Any = None
        self.open_dialog: ShiftOpenDialog | None = None
        self.no_sale_dialog: NoSaleDialog | None = None
        self.close_dialog: ShiftCloseDialog | None = None
        desk_name = desk.services.ctx.desk_name

        panel = QFrame()
        panel.setObjectName("panel")
        panel_layout = QVBoxLayout(panel)
        title = QLabel(f"Cash drawer at {desk_name}")
        title.setObjectName("sectionTitle")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        title.setFont(font)
        self.state = QLabel("Looking up the shift…")
        self.state.setWordWrap(True)
        panel_layout.addWidget(title)
        panel_layout.addWidget(self.state)
        figures = QGridLayout()
        boxes = [_figure(c) for c in ("Starting float", "Cash in", "Cash out", "Expected in drawer")]
        for column, (box, _value) in enumerate(boxes):
            figures.addWidget(box, 0, column)
        self.float_value, self.cash_in, self.cash_out, self.expected = (v for _b, v in boxes)
        self.expected.setObjectName("bigAmount")
        panel_layout.addLayout(figures)
        actions = QHBoxLayout()
        self.open_button = QPushButton("Open shift…")
        self.close_button = QPushButton("Close shift and count…")
        self.interim_button = QPushButton("Interim report PDF…")
        self.refresh_button = QPushButton("Refresh")
        self.no_sale_button = QPushButton("Open drawer (no sale)…")
        self.no_sale_button.setToolTip("Open the cash drawer without a sale: needs a lead, goes to the audit log")
        actions.addWidget(self.open_button)
        actions.addWidget(self.close_button)
        actions.addWidget(self.interim_button)
        actions.addWidget(self.no_sale_button)
        actions.addStretch(1)
        actions.addWidget(self.refresh_button)
        panel_layout.addLayout(actions)

        self.history_title = QLabel(f"Shifts at {desk_name}")
        self.history_title.setObjectName("sectionTitle")
        self.history_note = QLabel()
        self.history_note.setObjectName("muted")
        self.history_note.setWordWrap(True)
        self.history_note.hide()
        self.model = ShiftsModel(desk.display, self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(Column.OPENED, Qt.SortOrder.DescendingOrder)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((70, 150, 130, 150, 130, 100, 110, 110)):
            self.table.setColumnWidth(column, width)
        self.message = InlineMessage()
        exports = QHBoxLayout()
        self.export_pdf = QPushButton("Export report PDF…")
        self.export_csv = QPushButton("Export report CSV…")
        exports.addWidget(QLabel("Selected shift:"))
        exports.addWidget(self.export_pdf)
        exports.addWidget(self.export_csv)
        exports.addStretch(1)
        # Whoever closed a shift may save its report again, volunteers too (the list is for leads).
        self.my_last = None
        self.my_last_button = QPushButton("Report of my last shift (PDF)…")
        self.my_last_button.hide()
        exports.addWidget(self.my_last_button)

        layout = QVBoxLayout(self)
        layout.addWidget(panel)
        layout.addSpacing(8)
        layout.addWidget(self.history_title)
        layout.addWidget(self.history_note)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addLayout(exports)

        self.open_button.clicked.connect(self.open_shift)
        self.close_button.clicked.connect(self.close_shift)
        self.interim_button.clicked.connect(lambda: self._export(self.current, "pdf"))
        self.refresh_button.clicked.connect(self.refresh)
        self.no_sale_button.clicked.connect(self.open_drawer)
        self.export_pdf.clicked.connect(lambda: self._export(self.selected(), "pdf"))
        self.export_csv.clicked.connect(lambda: self._export(self.selected(), "csv"))
        self.my_last_button.clicked.connect(lambda: self._export(self.my_last, "pdf"))
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        shift_notifier().changed.connect(self._on_shift_notified)
        shift_notifier().cash_moved.connect(self._on_cash_moved)
        self._show_current(None, loading=True)

    # ------------------------------------------------------------------ data

    def refresh(self) -> None:
        shifts = self.desk.services.shifts
        self.desk.tasks.read(shifts.current, self._show_current_loaded,
                             lambda exc: self.desk.messages.show_error(exc, near=self.message),
                             key="shifts-current", owner=self)
        self.desk.tasks.read(lambda: shifts.list(limit=100), self._show_history, self._on_history_failed,
                             key="shifts-list", owner=self)
        self.desk.tasks.read(shifts.my_last_closed, self._show_my_last, lambda _exc: self._show_my_last(None),
                             key="shifts-mine", owner=self)

    def _show_my_last(self, shift: Any) -> None:
        self.my_last = shift
        self.my_last_button.setVisible(shift is not None)
        if shift is not None:
            self.my_last_button.setText(f"Report of my last shift (#{shift.id}, PDF)…")

    def selected(self) -> Any:
        rows = self.table.selectionModel().selectedRows()
        return self.proxy.data(rows[0], ROW_ROLE) if rows else None

    def select_shift(self, shift_id: int) -> None:
        for row in range(self.proxy.rowCount()):
            if self.proxy.data(self.proxy.index(row, 0), ROW_ROLE).id == shift_id:
                self.table.selectRow(row)
                return

    def _show_current_loaded(self, shift: Any) -> None:
        self._show_current(shift)

    def _show_current(self, shift: Any, *, loading: bool = False) -> None:
        self.current = shift
        money, display = self.desk.display.money, self.desk.display
        if shift is None:
            self.state.setText("Looking up the shift…" if loading else
                               "No shift is open. Open a shift with the starting float before taking cash.")
            for label in (self.float_value, self.cash_in, self.cash_out, self.expected):
                label.setText("—")
        else:
            who = f" by {shift.opened_by}" if shift.opened_by else ""
            self.state.setText(
                f"Shift #{shift.id} open since {display.when(shift.opened_at)}{who} · "
                f"{shift.cash_payments} cash payment{'s' if shift.cash_payments != 1 else ''}, "
                f"{shift.cash_refunds} cash refund{'s' if shift.cash_refunds != 1 else ''}")
            self.float_value.setText(money(shift.opening_float))
            self.cash_in.setText("+ " + money(shift.cash_in))
            self.cash_out.setText("− " + money(shift.cash_out))
            self.expected.setText(money(shift.expected))
        self._update_buttons(loading=loading)

    def _show_history(self, rows: list[Any]) -> None:
        chosen = self.selected()
        self.history_note.hide()
        self.table.setEnabled(True)
        self.model.set_rows(rows)
        if chosen is not None:
            self.select_shift(chosen.id)
        self._update_buttons()

    def _on_history_failed(self, exc: BaseException) -> None:
        if isinstance(exc, PermissionDenied):
            self.model.set_rows(())
            self.table.setEnabled(False)
            self.history_note.setText("Past shifts and their reports are for leads. Ask a lead to sign in "
                                      "to see or export them; the open shift is shown above.")
            self.history_note.show()
            self._update_buttons()
            return
        self.desk.messages.show_error(exc, near=self.message)

    def _update_buttons(self, *, loading: bool = False) -> None:
        is_open = self.current is not None
        for button, primary in ((self.open_button, not is_open), (self.close_button, is_open)):
            if button.property("role") != ("primary" if primary else None):
                button.setProperty("role", "primary" if primary else None)
                button.style().unpolish(button)
                button.style().polish(button)
        self.open_button.setEnabled(not is_open and not loading)
        self.close_button.setEnabled(is_open)
        self.interim_button.setEnabled(is_open)
        has_row = self.selected() is not None
        self.export_pdf.setEnabled(has_row)
        self.export_csv.setEnabled(has_row)

    # ------------------------------------------------------------------ actions

    def open_shift(self) -> None:
        dialog = ShiftOpenDialog(self.desk, self)
        dialog.opened.connect(self._on_opened)
        dialog.finished.connect(lambda _code: setattr(self, "open_dialog", None))
        self.open_dialog = dialog
        dialog.open()

    def open_drawer(self) -> None:
        """No sale: open the drawer with a reason and a lead's approval (audited)."""
        dialog = NoSaleDialog(self.desk, self)
        dialog.opened.connect(lambda outcome: self.desk.messages.info(
            f"Drawer opened ({outcome.printer}); the audit log has the reason.", near=self.message))
        dialog.finished.connect(lambda _code: setattr(self, "no_sale_dialog", None))
        self.no_sale_dialog = dialog
        dialog.open()

    def close_shift(self) -> None:
        """Close the open shift: fresh figures first, then the count dialog."""
        shifts = self.desk.services.shifts

        def show(shift: Any) -> None:
            self._show_current(shift)
            if shift is None:
                self.desk.messages.error_text("No shift is open at this desk any more.", near=self.message)
                return
            dialog = ShiftCloseDialog(self.desk, shift, self)
            dialog.closed.connect(self._on_closed)
            dialog.finished.connect(lambda _code: setattr(self, "close_dialog", None))
            self.close_dialog = dialog
            dialog.open()

        self.desk.tasks.read(shifts.current, show, lambda exc: self.desk.messages.show_error(exc, near=self.message),
                             owner=self)

    def _export(self, shift: Any, kind: str) -> None:
        if shift is None:
            self.desk.messages.error_text("Pick a shift in the list first.", near=self.message)
            return
        save_report(self.desk, self, shift, kind, type(self).ask_save_path, self._on_saved,
                    lambda exc: self.desk.messages.show_error(exc, near=self.message))

    def _on_saved(self, path: Path) -> None:
        self.desk.messages.info(f"Report saved to {path}.", near=self.message)

    def _on_opened(self, shift: Any) -> None:
        self.desk.messages.info(f"Shift #{shift.id} opened with a float of "
                                f"{self.desk.display.money(shift.opening_float)}.", near=self.message)

    def _on_closed(self, shift: Any) -> None:
        self.desk.messages.info(f"Shift #{shift.id} closed. Its report can be saved again here: "
                                "“Report of my last shift”.", near=self.message)
        self._show_my_last(shift)

    def _on_cash_moved(self) -> None:
        if self.isVisible():
            self.refresh()

    def _on_shift_notified(self, shift: Any) -> None:
        self.refresh()
        self.shift_changed.emit(shift)
