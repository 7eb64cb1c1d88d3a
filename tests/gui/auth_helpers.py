"""Build a locked main window and sign in through its lock screen (GUI tests of sign-in and overrides)."""

from __future__ import annotations

from typing import Any

from boxoffice.config import Settings
from boxoffice.services.staff.access import current_actor
from boxoffice.ui.main_window import MainWindow
from boxoffice.ui.screens.settings.wiring import install_admin_screens


def locked_window(qtbot: Any, desk: Any, tmp_path: Any = None, *, idle_ms: int | None = None) -> MainWindow:
    """A main window built with nobody signed in (as the desk starts), admin screens installed."""
    assert current_actor() is None, "mark the test no_default_actor"
    desk.operator_id, desk.operator_name = None, ""
    window = MainWindow(desk, conference_name="Python 2077", database_label="test.sqlite3", idle_ms=idle_ms)
    qtbot.addWidget(window)
    install_admin_screens(window, Settings(), settings_path=(tmp_path / "settings.json") if tmp_path else None)
    window.resize(1280, 860)
    window.show()
    assert window.is_locked()
    return window


def sign_in(qtbot: Any, window: MainWindow, name: str, secret: str) -> None:
    """Type into the lock screen like an operator and press Enter in the secret field."""
    from PySide6.QtCore import Qt

    form = window.lock_screen.form
    # The previous attempt has been answered (and nothing is being saved, so no key is held back
    # to be replayed after the fields are cleared below).
    qtbot.waitUntil(lambda: form.button.isEnabled() and not window.desk.tasks.is_writing()
                    and window.input_hold.held() == 0)
    form.name.clear()
    qtbot.keyClicks(form.name, name)
    qtbot.waitUntil(lambda: form.name.text() == name)       # as a person sees what they typed
    form.secret.clear()
    qtbot.keyClicks(form.secret, secret)
    qtbot.waitUntil(lambda: form.secret.text() == secret)
    qtbot.keyClick(form.secret, Qt.Key.Key_Return)
