"""Plugs cash shifts into a main window: the Shifts screen (F6) and the drawer state in the status bar."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

from boxoffice.services.staff.access import current_actor
from boxoffice.ui.desk import Desk
from boxoffice.ui.dialogs.shift_open import shift_notifier
from boxoffice.ui.widgets.status_label import StatusLabel

REFRESH_MS = 30_000


class ShiftStatus(StatusLabel):
    """"Drawer: shift #12 since 09:14 · expected $240.00", or that no shift is open."""

    def __init__(self, desk: Desk, parent: QWidget | None = None, *, refresh_ms: int = REFRESH_MS) -> None:
        super().__init__("", parent, least=300)   # the expected cash stays readable
        self.desk = desk
        self.setObjectName("shiftStatus")
        self.setText("Drawer: …")
        self.shift: Any = None   # the open shift as last seen (None: none open, or not known)
        self._timer = QTimer(self)
        self._timer.setInterval(refresh_ms)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        shift_notifier().changed.connect(self._on_shift_changed)
        shift_notifier().cash_moved.connect(self.refresh)

    def _on_shift_changed(self, _shift: Any) -> None:
        self.refresh()

    def refresh(self) -> None:
        if current_actor() is None:   # the desk is locked: nobody may look, and nothing is asked
            self.setText("Drawer: —")
            return
        self.desk.tasks.read(self.desk.services.shifts.current, self.show_shift, self._on_failed,
                             key="shift-status", owner=self)

    def show_shift(self, shift: Any) -> None:
        self.shift = shift
        if shift is None:
            self.setText("Drawer: no shift open")
            self.setToolTip("Open a shift (Shifts screen) before taking cash.")
            return
        display = self.desk.display
        self.setText(f"Drawer: shift #{shift.id} since {display.when(shift.opened_at)[-5:]} · "
                     f"expected {display.money(shift.expected)}")
        self.setToolTip(f"Float {display.money(shift.opening_float)}, cash in {display.money(shift.cash_in)}, "
                        f"cash out {display.money(shift.cash_out)}")

    def _on_failed(self, _exc: BaseException) -> None:
        self.setText("Drawer: —")   # e.g. nobody signed in; the next refresh tries again


def _shifts_screen(desk: Desk) -> QWidget:
    from boxoffice.ui.screens.shifts.screen import ShiftsScreen

    return ShiftsScreen(desk)


def install_shifts(window: Any, *, refresh_ms: int = REFRESH_MS) -> None:
    """Add the Shifts screen (F6, ``window.shifts_screen``, built when first shown) to ``window`` and
    the open shift to its status bar."""
    desk = window.desk
    window.add_screen("Shifts", "F6", lambda: _shifts_screen(desk), name="shifts_screen")
    status = ShiftStatus(desk, refresh_ms=refresh_ms)
    window.statusBar().addWidget(status)
    window.status_shift = status
    window.when_built("sell", lambda sell: sell.sale_completed.connect(lambda _order: status.refresh()))
    window.when_built("orders", lambda orders: orders.credit_issued.connect(status.refresh))
    # Nobody may look while the desk is locked: look again at each sign-in.
    window.operator_changed.connect(
        lambda actor: status.refresh() if actor is not None else status.setText("Drawer: —"))
    status.refresh()
