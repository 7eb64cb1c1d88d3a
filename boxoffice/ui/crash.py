"""Unhandled exceptions: log them, write a scrubbed crash report, tell the operator, keep the desk running.

``install_crash_handler()`` (called once the QApplication exists) replaces ``sys.excepthook`` and
``threading.excepthook``. For every unhandled exception it writes ``crash-<UTC time>.txt`` to the
user log directory (secrets and card data masked), logs it, and shows a dialog that says what
happened, that the sale data is safe in the database, and where the report is. An exception in a
worker thread is shown by the GUI thread. Without a QApplication (headless commands, or before the
window exists) it writes the report and prints the same text to stderr; it never raises itself.

Sale data stays intact because every service call is one transaction: a sale or payment is either
committed before the error or rolled back whole, and the desk keeps running after the dialog.
"""

from __future__ import annotations

import logging
import platform
import sys
import threading
import traceback
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from boxoffice import __version__, paths
from boxoffice.logging_setup import redact

log = logging.getLogger(__name__)

REPORT_PREFIX = "crash-"
KEEP_REPORTS = 20
TITLE = "Box Office: unexpected error"

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def summary_of(exc: BaseException) -> str:
    """One scrubbed line naming the error, at most 300 characters."""
    text = redact(f"{type(exc).__name__}: {exc}".strip().splitlines()[0] if str(exc) else type(exc).__name__)
    return text if len(text) <= 300 else text[:297] + "..."


def write_report(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None, *,
                 thread_name: str = "MainThread", directory: Path | None = None) -> Path:
    """Write the scrubbed crash report; returns its path. Older reports beyond ``KEEP_REPORTS`` go."""
    directory = directory or paths.log_dir()
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    path = directory / f"{REPORT_PREFIX}{now.strftime('%Y%m%d-%H%M%S-%f')}.txt"
    header = [
        f"Box Office {__version__} crash report",
        f"Time (UTC): {now.isoformat(timespec='seconds')}",
        (f"Python {platform.python_version()} on {platform.platform()}"
         f"{' (frozen build)' if getattr(sys, 'frozen', False) else ''}"),
        f"Thread: {thread_name}",
        "",
        "Completed sales and payments are in the database; the action that failed was not recorded.",
        "",
    ]
    body = "".join(traceback.format_exception(exc_type, exc, tb))
    path.write_text(redact("\n".join(header) + body), encoding="utf-8")
    for old in sorted(directory.glob(f"{REPORT_PREFIX}*.txt"))[:-KEEP_REPORTS]:
        old.unlink(missing_ok=True)
    return path


def dialog_text(summary: str, report: Path | None) -> str:
    where = (f"A report was written to:\n{report}\n\nPlease give it to the desk lead."
             if report is not None else "The report could not be written; the details are in the log file.")
    return (
        "Box Office hit an unexpected error and stopped what it was doing:\n\n"
        f"{summary}\n\n"
        "The sale data is safe: every sale and payment that was completed is saved in the database, "
        "and the action that failed was not recorded. Check the order on the Orders screen before "
        "taking payment again. The desk keeps running.\n\n"
        f"{where}"
    )


def _qt_application() -> Any | None:
    """The running QApplication, without importing Qt into a process that never loaded it."""
    if "PySide6.QtWidgets" not in sys.modules:
        return None
    from PySide6.QtWidgets import QApplication

    return QApplication.instance()


class CrashHandler:
    """The installed hooks; ``reports`` and ``dialog`` are there for the operator's tools and tests."""

    def __init__(self) -> None:
        self.reports: list[Path | None] = []
        self.dialog: Any | None = None
        self.suppressed = 0   # errors while a dialog was already open (reported, not shown again)
        self._bridge: Any | None = None
        self._previous_sys: Any = None
        self._previous_thread: Any = None

    def install(self) -> CrashHandler:
        self._previous_sys, self._previous_thread = sys.excepthook, threading.excepthook
        sys.excepthook = self.handle
        threading.excepthook = self._thread_hook
        app = _qt_application()
        if app is not None:
            self._make_bridge(app)
        return self

    def uninstall(self) -> None:
        if sys.excepthook == self.handle and self._previous_sys is not None:
            sys.excepthook = self._previous_sys
        if threading.excepthook == self._thread_hook and self._previous_thread is not None:
            threading.excepthook = self._previous_thread

    def _make_bridge(self, app: Any) -> None:
        from PySide6.QtCore import QObject, Signal

        class _Bridge(QObject):
            show_requested = Signal(str, str)

        self._bridge = _Bridge()
        self._bridge.moveToThread(app.thread())
        self._bridge.show_requested.connect(self._show_from_signal)

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit or args.exc_value is None:
            return
        thread = args.thread.name if args.thread is not None else "worker thread"
        self.handle(args.exc_type, args.exc_value, args.exc_traceback, thread_name=thread)

    def handle(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None,
               thread_name: str | None = None) -> None:
        """Report one unhandled exception; never raises."""
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        thread_name = thread_name or threading.current_thread().name
        report: Path | None = None
        try:
            report = write_report(exc_type, exc, tb, thread_name=thread_name)
        except Exception as write_error:  # noqa: BLE001 - a full disk must not hide the original error
            log.error("the crash report could not be written: %s", write_error)
        try:
            if logging.getLogger().handlers:   # configured (scrubbing) handlers; never the unscrubbed lastResort
                log.critical("unhandled error in %s (report: %s)", thread_name, report,
                             exc_info=(exc_type, exc, tb))
            self.reports.append(report)
            self._notify(summary_of(exc), report)
        except Exception:  # noqa: BLE001 - the hook of last resort must not raise
            sys.__excepthook__(exc_type, exc, tb)

    def _notify(self, summary: str, report: Path | None) -> None:
        app = _qt_application()
        if app is None:
            print(f"{TITLE}\n{dialog_text(summary, report)}", file=sys.stderr, flush=True)
            return
        from PySide6.QtCore import QThread

        if QThread.currentThread() == app.thread():
            if self._bridge is None:
                self._make_bridge(app)
            self._show(summary, report)
        elif self._bridge is not None:
            self._bridge.show_requested.emit(summary, str(report) if report else "")
        else:   # a worker thread before the bridge exists: cannot touch widgets from here
            print(f"{TITLE}\n{dialog_text(summary, report)}", file=sys.stderr, flush=True)

    def _show_from_signal(self, summary: str, report: str) -> None:
        self._show(summary, Path(report) if report else None)

    def _show(self, summary: str, report: Path | None) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QApplication, QMessageBox

        if self.dialog is not None and self.dialog.isVisible():
            self.suppressed += 1   # an error repeating (e.g. while painting) must not pile up dialogs
            return
        box = QMessageBox(QMessageBox.Icon.Critical, TITLE, dialog_text(summary, report),
                          QMessageBox.StandardButton.Ok, QApplication.activeWindow())
        box.setObjectName("crashDialog")
        box.setStyleSheet("QLabel#qt_msgbox_label { min-width: 520px; }")  # the report path on one line
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setWindowModality(Qt.WindowModality.ApplicationModal)
        box.finished.connect(lambda _code: self._dialog_closed(box))
        self.dialog = box
        box.open()   # not exec(): the event loop (and the desk's background work) keeps running

    def _dialog_closed(self, box: Any) -> None:
        if self.dialog is box:
            self.dialog = None


_installed: CrashHandler | None = None


def install_crash_handler() -> CrashHandler:
    """Install the hooks once per process (call after the QApplication is created); returns the handler."""
    global _installed
    if _installed is None:
        _installed = CrashHandler().install()
    else:
        app = _qt_application()
        if app is not None and _installed._bridge is None:
            _installed._make_bridge(app)
    return _installed
