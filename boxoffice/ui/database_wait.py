"""Tell the operator, within seconds, that another program holds the database while a write keeps trying."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal

WAITING_TEXT = ("Another program is using the database, so this desk cannot save yet. Still trying: "
                "the sale goes through once the other program lets go (close it if you can).")
STATUS_TEXT = "another program is using the database; still trying…"


class DatabaseWaitNotice(QObject):
    """Shows ``WAITING_TEXT`` on the window's banner and status bar while a write waits.

    The database tells it from the worker thread that waits; the queued signal brings the news to
    the GUI thread, which stays free meanwhile (the wait happens on the worker).
    """

    changed = Signal(bool)

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self._window = window
        self._label_text = window.status_database.text()
        self.waiting = False
        self.changed.connect(self._show)

    def attach(self, database: Any) -> None:
        wait = getattr(database, "write_wait", None)
        if wait is not None:
            wait.add(self.changed.emit)
            self.destroyed.connect(lambda *_: wait.remove(self.changed.emit))

    def _show(self, waiting: bool) -> None:
        self.waiting = waiting
        window = self._window
        if waiting:
            window.banner.show_message(WAITING_TEXT, kind="warning")
            window.status_database.setText(f"{self._label_text} — {STATUS_TEXT}")
        else:
            if window.banner.text() == WAITING_TEXT:
                window.banner.clear_message()
            window.status_database.setText(self._label_text)


def install_database_wait(window: Any) -> DatabaseWaitNotice:
    """Wire the window to its database's write waits (``window.database_wait``)."""
    notice = DatabaseWaitNotice(window)
    notice.attach(getattr(window.desk.services, "db", None))
    return notice
