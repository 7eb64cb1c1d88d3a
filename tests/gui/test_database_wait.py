"""Another program holding the SQLite write lock: the window says so within seconds, stays live, and the sale goes through."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from PySide6.QtCore import Qt, QTimer

from boxoffice.ui.database_wait import WAITING_TEXT
from boxoffice.ui.main_window import MainWindow


def test_a_sale_waiting_for_another_programs_lock_is_shown_and_the_window_stays_live(
        qtbot: Any, desk: Any, services: Any, catalogue: Any) -> None:
    window = MainWindow(desk, conference_name="Python 2077", database_label="test.sqlite3")
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    sell = window.sell
    qtbot.waitUntil(lambda: len(sell.catalog.tiles) == 3)

    other = sqlite3.connect(services.db.engine.url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")   # e.g. a database browser left with a change open
    ticks: list[float] = []
    timer = QTimer(window)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(100)
    try:
        started = time.monotonic()
        qtbot.mouseClick(sell.catalog.tile("Regular"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.banner.text() == WAITING_TEXT, timeout=5000)
        assert time.monotonic() - started < 5
        assert "another program is using the database" in window.status_database.text()
        assert len(ticks) >= 5, "the GUI thread stopped while the write waited"
        assert sell.cart is None or not sell.cart.lines   # nothing saved yet, nothing lost either
    finally:
        other.execute("COMMIT")
        other.close()
    qtbot.waitUntil(lambda: sell.cart is not None and sum(line.quantity for line in sell.cart.lines) == 1,
                    timeout=10_000)
    qtbot.waitUntil(lambda: window.banner.text() == "")
    assert window.status_database.text() == "Database: test.sqlite3"
    timer.stop()
