"""Store credits as a table model over a tuple of ``CreditView`` rows (no database access here)."""

from __future__ import annotations

import enum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from boxoffice.ui.formatting import Display, status_label

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_ROLE = Qt.ItemDataRole.UserRole + 2
Index = QModelIndex | QPersistentModelIndex


class Column(enum.IntEnum):
    ATTENDEE = 0
    AMOUNT = 1
    REMAINING = 2
    STATUS = 3
    SOURCE = 4
    EXPIRES = 5
    NOTE = 6


HEADERS = ("Attendee", "Amount", "Remaining", "Status", "Source order", "Expires", "Note")


class CreditsModel(QAbstractTableModel):
    def __init__(self, display: Display, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._display = display
        self._rows: tuple[Any, ...] = ()

    def set_rows(self, rows: Any) -> None:
        self.beginResetModel()
        self._rows = tuple(rows)
        self.endResetModel()

    def row_of(self, row: int) -> Any:
        return self._rows[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(Column)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(HEADERS):
            return HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        credit, column = self._rows[index.row()], Column(index.column())
        if role == ROW_ROLE:
            return credit
        if role == SORT_ROLE:
            return (credit.customer_label, credit.amount, credit.remaining, credit.status,
                    credit.source_order_reference, credit.expires_at, credit.note)[column]
        if role == Qt.ItemDataRole.DisplayRole:
            money, when = self._display.money, self._display.when
            return (credit.customer_label, money(credit.amount), money(credit.remaining),
                    status_label(credit.status), credit.source_order_reference or "—",
                    when(credit.expires_at) or "Never", credit.note)[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (Column.AMOUNT, Column.REMAINING):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
