"""Table model of the staff list (name, role, sign-in kind, status, last sign-in)."""

from __future__ import annotations

import enum
from typing import Any, ClassVar

from boxoffice.ui.models.rows_model import RowsTableModel


class Column(enum.IntEnum):
    NAME = 0
    ROLE = 1
    SIGN_IN = 2
    STATUS = 3
    LAST = 4


_KIND = {"pin": "PIN", "password": "Password", "": "Not set"}


class StaffModel(RowsTableModel):
    """Rows are ``StaffAccount`` DTOs; times shown in ``tz_name``."""

    HEADERS: ClassVar[tuple[str, ...]] = ("Name", "Role", "Signs in with", "Status", "Last sign-in")

    def __init__(self, display: Any, parent: Any = None) -> None:
        super().__init__(parent)
        self._display = display

    def display(self, row: Any, column: int) -> Any:
        if column == Column.NAME:
            return row.name
        if column == Column.ROLE:
            return row.role.label
        if column == Column.SIGN_IN:
            return _KIND.get(row.secret_kind, row.secret_kind)
        if column == Column.STATUS:
            return status_text(row, self._display)
        if column == Column.LAST:
            return self._display.when(row.last_sign_in_at) if row.last_sign_in_at else "never"
        return None

    def sort_key(self, row: Any, column: int) -> Any:
        if column == Column.LAST:
            return row.last_sign_in_at.isoformat() if row.last_sign_in_at else ""
        return str(self.display(row, column)).lower()


def status_text(row: Any, display: Any) -> str:
    if not row.active:
        return "Inactive"
    if row.locked_until is not None:
        return f"Locked until {display.when(row.locked_until)[-5:]}"
    if not row.has_secret:
        return "Cannot sign in yet"
    return "Active"
