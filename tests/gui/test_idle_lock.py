"""Idle lock: no input for the configured time locks the desk; signing in returns to the same cart."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from boxoffice.services.staff.access import current_actor
from tests.gui.auth_helpers import locked_window, sign_in
from tests.gui.conftest import LEAD_PASSWORD, VOLUNTEER_PIN

pytestmark = pytest.mark.no_default_actor


def test_idle_lock_fires_and_the_next_operator_continues_the_same_cart(qtbot, desk, staff_team) -> None:
    window = locked_window(qtbot, desk, idle_ms=0)               # off while the test builds the cart
    assert not window.idle.is_running()
    sign_in(qtbot, window, "Vera", VOLUNTEER_PIN)
    qtbot.waitUntil(lambda: not window.is_locked())
    sell = window.sell
    qtbot.waitUntil(lambda: len(sell.catalog.tiles) == 3)
    qtbot.mouseClick(sell.catalog.tile("Regular"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: sell.cart is not None and len(sell.cart.lines) == 1)
    cart_id = sell.cart.id

    window.idle.set_interval(300)
    window.idle.start()
    qtbot.keyClick(sell, Qt.Key.Key_Shift)                        # input restarts the timer
    assert window.idle.is_running()
    qtbot.waitUntil(window.is_locked, timeout=3000)
    assert current_actor() is None and window.status_operator.text() == "Desk locked"
    assert "without use" in window.lock_screen.hint.text()
    assert not window.idle.is_running()                           # no timer while locked
    assert not window.idle.is_watching()                          # nor an event filter on every event

    sign_in(qtbot, window, "Linus", LEAD_PASSWORD)
    qtbot.waitUntil(lambda: not window.is_locked())
    assert window.stack.currentWidget() is sell and sell.cart.id == cart_id
    assert [line.name for line in sell.cart.lines] == ["Regular"]
    assert desk.operator_name == "Linus" and window.idle.is_running() and window.idle.is_watching()


def test_input_keeps_the_desk_unlocked(qtbot, desk, staff_team) -> None:
    window = locked_window(qtbot, desk, idle_ms=400)
    sign_in(qtbot, window, "Vera", VOLUNTEER_PIN)
    qtbot.waitUntil(lambda: not window.is_locked())
    remaining = []
    for _ in range(6):                                            # keep typing for longer than the interval
        qtbot.wait(150)
        qtbot.keyClick(window.sell, Qt.Key.Key_Shift)
        remaining.append(window.idle._timer.remainingTime())
    assert not window.is_locked() and min(remaining) > 200
