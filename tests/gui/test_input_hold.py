"""Keys and clicks made while the desk is saving are applied in order afterwards, never dropped."""

from __future__ import annotations

import threading
from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from boxoffice.ui.main_window import MainWindow


def _window(qtbot, desk) -> MainWindow:
    window = MainWindow(desk, conference_name="Python 2077", database_label="test.sqlite3")
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    qtbot.waitUntil(lambda: len(window.sell.catalog.tiles) == 3)
    return window


def test_a_walkup_sale_keyed_in_without_pauses_is_made(qtbot, desk, services) -> None:
    """Tile, Alt+W, Ctrl+Enter, the amount and Enter, sent with no wait in between."""
    window = _window(qtbot, desk)
    sell = window.sell
    carts = services.carts
    release = threading.Event()
    slow_add = carts.add_ticket

    def add_ticket_slowly(*args, **kwargs):   # the writer is busy the whole time the keys come in
        release.wait(5)
        return slow_add(*args, **kwargs)

    carts.add_ticket = add_ticket_slowly
    try:
        qtbot.mouseClick(sell.catalog.tile("Regular"), Qt.MouseButton.LeftButton)
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_W, Qt.KeyboardModifier.AltModifier)
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClicks(QApplication.focusWidget(), "100")
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
        assert window.input_hold.held() > 0 and sell.cart is None   # nothing was applied yet
        release.set()
        qtbot.waitUntil(lambda: sell.confirmation is not None, timeout=5000)
    finally:
        carts.add_ticket = slow_add
    order = services.orders.get(sell.confirmation.payment.order.id)
    assert order.status == "paid" and order.total == Decimal("100.00")
    assert sell.confirmation.payment.change_due == Decimal("0.00") and sell.confirmation.payment.method == "cash"
    # The walk-up is then checked in (another write); what was held meanwhile is replayed once it is saved.
    qtbot.waitUntil(lambda: window.input_hold.held() == 0, timeout=5000)


def test_keys_typed_at_a_normal_pace_while_idle_are_not_held(qtbot, desk) -> None:
    window = _window(qtbot, desk)
    qtbot.keyClicks(window.sell.voucher, "SPR")
    assert window.sell.voucher.text() == "SPR" and window.input_hold.held() == 0
