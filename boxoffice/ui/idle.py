"""Idle lock: no key or mouse input anywhere in the application for a while emits ``idle``."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

_INPUT_EVENTS = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.Wheel,
    QEvent.Type.TouchBegin, QEvent.Type.TabletPress,
})


class IdleWatcher(QObject):
    """An application-wide event filter restarting a single-shot timer on every input.

    Signals: ``idle()`` once the interval passes without input (then it stops until ``start``).
    ``interval_ms`` of 0 turns it off. Tests set a few milliseconds. The filter is installed only
    while the timer runs: every event of the application passes through it, which is not free
    (it would make the locked window's first paint several times slower).
    """

    idle = Signal()

    def __init__(self, interval_ms: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timeout)
        self._interval = 0
        self._watching = False
        self.set_interval(interval_ms)

    @staticmethod
    def minutes_to_ms(minutes: int) -> int:
        return max(0, int(minutes)) * 60_000

    def interval(self) -> int:
        return self._interval

    def set_interval(self, interval_ms: int) -> None:
        running = self._timer.isActive()
        self._interval = max(0, int(interval_ms))
        self._timer.setInterval(self._interval)
        if running or self._interval == 0:
            self.start()

    def start(self) -> None:
        if self._interval > 0:
            self._watch(True)
            self._timer.start()
        else:
            self.stop()

    def stop(self) -> None:
        self._timer.stop()
        self._watch(False)

    def detach(self) -> None:
        """Stop watching (the window closes)."""
        self.stop()

    def is_watching(self) -> bool:
        """Whether the application's events pass through this watcher now."""
        return self._watching

    def _watch(self, on: bool) -> None:
        app = QApplication.instance()
        if app is None or on == self._watching:
            return
        if on:
            app.installEventFilter(self)
        else:
            app.removeEventFilter(self)
        self._watching = on

    def _on_timeout(self) -> None:
        self._watch(False)
        self.idle.emit()

    def is_running(self) -> bool:
        return self._timer.isActive()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT_EVENTS and self._timer.isActive():
            self._timer.start()
        return False
