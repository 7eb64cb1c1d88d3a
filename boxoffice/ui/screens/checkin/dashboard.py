"""The door dashboard: checked in against expected per ticket type, per desk and per 15 minutes.

Signals: ``export_requested()`` (the CSV of who is still expected).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from boxoffice.ui.formatting import Display
from boxoffice.ui.widgets.inline_message import InlineMessage

BAR_WIDTH = 30   # characters of the longest bar in the 15-minute table


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    table.setAlternatingRowColors(True)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _fill(table: QTableWidget, rows: list[list[str]], *, right: tuple[int, ...] = ()) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            item = QTableWidgetItem(text)
            if c in right:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)


def percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)} %" if whole else "—"


class DashboardPanel(QWidget):
    """Shows a ``CheckInDashboard``; refreshed by the screen when data changes on any desk."""

    export_requested = Signal()

    def __init__(self, display: Display, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._display = display
        self.dashboard: Any = None
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.total = QLabel("Loading…")
        self.total.setObjectName("bigAmount")
        font = QFont(self.total.font())
        font.setPointSizeF(max(font.pointSizeF(), 9.0) * 2.0)
        font.setBold(True)
        self.total.setFont(font)
        self.export_button = QPushButton("E&xport who is still expected (CSV)…")
        top.addWidget(self.total, 1)
        top.addWidget(self.export_button)
        self.message = InlineMessage()
        self.per_ticket_type = _table(["Ticket type", "Checked in", "Expected", "In"])
        self.per_desk = _table(["Desk", "Entries"])
        self.per_quarter = _table(["From", "Entries", ""])
        grid = QGridLayout()
        for column, (title, table) in enumerate((("Per ticket type", self.per_ticket_type),
                                                 ("Per desk", self.per_desk))):
            label = QLabel(title)
            label.setObjectName("sectionTitle")
            grid.addWidget(label, 0, column)
            grid.addWidget(table, 1, column)
        label = QLabel("Per 15 minutes")
        label.setObjectName("sectionTitle")
        grid.addWidget(label, 0, 2)
        grid.addWidget(self.per_quarter, 1, 2)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        grid.setColumnStretch(2, 3)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addLayout(grid, 1)
        self.export_button.clicked.connect(self.export_requested)

    def show_dashboard(self, dashboard: Any) -> None:
        self.dashboard = dashboard
        self.total.setText(f"Checked in {dashboard.checked_in:,} of {dashboard.expected:,} "
                           f"({percent(dashboard.checked_in, dashboard.expected)})")
        _fill(self.per_ticket_type, [[name, f"{done:,}", f"{expected:,}", percent(done, expected)]
                                     for name, done, expected in dashboard.per_ticket_type], right=(1, 2, 3))
        _fill(self.per_desk, [[desk or "—", f"{count:,}"] for desk, count in dashboard.per_desk], right=(1,))
        peak = max((count for _start, count in dashboard.per_quarter_hour), default=0)
        zone = self._display.zone
        _fill(self.per_quarter, [
            [start.astimezone(zone).strftime("%a %H:%M"), f"{count:,}",
             "█" * max(1 if count else 0, round(BAR_WIDTH * count / peak)) if peak else ""]
            for start, count in dashboard.per_quarter_hour], right=(1,))
