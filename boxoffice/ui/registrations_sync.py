"""Registrations from the web system at the desk: "Sync now", an automatic re-sync, the status-bar label.

``RegistrationsSync`` runs ``RegistrationService.import_registrations`` on the task runner (never
on the GUI thread); the service's ``progress`` callback is marshalled to the GUI thread by a
signal. A QTimer re-syncs every N minutes (Settings; 0: off), acting as the system. The source's
database password lives in the system keychain (service ``boxoffice-registrations``, account
the URL without its password), never in the settings file.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from boxoffice import keychain
from boxoffice.errors import ConfigError, UserError
from boxoffice.services.checkin.registrations_source import is_database_url, with_password
from boxoffice.services.staff.access import SYSTEM, acting_as
from boxoffice.ui.tasks import TaskRunner
from boxoffice.ui.widgets.status_label import StatusLabel

log = logging.getLogger(__name__)

KEYRING_SERVICE = "boxoffice-registrations"
NO_SOURCE = "Choose a registrations source in Settings first (a web system database URL or a CSV file)."


def store_source_password(source: str, password: str) -> None:
    """Save the database password of ``source`` (a URL without its password) in the system keychain."""
    try:
        keychain.set_password(KEYRING_SERVICE, source, password)
    except keychain.KeychainError as exc:
        raise ConfigError(f"The registrations password could not be saved in the system keychain ({exc}). "
                          "Unlock or start the keychain (GNOME Keyring, KWallet), then save again.") from None


def load_source_password(source: str) -> str:
    """The keychain's password for ``source``, or '' (none, or a keychain that cannot be read: logged)."""
    try:
        return keychain.get_password(KEYRING_SERVICE, source) or ""
    except keychain.KeychainError as exc:
        log.warning("the registrations password could not be read from the keychain: %s", exc)
        return ""


class RegistrationsSync(QObject):
    """One import at a time, on the task runner's reader pool.

    Signals: ``progress(int, int)`` orders done and in the source ((0, 0) while reading);
    ``finished(object)`` the ``RegistrationReport``; ``failed(str)`` the message of a failed sync;
    ``status_changed(str)`` the status-bar text.
    """

    progress = Signal(int, int)
    finished = Signal(object)
    failed = Signal(str)
    status_changed = Signal(str)

    def __init__(self, tasks: TaskRunner, services: Any, conference_id: int, *, source: str = "",
                 minutes: int = 10, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks, self._services, self._conference_id = tasks, services, conference_id
        self._source = source
        self.busy = False
        self.last_report: Any = None
        self.status = ""
        self._timer = QTimer(self)
        self._timer.timeout.connect(lambda: self.sync_now(automatic=True))
        self.configure(source, minutes)

    @property
    def interval_ms(self) -> int:
        return self._timer.interval() if self._timer.isActive() else 0

    def configure(self, source: str, minutes: int) -> None:
        """A new source and interval (0: no automatic re-sync)."""
        self.set_interval_ms(minutes * 60_000 if source else 0)
        self._source = source

    def set_interval_ms(self, interval_ms: int) -> None:
        self._timer.stop()
        if interval_ms > 0:
            self._timer.start(interval_ms)

    def stop(self) -> None:
        self._timer.stop()

    def sync_now(self, *, automatic: bool = False) -> bool:
        """Start a sync (False when one is running or there is no source)."""
        if self.busy:
            return False
        source = self._source
        if not source:
            if not automatic:
                self.failed.emit(NO_SOURCE)
            return False
        self.busy = True
        services, conference_id, emit = self._services, self._conference_id, self.progress.emit

        def run() -> Any:   # worker thread
            url = with_password(source, load_source_password(source)) if is_database_url(source) else source
            slug = services.conferences.get(conference_id).slug
            if automatic:   # the timer runs whoever is signed in, or nobody: the desk itself re-syncs
                with acting_as(SYSTEM):
                    return services.registrations.import_registrations(url, slug, progress=emit)
            return services.registrations.import_registrations(url, slug, progress=emit)

        self.progress.emit(0, 0)
        self._tasks.read(run, self._on_done, self._on_error, owner=self)
        return True

    def _on_done(self, report: Any) -> None:
        self.busy = False
        self.last_report = report
        self._set_status(f"Registrations synced {datetime.now().strftime('%H:%M')}: {report.summary()}")
        self.finished.emit(report)

    def _on_error(self, exc: BaseException) -> None:
        self.busy = False
        message = str(exc) if isinstance(exc, UserError) else f"The registrations sync failed ({type(exc).__name__})."
        if not isinstance(exc, UserError):
            log.error("registrations sync failed", exc_info=exc)
        self._set_status(f"Registrations: sync failed {datetime.now().strftime('%H:%M')}")
        self.failed.emit(message)

    def _set_status(self, text: str) -> None:
        self.status = text
        self.status_changed.emit(text)


def install_registrations_sync(window: Any, settings: Any) -> RegistrationsSync:
    """``window.registrations_sync`` and its status-bar label ``window.status_registrations``."""
    desk = window.desk
    sync = RegistrationsSync(desk.tasks, desk.services, desk.conference_id, source=settings.registrations_source,
                             minutes=settings.registrations_sync_minutes, parent=window)
    label = StatusLabel("")   # white on the dark bar like its neighbours; shortened when the bar is full
    window.statusBar().addPermanentWidget(label)
    sync.status_changed.connect(label.setText)
    window.registrations_sync = sync
    window.status_registrations = label
    return sync
