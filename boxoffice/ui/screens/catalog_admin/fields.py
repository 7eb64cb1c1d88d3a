"""Editor building blocks: an optional local date-time, a checklist of ids, a form with per-field errors."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, QDateTime, Qt, QTime, QTimeZone
from PySide6.QtWidgets import (
    QCheckBox,
    QDateTimeEdit,
    QFormLayout,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from boxoffice.errors import UserError
from boxoffice.ui.messages import Messages
from boxoffice.ui.widgets.inline_message import InlineMessage


class OptionalDateTime(QWidget):
    """A date and time in the conference's zone, or none (the box unticked); values are aware UTC."""

    def __init__(self, label: str, tz: ZoneInfo, *, end_of_day: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tz, self._end_of_day = tz, end_of_day
        self._loaded: datetime | None = None
        self._loaded_shown = QDateTime()
        self.enabled = QCheckBox(label)
        self.edit = QDateTimeEdit()
        self.edit.setCalendarPopup(True)
        self.edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.edit.setMinimumWidth(170)
        self.edit.setMinimumHeight(36)
        # The edit shows the conference's wall-clock time; UTC inside Qt so no local DST gap moves it.
        self.edit.setTimeZone(_WALL)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.enabled)
        layout.addWidget(self.edit, 1)
        self.enabled.toggled.connect(self.edit.setEnabled)
        self.set_value(None)

    def set_value(self, value: datetime | None) -> None:
        self._loaded = value
        if value is None:
            self.enabled.setChecked(False)
            self.edit.setEnabled(False)
            today = datetime.now(self._tz)
            self.edit.setDateTime(_wall(today.replace(hour=23, minute=59) if self._end_of_day
                                        else today.replace(hour=0, minute=0)))
            return
        local = value.astimezone(self._tz)
        self.edit.setDateTime(_wall(local))
        self.enabled.setChecked(True)
        self.edit.setEnabled(True)
        self._loaded_shown = self.edit.dateTime()

    def value(self) -> datetime | None:
        if not self.enabled.isChecked():
            return None
        shown = self.edit.dateTime()
        if self._loaded is not None and shown == self._loaded_shown:
            return self._loaded          # untouched: keep the stored seconds (an imported 23:59:59)
        d, t = shown.date(), shown.time()
        end_of_day = self._end_of_day and (t.hour(), t.minute()) == (23, 59)
        local = datetime(d.year(), d.month(), d.day(), t.hour(), t.minute(), 59 if end_of_day else 0,
                         tzinfo=self._tz)
        return local.astimezone(UTC)


_WALL = QTimeZone(QTimeZone.Initialization.UTC)


def _wall(local: datetime) -> QDateTime:
    return QDateTime(QDate(local.year, local.month, local.day), QTime(local.hour, local.minute), _WALL)


class Checklist(QListWidget):
    """Checkable items carrying ids (required ticket types, a voucher's scope)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(90)
        self.setSpacing(2)
        self.setMaximumHeight(150)

    def set_items(self, items: Iterable[tuple[int, str]], checked: Iterable[int] = ()) -> None:
        wanted = set(checked)
        self.clear()
        for item_id, label in items:
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, item_id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if item_id in wanted else Qt.CheckState.Unchecked)
            self.addItem(item)

    def set_checked(self, checked: Iterable[int]) -> None:
        wanted = set(checked)
        for row in range(self.count()):
            item = self.item(row)
            item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) in wanted
                               else Qt.CheckState.Unchecked)

    def checked_ids(self) -> tuple[int, ...]:
        return tuple(sorted(
            int(self.item(row).data(Qt.ItemDataRole.UserRole)) for row in range(self.count())
            if self.item(row).checkState() == Qt.CheckState.Checked))

    def check(self, label: str, on: bool = True) -> None:
        for row in range(self.count()):
            if self.item(row).text() == label:
                self.item(row).setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)


class FieldForm(QWidget):
    """A form whose rows each have an inline error under the input; service errors land by ``field``."""

    def __init__(self, messages: Messages, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._messages = messages
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.errors: dict[str, InlineMessage] = {}
        self.message = InlineMessage()   # errors without a field, and notices
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.form)
        layout.addWidget(self.message)

    def add_row(self, label: str, widget: QWidget, field: str | None = None) -> None:
        if field is None:
            self.form.addRow(label, widget)
            return
        holder = QWidget()
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(widget)
        error = InlineMessage()
        column.addWidget(error)
        self.errors[field] = error
        self.form.addRow(label, holder)

    def clear_errors(self) -> None:
        for error in self.errors.values():
            error.clear_message()
        self.message.clear_message()

    def show_error(self, exc: BaseException) -> None:
        """A ``UserError`` next to its field when the form has it, else under the form."""
        self.clear_errors()
        field = getattr(exc, "field", None) if isinstance(exc, UserError) else None
        self._messages.show_error(exc, near=self.errors.get(field or "", self.message))

    def field_error(self, field: str, text: str) -> None:
        self.clear_errors()
        self._messages.error_text(text, near=self.errors.get(field, self.message))

    def notice(self, text: str) -> None:
        self.clear_errors()
        self._messages.info(text, near=self.message)

    def visible_errors(self) -> dict[str, str]:
        shown = {f: e.text() for f, e in self.errors.items() if e.isVisible() or e.text()}
        if self.message.text():
            shown[""] = self.message.text()
        return shown


def checklist_items(rows: Iterable[Any]) -> list[tuple[int, str]]:
    return [(row.id, row.name if row.is_active else f"{row.name} (inactive)") for row in rows]
