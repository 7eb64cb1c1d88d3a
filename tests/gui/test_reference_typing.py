"""A reference typed without its prefix or dash finds the order, in the Orders search and the Sell scan field."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from boxoffice.ui.main_window import MainWindow
from tests.gui.helpers import paid_cash_sale


def _two_orders(services: Any, catalogue: Any) -> tuple[Any, Any]:
    ada = paid_cash_sale(services, catalogue.conference_id, name="Ada Lovelace", email="ada@example.org",
                         tickets={catalogue.regular: 1})
    bob = paid_cash_sale(services, catalogue.conference_id, name="Bob Byte", email="bob@example.org",
                         tickets={catalogue.regular: 1})
    return ada, bob


def _window(qtbot: Any, desk: Any) -> MainWindow:
    window = MainWindow(desk, conference_name="Python 2077", database_label="test.sqlite3")
    qtbot.addWidget(window)
    window.resize(1280, 860)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    return window


def _spellings(reference: str) -> list[str]:
    prefix, body = reference.split("-")
    return [body, body.lower(), prefix + body, body[:5]]


@pytest.mark.parametrize("which", [0, 1, 2, 3])
def test_the_orders_search_finds_the_reference_without_prefix_or_dash(qtbot, desk, services, catalogue,
                                                                       which: int) -> None:
    _ada, bob = _two_orders(services, catalogue)
    window = _window(qtbot, desk)
    qtbot.keyClick(window, Qt.Key.Key_F2)
    orders = window.orders
    qtbot.waitUntil(lambda: orders.model.rowCount() == 2)
    typed = _spellings(bob.reference)[which]
    qtbot.keyClicks(orders.search, typed)
    qtbot.keyClick(orders.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: orders.model.rowCount() == 1 and orders.detail is not None
                    and orders.detail.summary.id == bob.id)
    assert orders.model.index(0, 0).data() == bob.reference
    assert orders.count_label.text() == "1 order"


@pytest.mark.parametrize("which", [0, 1, 2])
def test_the_sell_scan_field_opens_the_order_typed_without_prefix_or_dash(qtbot, desk, services, catalogue,
                                                                           which: int) -> None:
    ada, _bob = _two_orders(services, catalogue)
    window = _window(qtbot, desk)
    sell = window.sell
    assert window.stack.currentWidget() is sell
    typed = _spellings(ada.reference)[which]
    qtbot.keyClicks(sell.voucher, typed)
    qtbot.keyClick(sell.voucher, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.orders and window.orders.detail is not None
                    and window.orders.detail.summary.id == ada.id)
    assert sell.voucher.text() == ""
    assert window.orders.search.text() == ada.reference
