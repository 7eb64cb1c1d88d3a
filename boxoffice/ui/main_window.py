"""The main window: navigation (F1 Sell, F2 Orders, F3 Credits, more via add_screen), a banner, the status bar."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup, QFrame, QHBoxLayout, QLabel, QMainWindow, QPushButton, QStackedWidget, QVBoxLayout,
    QWidget,
)

from boxoffice.ui.desk import Desk
from boxoffice.ui.screens.credits.screen import CreditsScreen
from boxoffice.ui.screens.orders.screen import OrdersScreen
from boxoffice.ui.screens.sell.screen import SellScreen
from boxoffice.ui.widgets.inline_message import Banner


class MainWindow(QMainWindow):
    """Hosts the screens (Sell, Orders, Credits; Sync when Stripe is on).

    ``status_sync`` is the status-bar slot the Stripe sync fills (see ``boxoffice.ui.stripe_wiring``).
    """

    def __init__(self, desk: Desk, *, conference_name: str, database_label: str) -> None:
        super().__init__()
        self.desk = desk
        self.setWindowTitle(f"Box Office — {conference_name}")
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        nav = QFrame()
        nav.setObjectName("navBar")
        nav_layout = QHBoxLayout(nav)
        self._nav_layout = nav_layout
        self.sync_controller: Any | None = None   # set by boxoffice.ui.stripe_wiring when Stripe is on
        self.banner = Banner()
        desk.messages.set_banner(self.banner, self)
        self.stack = QStackedWidget()
        self.sell = SellScreen(desk)
        self.orders = OrdersScreen(desk)
        self.credits = CreditsScreen(desk)
        self._group = QButtonGroup(self)
        self.nav_buttons: list[QPushButton] = []
        for label, key, screen in (
                ("Sell", "F1", self.sell), ("Orders", "F2", self.orders), ("Credits", "F3", self.credits)):
            self.add_screen(label, key, screen)
        nav_layout.addStretch(1)
        hint = QLabel("Ctrl+Enter: pay · Scan a code into the voucher or search field")
        nav_layout.addWidget(hint)
        self._group.idClicked.connect(self.show_screen)
        layout.addWidget(nav)
        layout.addWidget(self.banner)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        bar = self.statusBar()
        self.status_conference = QLabel(f"Conference: {conference_name}")
        self.status_operator = QLabel(f"Operator: {desk.operator_name or '—'}")
        self.status_database = QLabel(f"Database: {database_label}")
        self.status_sync = QLabel("")
        for label in (self.status_conference, self.status_operator, self.status_database):
            bar.addWidget(label)
        bar.addPermanentWidget(self.status_sync)

        self.sell.order_scanned.connect(self._on_sell_order_scanned)
        self.sell.sale_completed.connect(lambda _order: self.orders.refresh())
        self.orders.take_payment_requested.connect(self._on_orders_take_payment)
        self.orders.credit_issued.connect(lambda: self.credits.refresh())
        self.credits.apply_requested.connect(self._on_credits_apply_requested)
        self.show_screen(0)

    def add_screen(self, label: str, key: str, screen: QWidget) -> int:
        """Append a screen with its nav button and shortcut; ``refresh()`` is called when it is shown."""
        index = len(self.nav_buttons)
        button = QPushButton(f"{label}  [{key}]")
        button.setCheckable(True)
        button.setProperty("role", "nav")
        button.setToolTip(f"{label} ({key})")
        self._group.addButton(button, index)
        self._nav_layout.insertWidget(index, button)
        self.nav_buttons.append(button)
        self.stack.addWidget(screen)
        QShortcut(QKeySequence(key), self, lambda i=index: self.show_screen(i),
                  context=Qt.ShortcutContext.ApplicationShortcut)
        return index

    def set_sync_state(self, text: str) -> None:
        """Stripe sync state for the status bar (filled by the sync controller)."""
        self.status_sync.setText(text)

    def show_screen(self, index: int) -> None:
        self.nav_buttons[index].setChecked(True)
        self.stack.setCurrentIndex(index)
        screen = self.stack.currentWidget()
        if screen is self.sell:
            self.sell.refresh_catalog()
            self.sell.focus_scan_field()
        elif screen is self.orders:
            self.orders.refresh()
            self.orders.search.setFocus()
        else:
            refresh = getattr(screen, "refresh", None)
            if refresh is not None:
                refresh()

    def _on_sell_order_scanned(self, reference: str) -> None:
        self.show_screen(1)
        self.orders.show_reference(reference)

    def _on_orders_take_payment(self, order: Any) -> None:
        self.show_screen(0)
        self.sell.open_payment(order)

    def _on_credits_apply_requested(self, credit: Any) -> None:
        self.show_screen(0)
        self.sell.use_credit_of(credit)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.sync_controller is not None:
            self.sync_controller.stop()
        self.desk.tasks.wait_idle(5000)
        super().closeEvent(event)
