"""The Catalog screen (admins): tabs for ticket types, add-ons and vouchers."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from boxoffice.ui.desk import Desk
from boxoffice.ui.screens.catalog_admin.products import AddOnsTab, TicketTypesTab
from boxoffice.ui.screens.catalog_admin.vouchers import VouchersTab


class CatalogAdminScreen(QWidget):
    """Shown by the main window; ``refresh()`` reloads the visible tab (each tab reports a refusal itself)."""

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.tickets = TicketTypesTab(desk)
        self.addons = AddOnsTab(desk)
        self.vouchers = VouchersTab(desk)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.tickets, "&Ticket types")
        self.tabs.addTab(self.addons, "A&dd-ons")
        self.tabs.addTab(self.vouchers, "&Vouchers")
        hint = QLabel("Changes take effect at every desk at once; prices and stock changes are in the audit log.")
        hint.setObjectName("muted")
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addWidget(self.tabs, 1)
        self.tabs.currentChanged.connect(lambda _i: self.refresh())
        self.tickets.changed.connect(self._on_products_changed)
        self.addons.changed.connect(self._on_products_changed)

    def refresh(self) -> None:
        current = self.tabs.currentWidget()
        refresh = getattr(current, "refresh", None)
        if refresh is not None:
            refresh()

    def _on_products_changed(self) -> None:
        # The add-on prerequisites and voucher scopes list ticket types and add-ons: re-read on next show.
        if self.tabs.currentWidget() is self.tickets:
            self.addons.refresh()
