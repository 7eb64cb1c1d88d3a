"""Runs Stripe event sync on a timer off the GUI thread: fast while a card payment waits, slow otherwise."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from PySide6.QtCore import QObject, QTimer, Signal

from boxoffice.errors import UserError
from boxoffice.stripe_sync.poller import SyncReport
from boxoffice.ui.tasks import TaskRunner

log = logging.getLogger(__name__)

FAST_MS = 2_000
SLOW_MS = 30_000
ANOTHER_DESK = "another desk is syncing"


class Lease(Protocol):
    """What the controller needs of ``boxoffice.db.locks.PollerLease``."""

    def ensure(self) -> bool: ...

    def release(self) -> None: ...


class SyncController(QObject):
    """Adapts ``poll_once`` to Qt: one poll at a time, through the task runner's reader pool.

    Signals: ``sync_finished(SyncReport)`` after every poll that reached Stripe,
    ``sync_failed(str)`` when Stripe could not be reached (the desk keeps selling cash, comp, credit),
    ``status_changed(bool, object)`` online flag and the time of the last successful poll (or None).

    With a ``lease`` (the single-poller lease of several desks), every tick first calls
    ``lease.ensure()`` on the worker thread: the desk polls only while it holds the lease, and a desk
    that lost it (another desk took over, or the database restarted) takes it again once it is free.
    ``stop()`` gives the lease up so another desk can take over at once.
    """

    sync_finished = Signal(object)
    sync_failed = Signal(str)
    status_changed = Signal(bool, object)

    def __init__(
        self,
        tasks: TaskRunner,
        poll: Callable[[], SyncReport],
        *,
        fast_ms: int = FAST_MS,
        slow_ms: int = SLOW_MS,
        lease: Lease | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._tasks, self._poll, self._lease = tasks, poll, lease
        self.holds_lease: bool | None = None  # None until the first tick (or without a lease)
        self._fast_ms, self._slow_ms = fast_ms, slow_ms
        self._busy = False
        self._fast_reasons: set[str] = set()
        self.online = True
        self.warning = ""  # near or past Stripe's 30-day event window
        self.last_success: datetime | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(slow_ms)
        self._timer.timeout.connect(self.poll_now)

    @property
    def interval_ms(self) -> int:
        return self._timer.interval()

    @property
    def polling(self) -> bool:
        return self._busy

    def start(self) -> None:
        self._timer.start()
        self.poll_now()

    def stop(self) -> None:
        self._timer.stop()
        if self._lease is not None:
            try:
                self._lease.release()
            except Exception:  # closing the desk must not fail because the database went away
                log.warning("could not release the poller lease", exc_info=True)
            self.holds_lease = False

    def set_payment_in_flight(self, reason: str, in_flight: bool) -> None:
        """Poll every ~2 s while any card payment waits for Stripe (each caller names its reason)."""
        if in_flight:
            self._fast_reasons.add(reason)
        else:
            self._fast_reasons.discard(reason)
        self._timer.setInterval(self._fast_ms if self._fast_reasons else self._slow_ms)

    def poll_now(self) -> None:
        if self._busy:  # never two polls at once
            return
        self._busy = True
        self._tasks.read(self._tick, self._on_poll_done, self._on_poll_error, owner=self)

    def _tick(self) -> tuple[bool | None, SyncReport]:
        """Worker thread: (re)take the lease when there is one, then poll only if this desk holds it."""
        if self._lease is not None and not self._lease.ensure():
            return False, SyncReport(0, 0, 0, 0, 0, message=ANOTHER_DESK, finished_at=datetime.now(UTC))
        return (None if self._lease is None else True), self._poll()

    def _on_poll_done(self, result: Any) -> None:
        self._busy = False
        holds, report = result
        self.holds_lease = holds
        if holds is False:  # another desk polls; this one stays online and tries again next tick
            self._set_online(True)
            return
        self.warning = report.warning
        if not report.online:
            self._set_online(False)
            self.sync_failed.emit(report.message)
            return
        self.last_success = report.finished_at
        self._set_online(True)
        self.sync_finished.emit(report)

    def _on_poll_error(self, exc: BaseException) -> None:
        self._busy = False
        if not isinstance(exc, UserError):
            log.error("event sync failed unexpectedly", exc_info=exc)
        self._set_online(False)
        self.sync_failed.emit(str(exc) if isinstance(exc, UserError) else "Event sync failed; see the log.")

    def _set_online(self, online: bool) -> None:
        self.online = online
        self.status_changed.emit(online, self.last_success)

    def status_text(self) -> str:
        """For the status bar: 'Stripe online · last sync 12:04:31' or 'Stripe offline (cash still works)'."""
        when = self.last_success.astimezone().strftime("%H:%M:%S") if self.last_success else "never"
        warning = f" · {self.warning}" if self.warning else ""
        if self.online and self.holds_lease is False:
            return "Stripe online · another desk syncs events"
        if self.online:
            return f"Stripe online · last sync {when}{warning}"
        return f"Stripe offline: card payments wait; cash, comp and credit still work · last sync {when}{warning}"
