"""The navigation row: screen buttons named with their keys ("Orders  [F2]"), their names alone when narrow.

An admin's row holds up to eleven screens; on a 1280-pixel-wide desk (or 1920 at 150 %) the full
labels do not fit, so the buttons drop the key from their label (it stays in the tooltip and
works as before) and the keyboard hint gives way, instead of the window growing past the screen.
"""

from __future__ import annotations

from PySide6.QtGui import QResizeEvent, QShowEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget


class NavBar(QFrame):
    """A ``QFrame#navBar`` whose layout holds the screen buttons, the hint and the lock button."""

    HINT_WIDTH = 120   # the least the hint needs to be worth showing

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("navBar")
        self.row = QHBoxLayout(self)
        self.hint: QLabel | None = None
        self.fixed: list[QWidget] = []     # always shown as they are (the lock button)
        self._labels: dict[QPushButton, tuple[str, str]] = {}   # button -> (full label, name alone)
        self._widths: dict[QPushButton, tuple[int, int]] = {}   # button -> (full width, compact width)
        self._measuring = False
        self.compact = False

    def add_button(self, button: QPushButton, full: str, short: str, position: int) -> None:
        self._labels[button] = (full, short)
        button.setText(short if self.compact else full)
        self.row.insertWidget(position, button)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.fit()

    def _measure(self, button: QPushButton) -> tuple[int, int]:
        if button not in self._widths:
            full, short = self._labels[button]
            self._measuring = True
            try:
                button.ensurePolished()
                button.setText(short)
                compact = button.sizeHint().width()
                button.setText(full)
                self._widths[button] = (button.sizeHint().width(), compact)
            finally:
                self._measuring = False
            button.setMinimumWidth(compact)   # the row may shrink to the names alone
        return self._widths[button]

    def fit(self) -> None:
        """Full labels when they fit in the row's width, else the names alone (and no hint)."""
        if self._measuring or not self._labels:
            return
        shown = [b for b in self._labels if not b.isHidden()]
        widths = {b: self._measure(b) for b in self._labels}
        if not self.isVisible():   # a window not shown yet has no width to fit into
            shown = []
        spacing = max(self.row.spacing(), 0)
        margins = self.row.contentsMargins()
        needed = sum(widths[b][0] for b in shown) + sum(w.sizeHint().width() for w in self.fixed)
        needed += self.HINT_WIDTH + spacing * (len(shown) + len(self.fixed) + 1) + margins.left() + margins.right()
        compact = bool(shown) and self.width() < needed
        if compact == self.compact and all(b.text() == (short if compact else full)
                                           for b, (full, short) in self._labels.items()):
            return
        self.compact = compact
        self._measuring = True
        try:
            for button, (full, short) in self._labels.items():
                button.setText(short if compact else full)
            if self.hint is not None:
                self.hint.setVisible(not compact)
        finally:
            self._measuring = False
