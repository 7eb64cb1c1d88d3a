"""Cash shifts as a table model over a tuple of ``ShiftView`` rows (no database access here)."""

from __future__ import annotations

import enum
from typing import Any

from PySide6.QtCore import QObject

from boxoffice.ui.formatting import Display
from boxoffice.ui.models.rows_model import ROW_ROLE, SORT_ROLE, RowsTableModel

__all__ = ["ROW_ROLE", "SORT_ROLE", "Column", "ShiftsModel"]


class Column(enum.IntEnum):
    SHIFT = 0
    OPENED = 1
    OPENED_BY = 2
    CLOSED = 3
    CLOSED_BY = 4
    FLOAT = 5
    EXPECTED = 6
    COUNTED = 7
    DIFFERENCE = 8


HEADERS = ("Shift", "Opened", "Opened by", "Closed", "Closed by", "Float", "Expected", "Counted", "Difference")


class ShiftsModel(RowsTableModel):
    HEADERS = HEADERS
    RIGHT_ALIGNED = frozenset({Column.FLOAT, Column.EXPECTED, Column.COUNTED, Column.DIFFERENCE})

    def __init__(self, display: Display, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._display = display

    def sort_key(self, shift: Any, column: int) -> Any:
        return (shift.id, shift.opened_at, shift.opened_by, shift.closed_at, shift.closed_by,
                shift.opening_float, shift.expected, shift.counted, shift.difference)[Column(column)]

    def display(self, shift: Any, column: int) -> Any:
        money, when = self._display.money, self._display.when
        if shift.difference is None:
            difference = ""
        elif shift.difference < 0:
            difference = f"Short {money(-shift.difference)}"
        elif shift.difference > 0:
            difference = f"Over {money(shift.difference)}"
        else:
            difference = "Exact"
        return (f"#{shift.id}", when(shift.opened_at), shift.opened_by or "—",
                when(shift.closed_at) or "Open now", shift.closed_by or ("" if shift.is_open else "—"),
                money(shift.opening_float), money(shift.expected), money(shift.counted) or "—",
                difference or "—")[Column(column)]

    def tooltip(self, shift: Any, column: int) -> Any:
        return shift.note or None
