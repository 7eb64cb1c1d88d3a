"""Tells a screen when another desk changed the shared data (a sale, a payment, a refund, the catalogue).

Each screen that shows shared data owns a ``ChangeFeed``: a ``QTimer`` that, while the screen is on
show, runs ``ChangeWatcher.poll()`` (one small aggregate query, ``boxoffice.services.desk.changes``) through
the desk's task runner (reader pool, never the GUI thread) and emits ``changed()`` when the fingerprint
moved. The screen then refreshes what it shows in place, so another desk's sale appears within about
one interval plus the query time. Only the visible screen polls, so a desk runs one check per interval.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from boxoffice.services.desk.changes import ChangeWatcher
from boxoffice.ui.tasks import TaskRunner

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_MS = 1_000
# Runners with a change check in flight: a runner must outlive the jobs it started.
_IN_FLIGHT: dict[int, TaskRunner] = {}


class ChangeFeed(QObject):
    """Polls for changes while its screen (the parent widget) is visible. Signal: ``changed()``."""

    changed = Signal()

    def __init__(self, watcher: ChangeWatcher, tasks: TaskRunner, screen: QWidget, *,
                 interval_ms: int = DEFAULT_INTERVAL_MS) -> None:
        super().__init__(screen)   # the timer goes away with the screen
        self._watcher, self._tasks, self._screen = watcher, tasks, screen
        self._busy = False
        self.checks = 0  # completed checks since the last reset (the first one records the baseline)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    @classmethod
    def for_screen(cls, screen: QWidget, desk: Any, on_change: Any) -> ChangeFeed:
        feed = cls(ChangeWatcher(desk.services.db), desk.tasks, screen)
        feed.changed.connect(on_change)
        return feed

    @property
    def interval_ms(self) -> int:
        return self._timer.interval()

    def set_interval(self, interval_ms: int) -> None:
        self._timer.setInterval(interval_ms)

    def stop(self) -> None:
        self._timer.stop()

    def _tick(self) -> None:
        if self._screen.isVisible():
            self.check_now()
        else:
            self.checks = 0
            self._watcher.reset()  # hidden: the screen reloads when shown; the next check starts afresh

    def check_now(self) -> None:
        """Run one check now (the first after a reset only records the baseline)."""
        if self._busy:  # one query at a time, however slow the server
            return
        self._busy = True
        _IN_FLIGHT[id(self)] = self._tasks
        self._tasks.read(self._watcher.poll, self._on_polled, self._on_failed, owner=self)

    def _on_polled(self, changed: Any) -> None:
        self._done()
        self.checks += 1
        if changed:
            self.changed.emit()

    def _on_failed(self, exc: BaseException) -> None:
        # The screens say so when their own queries fail; a missed tick is retried at the next one.
        self._done()
        log.debug("change check failed", exc_info=exc)

    def _done(self) -> None:
        self._busy = False
        _IN_FLIGHT.pop(id(self), None)
