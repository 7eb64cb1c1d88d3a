"""Stored Stripe events as a table model over a tuple of ``EventView`` rows (no database access here)."""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ROW_ROLE = Qt.ItemDataRole.UserRole + 2
Index = QModelIndex | QPersistentModelIndex


class Column(enum.IntEnum):
    CREATED = 0
    KIND = 1
    STATE = 2
    ATTEMPTS = 3
    EVENT_ID = 4
    ERROR = 5


HEADERS = ("Created", "Type", "State", "Attempts", "Stripe id", "Last error")


def state_of(row: Any) -> str:
    if row.processed:
        return "ignored (not ours)" if row.ignored else "applied"
    return "failed, will retry" if row.attempts else "waiting"


class EventsModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
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

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(HEADERS)
        ):
            return HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        row, column = self._rows[index.row()], Column(index.column())
        if role == ROW_ROLE:
            return row
        if role == SORT_ROLE:
            return (row.stripe_created, row.kind, state_of(row), row.attempts, row.stripe_id, row.last_error)[
                column
            ]
        if role == Qt.ItemDataRole.DisplayRole:
            if column == Column.CREATED:
                return (
                    datetime.fromtimestamp(row.stripe_created, timezone.utc)
                    .astimezone()
                    .strftime("%Y-%m-%d %H:%M:%S")
                )
            if column == Column.ERROR:
                return row.last_error.strip().splitlines()[-1] if row.last_error.strip() else ""
            return (None, row.kind, state_of(row), str(row.attempts), row.stripe_id)[column]
        if role == Qt.ItemDataRole.ToolTipRole and column == Column.ERROR:
            return row.last_error or None
        return None
