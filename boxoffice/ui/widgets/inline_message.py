"""A plain message shown next to the input that caused it, or as a banner across a screen."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget


class InlineMessage(QLabel):
    """An error or hint under a field; hidden while empty."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inlineError")
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def show_message(self, text: str, *, kind: str = "error") -> None:
        self.setProperty("kind", kind)
        self.style().unpolish(self)
        self.style().polish(self)
        self.setText(text)
        self.setVisible(bool(text))

    def clear_message(self) -> None:
        self.setText("")
        self.hide()


class Banner(QFrame):
    """A dismissable message across the top of the window (errors without a field, notices).

    A notice (``kind="info"``) goes away by itself after ``INFO_MS``; the main window clears the
    banner when the operator changes screen or the desk is locked, so it never stays for the next.
    """

    INFO_MS = 12_000

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self._expiry = QTimer(self)
        self._expiry.setSingleShot(True)
        self._expiry.timeout.connect(self.clear_message)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setObjectName("bannerText")
        close = QPushButton("Dismiss")
        close.setObjectName("bannerClose")
        close.clicked.connect(self.clear_message)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.hide()

    def show_message(self, text: str, *, kind: str = "error") -> None:
        self.setProperty("kind", kind)
        self.style().unpolish(self)
        self.style().polish(self)
        self.label.setText(text)
        self.setVisible(bool(text))
        if text and kind == "info":
            self._expiry.start(self.INFO_MS)
        else:
            self._expiry.stop()

    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""

    def clear_message(self) -> None:
        self._expiry.stop()
        self.label.setText("")
        self.hide()
        self.hide()
