"""Store credits as a table model over a tuple of ``CreditView`` rows (no database access here)."""

from __future__ import annotations

import enum
from typing import Any

from PySide6.QtCore import QObject

from boxoffice.ui.formatting import Display, status_label
from boxoffice.ui.models.rows_model import ROW_ROLE, SORT_ROLE, RowsTableModel

__all__ = ["ROW_ROLE", "SORT_ROLE", "Column", "CreditsModel"]


class Column(enum.IntEnum):
    ATTENDEE = 0
    AMOUNT = 1
    REMAINING = 2
    STATUS = 3
    SOURCE = 4
    EXPIRES = 5
    NOTE = 6


HEADERS = ("Attendee", "Amount", "Remaining", "Status", "Source order", "Expires", "Note")


class CreditsModel(RowsTableModel):
    HEADERS = HEADERS
    RIGHT_ALIGNED = frozenset({Column.AMOUNT, Column.REMAINING})

    def __init__(self, display: Display, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._display = display

    def sort_key(self, credit: Any, column: int) -> Any:
        return (credit.customer_label, credit.amount, credit.remaining, credit.status,
                credit.source_order_reference, credit.expires_at, credit.note)[Column(column)]

    def display(self, credit: Any, column: int) -> Any:
        money, when = self._display.money, self._display.when
        return (credit.customer_label, money(credit.amount), money(credit.remaining),
                status_label(credit.status), credit.source_order_reference or "—",
                when(credit.expires_at) or "Never", credit.note)[Column(column)]
