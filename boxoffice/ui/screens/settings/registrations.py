"""Settings, Registrations (admins): the web system's source, its password (to the keychain), Sync now."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QWidget,
)

from boxoffice.config import MAX_SYNC_MINUTES, Settings
from boxoffice.services.checkin.registrations_source import is_database_url, without_password
from boxoffice.services.desk.settings import DeskSettingsService
from boxoffice.ui.registrations_sync import RegistrationsSync, store_source_password
from boxoffice.ui.widgets.inline_message import InlineMessage


class RegistrationsSection(QFrame):
    """Source, password and interval saved through ``DeskSettingsService``; "Sync now" through ``sync``."""

    def __init__(self, desk: Any, service: DeskSettingsService, settings: Callable[[], Settings],
                 on_saved: Callable[[Settings], None], sync: RegistrationsSync | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self.setMaximumWidth(760)
        self.desk, self._service, self._settings, self._on_saved, self.sync = desk, service, settings, on_saved, sync
        form = QFormLayout(self)
        form.setContentsMargins(16, 16, 16, 16)
        form.setVerticalSpacing(10)
        title = QLabel("Registrations from the web system")
        title.setObjectName("sectionTitle")
        form.addRow(title)
        self.source = QLineEdit()
        self.source.setPlaceholderText("postgresql://user@host/dbname, sqlite:///web.sqlite3 or a CSV file")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("kept in the system keychain; empty: unchanged")
        self.minutes = QSpinBox()
        self.minutes.setRange(0, MAX_SYNC_MINUTES)
        self.minutes.setSuffix(" min")
        self.minutes.setSpecialValueText("Off")
        self.minutes.setMaximumWidth(180)
        form.addRow("Regis&trations source", self.source)
        form.addRow("Database pass&word", self.password)
        form.addRow("Re-sync every", self.minutes)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("%v of %m orders")
        self.message = InlineMessage()
        self.save = QPushButton("Save source")
        self.sync_button = QPushButton("S&ync now")
        self.sync_button.setProperty("role", "primary")
        row = QHBoxLayout()
        row.addWidget(self.progress, 1)
        row.addWidget(self.save)
        row.addWidget(self.sync_button)
        form.addRow("", row)
        form.addRow("", self.message)
        self.save.clicked.connect(self._on_save_clicked)
        self.sync_button.clicked.connect(self._on_sync_clicked)
        if sync is not None:
            sync.progress.connect(self._on_progress)
            sync.finished.connect(self._on_sync_finished)
            sync.failed.connect(self._on_sync_failed)
        else:
            self.sync_button.setEnabled(False)
        self.fill()

    def fill(self) -> None:
        s = self._settings()
        self.source.setText(s.registrations_source)
        self.minutes.setValue(s.registrations_sync_minutes)
        self.password.clear()

    def _on_save_clicked(self) -> None:
        text, password, minutes = self.source.text().strip(), self.password.text(), self.minutes.value()
        if is_database_url(text):
            text, in_url = without_password(text)
            password = password or in_url
        current, service = self._settings(), self._service

        def save() -> Settings:   # worker thread: the keychain first, then the file (no password in it)
            if password and is_database_url(text):
                store_source_password(text, password)
            return service.save(current, desk_name=current.desk_name, idle_lock_minutes=current.idle_lock_minutes,
                                quick_cash_notes=current.quick_cash_notes, stripe_reader_id=current.stripe_reader_id,
                                registrations_source=text, registrations_sync_minutes=minutes)

        self.save.setEnabled(False)
        self.desk.tasks.write(save, self._saved, self._save_failed, owner=self)

    def _saved(self, new: Settings) -> None:
        self.save.setEnabled(True)
        self._on_saved(new)
        self.fill()
        self.message.show_message("Registrations source saved.", kind="info")

    def _save_failed(self, exc: BaseException) -> None:
        self.save.setEnabled(True)
        self.desk.messages.show_error(exc, near=self.message)

    def _on_sync_clicked(self) -> None:
        if self.sync is None:
            return
        if self.sync.sync_now():
            self.sync_button.setEnabled(False)
            self.message.show_message("Syncing registrations…", kind="info")

    def _on_progress(self, done: int, total: int) -> None:
        if total <= 0:
            self.progress.setRange(0, 0)   # reading the source: busy
            return
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _on_sync_finished(self, report: Any) -> None:
        self.sync_button.setEnabled(True)
        total = report.new + report.updated + report.unchanged + len(report.skipped)
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(max(total, 1))
        text = f"Synced: {report.summary()}."
        if report.skipped:
            text += " Skipped orders are listed in the audit log and the log file."
        self.message.show_message(text, kind="info")

    def _on_sync_failed(self, text: str) -> None:
        self.sync_button.setEnabled(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.message.show_message(text)
