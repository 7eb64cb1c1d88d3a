"""Fallback window listing the catalogue, used by ``boxoffice run`` when the full desk GUI is absent."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from boxoffice.errors import UserError
from boxoffice.money import format_money

if TYPE_CHECKING:
    from boxoffice.app import AppServices
    from boxoffice.config import LoadedSettings

COLUMNS = ("Kind", "Name", "Price", "Remaining", "State")


class CatalogWindow(QMainWindow):
    """One table: every ticket type and add-on of the first (or configured) conference."""

    def __init__(self, app: AppServices, conference_id: int | None = None) -> None:
        super().__init__()
        self.setWindowTitle("Box Office")
        self.heading = QLabel()
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self.heading)
        layout.addWidget(self.table)
        self.setCentralWidget(body)
        self.resize(760, 480)
        self._load(app, conference_id)

    def _load(self, app: AppServices, conference_id: int | None) -> None:
        try:
            conferences = app.conferences.list()
            chosen = next((c for c in conferences if c.id == conference_id), conferences[0] if conferences else None)
            if chosen is None:
                self.heading.setText("No conference yet. Import one with `boxoffice import-conference FILE.toml`.")
                return
            catalog = app.catalog.list_products(chosen.id)
        except UserError as exc:
            self.heading.setText(str(exc))
            return
        self.heading.setText(f"{chosen.name}: catalogue")
        rows = [*catalog.tickets, *catalog.addons]
        self.table.setRowCount(len(rows))
        for row, product in enumerate(rows):
            remaining = "unlimited" if product.remaining is None else str(product.remaining)
            state = product.state.replace("_", " ") + (f": {product.reason}" if product.reason else "")
            cells = ("Ticket" if product.kind == "ticket" else "Add-on", product.name,
                     format_money(product.price, chosen.currency), remaining, state)
            for column, value in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(value))
        self.table.resizeColumnsToContents()


def launch(app: AppServices, loaded: LoadedSettings) -> int:
    """Show the catalogue window and run the Qt event loop until it is closed."""
    qt_app = QApplication.instance() or QApplication(sys.argv)
    window = CatalogWindow(app, loaded.settings.conference_id)
    window.show()
    return int(qt_app.exec())
