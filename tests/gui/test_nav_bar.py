"""An admin on a 1280x720 desk: every screen's button and a long status bar, no wider than the screen."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtWidgets import QWidget

from boxoffice.paths import resources_dir
from boxoffice.ui.launch import application
from tests.gui.auth_helpers import locked_window, sign_in
from tests.gui.conftest import ADMIN_PASSWORD

pytestmark = pytest.mark.no_default_actor


@pytest.fixture
def desk_style() -> Any:
    """The desk's own style sheet, whose padding and minimum widths set the buttons' sizes."""
    app = application()
    before = app.styleSheet()
    app.setStyleSheet((resources_dir() / "style.qss").read_text(encoding="utf-8"))
    yield app
    app.setStyleSheet(before)


def test_an_admin_with_every_screen_fits_1280_pixels_and_drops_the_keys_only_when_tight(
        qtbot: Any, desk: Any, services: Any, staff_team: Any, tmp_path: Any, desk_style: Any) -> None:
    window = locked_window(qtbot, desk, tmp_path)
    # the other screens of an admin with Stripe on (Staff and Settings are installed already)
    for label, key in (("Sync", "F4"), ("Readers", "F5"), ("Shifts", "F6"), ("Catalog", "F7"), ("Audit log", "F8"),
                       ("Check-in", "F11")):
        window.add_screen(label, key, QWidget())
    sign_in(qtbot, window, "Ada", ADMIN_PASSWORD)
    qtbot.waitUntil(lambda: not window.is_locked())
    shown = [b for b in window.nav_buttons if not b.isHidden()]
    assert len(shown) == 11
    long_state = "Card payments off: the Stripe key could not be looked up; restart to try again"
    window.set_sync_state(long_state)
    window.resize(1280, 720)
    qtbot.waitUntil(lambda: window.width() == 1280)
    assert window.status_sync.text() == long_state and window.status_sync.toolTip() == long_state
    assert window.minimumSizeHint().width() <= 1280 and window.height() == 720
    nav = window.lock_button.parentWidget()
    qtbot.waitUntil(lambda: all(b.geometry().right() < nav.width() for b in shown))
    narrow = window.minimumSizeHint().width()   # the names alone, side by side
    window.resize(narrow, 720)
    qtbot.waitUntil(lambda: window.width() == narrow)
    qtbot.waitUntil(lambda: [b.text() for b in shown][:3] == ["Sell", "Orders", "Credits"])
    assert "Settings" in [b.text() for b in shown] and "(F10)" in shown[[b.text() for b in shown].index(
        "Settings")].toolTip()
    assert all(b.geometry().right() < nav.width() for b in shown)
    window.resize(2200, 720)
    qtbot.waitUntil(lambda: shown[0].text() == "Sell  [F1]")
    assert all("  [F" in b.text() for b in shown)
