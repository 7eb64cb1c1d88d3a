"""Sync screen: what Stripe told the desk, what failed and why, and Retry / Retry all (EVT-13)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from boxoffice.ui.messages import Messages
from boxoffice.ui.screens.sync.events_model import ROW_ROLE, SORT_ROLE, EventsModel
from boxoffice.ui.tasks import TaskRunner


class SyncBackend:
    """What the screen calls (all off the GUI thread): plain callables, so the screen never sees a session."""

    def __init__(
        self,
        *,
        events: Callable[[bool], list[Any]],
        exceptions: Callable[[], list[Any]],
        retry: Callable[[int], str],
        retry_all: Callable[[], Any],
        sync_now: Callable[[], Any],
    ) -> None:
        self.events, self.exceptions, self.retry, self.retry_all, self.sync_now = (
            events,
            exceptions,
            retry,
            retry_all,
            sync_now,
        )


class SyncScreen(QWidget):
    """Signals: ``refreshed()`` after the tables were reloaded."""

    refreshed = Signal()

    def __init__(
        self, backend: SyncBackend, tasks: TaskRunner, messages: Messages, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._backend, self._tasks, self._messages = backend, tasks, messages
        self.status = QLabel("")
        self.failed_only = QCheckBox("Only events that failed")
        self.sync_button = QPushButton("Sync now")
        self.retry_button = QPushButton("Retry")
        self.retry_all_button = QPushButton("Retry all failed")
        self.model = EventsModel(self)
        proxy = QSortFilterProxyModel(self)
        proxy.setSourceModel(self.model)
        proxy.setSortRole(SORT_ROLE)
        self.table = QTableView()
        self.table.setModel(proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setPlaceholderText("Select a failed event to see its latest traceback.")

        buttons = QHBoxLayout()
        for widget in (self.failed_only, self.sync_button, self.retry_button, self.retry_all_button):
            buttons.addWidget(widget)
        buttons.addStretch(1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.details)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(split)

        self.failed_only.toggled.connect(self.refresh)
        self.sync_button.clicked.connect(self._on_sync_clicked)
        self.retry_button.clicked.connect(self._on_retry_clicked)
        self.retry_all_button.clicked.connect(self._on_retry_all_clicked)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.retry_button.setEnabled(False)

    def refresh(self) -> None:
        failed_only = self.failed_only.isChecked()
        self._tasks.read(
            lambda: (self._backend.events(failed_only), self._backend.exceptions()),
            self._show,
            self._messages.show_error,
            key="sync-screen",
            owner=self,
        )

    def _show(self, result: Any) -> None:
        events, exceptions = result
        self.model.set_rows(events)
        failing = sum(1 for e in events if not e.processed and e.attempts)
        self.status.setText(
            f"{len(events)} events shown · {failing} failing · {len(exceptions)} exception records"
        )
        self.retry_all_button.setEnabled(failing > 0)
        self._on_selection_changed()
        self.refreshed.emit()

    def selected_event(self) -> Any | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].data(ROW_ROLE) if rows else None

    def _on_selection_changed(self, *args: Any) -> None:
        event = self.selected_event()
        self.retry_button.setEnabled(event is not None and not event.processed)
        self.details.setPlainText(event.last_error if event is not None else "")

    def _on_sync_clicked(self) -> None:
        self._tasks.read(
            self._backend.sync_now, lambda _r: self.refresh(), self._messages.show_error, owner=self
        )

    def _on_retry_clicked(self) -> None:
        event = self.selected_event()
        if event is None:
            return
        event_id = event.id
        self._tasks.write(
            lambda: self._backend.retry(event_id), self._after_retry, self._messages.show_error, owner=self
        )

    def _on_retry_all_clicked(self) -> None:
        self._tasks.write(self._backend.retry_all, self._after_retry, self._messages.show_error, owner=self)

    def _after_retry(self, outcome: Any) -> None:
        failed = outcome == "failed" or getattr(outcome, "failed", 0)
        if failed:
            self._messages.error_text("The event still fails; its new traceback is recorded below.")
        else:
            self._messages.info("Retried: the event was applied.")
        self.refresh()
