"""Closing a shift at the desk: the count is kept, the dialog stands over the window, the report can be
had again, and quitting with a shift open asks first."""

from __future__ import annotations

from decimal import Decimal

import pytest

from boxoffice.ui.main_window import MainWindow
from boxoffice.ui.shift_wiring import install_shifts
from tests.gui.auth_helpers import locked_window, sign_in
from tests.gui.conftest import VOLUNTEER_PIN
from tests.gui.helpers import type_text


def _window_with_shifts(qtbot, desk) -> MainWindow:
    window = MainWindow(desk, conference_name="Python 2077", database_label="test.sqlite3")
    qtbot.addWidget(window)
    install_shifts(window)
    window.resize(1280, 720)
    window.move(300, 200)
    window.show()
    return window


def _open_close_dialog(qtbot, window):
    screen = window.shifts_screen
    window.show_screen(window.stack.indexOf(screen))
    qtbot.waitUntil(lambda: screen.current is not None)
    screen.close_shift()
    qtbot.waitUntil(lambda: screen.close_dialog is not None and screen.close_dialog.isVisible())
    return screen, screen.close_dialog


def test_counting_by_denomination_keeps_the_typed_total_until_something_is_counted(qtbot, desk) -> None:
    window = _window_with_shifts(qtbot, desk)
    _screen, dialog = _open_close_dialog(qtbot, window)
    type_text(qtbot, dialog.counted, "100")
    assert dialog.difference.text() == "Exact: no difference"
    dialog.count_toggle.click()
    assert dialog.counted.text() == "100" and dialog.difference.text() == "Exact: no difference"
    dialog.count_boxes[Decimal(50)].setValue(1)
    assert dialog.counted.text() == "50.00" and dialog.difference.text() == "Short $50.00"
    dialog.count_boxes[Decimal(50)].setValue(2)
    assert dialog.difference.text() == "Exact: no difference"
    dialog.reject()


def test_the_close_dialog_stands_over_the_window(qtbot, desk) -> None:
    window = _window_with_shifts(qtbot, desk)
    room = window.screen().availableGeometry()   # a window wholly on the screen (offscreen: 800×800)
    window.setGeometry(room.adjusted(20, 40, -20, -20))
    _screen, dialog = _open_close_dialog(qtbot, window)
    qtbot.wait(50)   # the dialog sizes itself to the first step once shown
    centre, middle = dialog.frameGeometry().center(), window.frameGeometry().center()
    assert abs(centre.x() - middle.x()) <= 2 and abs(centre.y() - middle.y()) <= 40
    dialog.reject()


@pytest.mark.no_default_actor
def test_a_volunteer_saves_the_report_of_their_last_shift_again(qtbot, desk, services, staff_team,
                                                                 tmp_path, monkeypatch) -> None:
    from boxoffice.ui.screens.shifts.screen import ShiftsScreen

    window = locked_window(qtbot, desk)
    install_shifts(window)
    sign_in(qtbot, window, "Vera", VOLUNTEER_PIN)
    qtbot.waitUntil(lambda: not window.is_locked())
    screen, dialog = _open_close_dialog(qtbot, window)
    shift_id = dialog.shift.id
    dialog.counted.setText("100")
    dialog.review()
    dialog.confirm.click()
    qtbot.waitUntil(lambda: dialog.result_shift is not None)
    dialog.accept()                                   # closed without saving the report
    screen.refresh()
    qtbot.waitUntil(lambda: screen.my_last_button.isVisible())
    assert screen.history_note.isVisible()            # the list of past shifts is for leads
    assert f"#{shift_id}" in screen.my_last_button.text()
    saved = tmp_path / "mine.pdf"
    monkeypatch.setattr(ShiftsScreen, "ask_save_path", staticmethod(lambda *_args: saved))
    screen.my_last_button.click()
    qtbot.waitUntil(saved.exists)
    assert saved.read_bytes().startswith(b"%PDF")


def test_quitting_with_a_shift_open_asks_first(qtbot, desk, monkeypatch) -> None:
    window = _window_with_shifts(qtbot, desk)
    qtbot.waitUntil(lambda: window.status_shift.shift is not None)
    asked = []
    answer = {"quit": False}
    monkeypatch.setattr(MainWindow, "confirm_quit",
                        staticmethod(lambda _parent, text: (asked.append(text), answer["quit"])[1]))
    window.close()
    assert window.isVisible() and "still open" in asked[0] and "Shifts" in asked[0]
    answer["quit"] = True
    window.close()
    assert not window.isVisible() and len(asked) == 2
