"""Ticket and add-on tiles: name, price, what is left and why a product cannot be sold now."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from boxoffice.ui.formatting import Display

COLUMNS = 3
SHORT_STATE = {"sold_out": "Sold out", "not_yet": "Not on sale yet", "ended": "Sale ended",
               "inactive": "Not for sale", "voucher_only": "Voucher needed", "needs_ticket": "Needs a ticket"}


class ProductTile(QToolButton):
    """One product; clicking it adds one unit to the cart."""

    def __init__(self, product: Any, display: Display, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._display = display
        self.setObjectName("tile")
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumSize(QSize(170, 96))
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.show_product(product)

    @property
    def key(self) -> tuple[str, int]:
        return self.product.kind, self.product.id

    def show_product(self, product: Any) -> None:
        """Show the product's current price, stock and state (in place: focus stays on the tile)."""
        self.product = product
        display = self._display
        if product.state == "on_sale":
            if product.remaining is None:
                status = "Available"
            elif product.remaining <= 0:
                status = "Sold out"
            else:
                status = f"{product.remaining} left"
        else:
            status = SHORT_STATE.get(product.state, product.state.replace("_", " ").capitalize())
        self.status_text = status
        self.setText(f"{product.name}\n{display.money(product.price)}\n{status}")
        self.setToolTip(product.reason or product.description or product.name)
        self.setAccessibleName(f"{product.name}, {display.money(product.price)}, {status}")
        self.setEnabled(product.state == "on_sale" and product.allowed)


class CatalogPanel(QFrame):
    """Shows a ``CatalogView``. Signals: ``product_chosen(kind, product_id)``."""

    product_chosen = Signal(str, int)

    def __init__(self, display: Display, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self._display = display
        self.tiles: list[ProductTile] = []
        outer = QVBoxLayout(self)
        self._scroll = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        self._layout = QVBoxLayout(body)
        self._tickets_title = QLabel("Tickets")
        self._tickets_title.setObjectName("sectionTitle")
        self._tickets = QGridLayout()
        self._addons_title = QLabel("Add-ons")
        self._addons_title.setObjectName("sectionTitle")
        self._addons = QGridLayout()
        for grid in (self._tickets, self._addons):
            grid.setSpacing(8)
            for column in range(COLUMNS):
                grid.setColumnStretch(column, 1)
        self._layout.addWidget(self._tickets_title)
        self._layout.addLayout(self._tickets)
        self._layout.addWidget(self._addons_title)
        self._layout.addLayout(self._addons)
        self._layout.addStretch(1)
        scroll.setWidget(body)
        outer.addWidget(scroll)

    def set_catalog(self, catalog: Any) -> None:
        """Show ``catalog``; when it lists the same products (a refresh after a sale anywhere) the tiles
        are updated in place, so keyboard focus and the scroll position stay where the operator left them."""
        products = [*catalog.tickets, *catalog.addons]
        if [tile.key for tile in self.tiles] == [(p.kind, p.id) for p in products]:
            for tile, product in zip(self.tiles, products, strict=True):
                tile.show_product(product)
            return
        position = self._scroll.verticalScrollBar().value()
        for tile in self.tiles:
            tile.deleteLater()
        self.tiles = []
        self._fill(self._tickets, catalog.tickets)
        self._fill(self._addons, catalog.addons)
        self._addons_title.setVisible(bool(catalog.addons))
        self._scroll.verticalScrollBar().setValue(position)

    def tile(self, name: str) -> ProductTile:
        for tile in self.tiles:
            if tile.product.name == name:
                return tile
        raise KeyError(name)

    def _fill(self, grid: QGridLayout, products: Any) -> None:
        for index, product in enumerate(products):
            tile = ProductTile(product, self._display)
            tile.clicked.connect(lambda _=False, t=tile: self.product_chosen.emit(*t.key))
            grid.addWidget(tile, index // COLUMNS, index % COLUMNS)
            self.tiles.append(tile)
