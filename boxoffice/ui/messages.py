"""The one presenter of errors and notices the operator sees.

``Cancelled`` is silent; a ``UserError`` is shown as written, next to the input that caused it
(an ``InlineMessage``) or in the window's banner; anything else is logged with its traceback and
reported as an unexpected error in a dialog. ``RecordingMessages`` is the same presenter that also
records what it showed and never opens a modal dialog: tests inject it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtWidgets import QMessageBox, QWidget

from boxoffice.errors import Cancelled, UserError

log = logging.getLogger(__name__)

UNEXPECTED = ("Something unexpected went wrong. Nothing more was changed; try again, and if it "
              "happens again tell the desk lead (the details are in the log file).")


class MessageTarget(Protocol):
    def show_message(self, text: str, *, kind: str = "error") -> None: ...


@dataclass(frozen=True)
class Shown:
    kind: str   # "user", "unexpected" or "info"
    text: str


class Messages:
    """Presents errors and notices; one instance per main window."""

    def __init__(self, banner: MessageTarget | None = None, dialog_parent: QWidget | None = None) -> None:
        self._banner = banner
        self._parent = dialog_parent

    def set_banner(self, banner: MessageTarget, dialog_parent: QWidget | None = None) -> None:
        self._banner = banner
        self._parent = dialog_parent

    def show_error(self, exc: BaseException, near: MessageTarget | None = None) -> None:
        if isinstance(exc, Cancelled):
            return
        if isinstance(exc, UserError):
            self._present("user", str(exc), near)
            return
        log.error("unexpected error", exc_info=exc)
        self._present("unexpected", UNEXPECTED, None)

    def error_text(self, text: str, near: MessageTarget | None = None) -> None:
        """An error the screen found itself (bad input typed), shown like a UserError."""
        self._present("user", text, near)

    def info(self, text: str, near: MessageTarget | None = None) -> None:
        self._present("info", text, near)

    def _present(self, kind: str, text: str, near: MessageTarget | None) -> None:
        if kind == "unexpected":
            self._unexpected_dialog(text)
            return
        target = near or self._banner
        if target is not None:
            target.show_message(text, kind="info" if kind == "info" else "error")
        elif kind != "info":
            self._unexpected_dialog(text)

    def _unexpected_dialog(self, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, "Box Office", text, QMessageBox.StandardButton.Ok,
                          self._parent)
        box.exec()


class RecordingMessages(Messages):
    """The presenter for tests: shows inline and banner messages, records everything, never blocks."""

    def __init__(self, banner: MessageTarget | None = None) -> None:
        super().__init__(banner)
        self.shown: list[Shown] = []

    def _present(self, kind: str, text: str, near: MessageTarget | None) -> None:
        self.shown.append(Shown(kind, text))
        if kind != "unexpected":
            target = near or self._banner
            if target is not None:
                target.show_message(text, kind="info" if kind == "info" else "error")

    def texts(self) -> list[str]:
        return [item.text for item in self.shown]
