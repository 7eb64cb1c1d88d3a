"""Stored Stripe events as a table model over a tuple of ``EventView`` rows (no database access here)."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from boxoffice.ui.models.rows_model import ROW_ROLE, SORT_ROLE, RowsTableModel

__all__ = ["ROW_ROLE", "SORT_ROLE", "Column", "EventsModel", "state_of"]


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


class EventsModel(RowsTableModel):
    HEADERS = HEADERS

    def sort_key(self, row: Any, column: int) -> Any:
        return (row.stripe_created, row.kind, state_of(row), row.attempts, row.stripe_id, row.last_error)[
            Column(column)
        ]

    def display(self, row: Any, column: int) -> Any:
        if column == Column.CREATED:
            return (
                datetime.fromtimestamp(row.stripe_created, UTC)
                .astimezone()
                .strftime("%Y-%m-%d %H:%M:%S")
            )
        if column == Column.ERROR:
            return row.last_error.strip().splitlines()[-1] if row.last_error.strip() else ""
        return (None, row.kind, state_of(row), str(row.attempts), row.stripe_id)[column]

    def tooltip(self, row: Any, column: int) -> Any:
        return (row.last_error or None) if column == Column.ERROR else None
