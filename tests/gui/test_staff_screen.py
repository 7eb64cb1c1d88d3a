"""Staff screen (admins) through the real widgets: add, change role, new PIN, unlock, deactivate."""

from __future__ import annotations

import pytest

from boxoffice.errors import SignInFailed
from boxoffice.services.staff.access import Role, acting_as
from tests.gui.auth_helpers import locked_window, sign_in
from tests.gui.conftest import ADMIN_PASSWORD
from tests.gui.helpers import type_text

pytestmark = pytest.mark.no_default_actor


def _admin_on_staff_screen(qtbot, desk):
    window = locked_window(qtbot, desk)
    sign_in(qtbot, window, "Ada", ADMIN_PASSWORD)
    qtbot.waitUntil(lambda: not window.is_locked())
    window.show_screen(window.nav_buttons.index(window.nav_buttons[-2]))
    screen = window.staff_screen
    qtbot.waitUntil(lambda: screen.model.rowCount() == 4)
    return window, screen


def _row(screen, name):
    return next(screen.model.row_of(i) for i in range(screen.model.rowCount()) if screen.model.row_of(i).name == name)


def test_admin_adds_a_volunteer_who_can_then_sign_in(qtbot, desk, services, staff_team) -> None:
    _window, screen = _admin_on_staff_screen(qtbot, desk)
    screen.add_button.click()
    dialog = screen.dialog
    qtbot.keyClicks(dialog.name, "Sam")
    qtbot.keyClicks(dialog.secret, "1234")
    type_text(qtbot, dialog.repeat, "1234")
    dialog.save.click()
    qtbot.waitUntil(lambda: "6 to 8 digits" in dialog.message.text())
    dialog.secret.setText("258000")
    dialog.repeat.setText("258000")
    dialog.save.click()
    qtbot.waitUntil(lambda: screen.model.rowCount() == 5)
    assert "Sam was added" in screen.message.text()
    assert services.auth.sign_in("sam", "258000").role is Role.VOLUNTEER


def test_admin_unlocks_a_locked_volunteer_and_deactivates_them(qtbot, desk, services, staff_team) -> None:
    for _ in range(5):
        with pytest.raises(SignInFailed):
            services.auth.sign_in("Vera", "0000")
    _window, screen = _admin_on_staff_screen(qtbot, desk)
    assert _row(screen, "Vera").locked
    screen.select(staff_team.volunteer.id)
    assert screen.unlock_button.isEnabled()
    assert screen.model.data(screen.model.index(
        [screen.model.row_of(i).name for i in range(4)].index("Vera"), 3)).startswith("Locked until")
    screen.unlock_button.click()
    qtbot.waitUntil(lambda: not _row(screen, "Vera").locked)
    assert not screen.unlock_button.isEnabled()
    screen.active_button.click()
    qtbot.waitUntil(lambda: not _row(screen, "Vera").active)
    assert screen.active_button.text() == "Reactivate"
    with pytest.raises(SignInFailed):
        services.auth.sign_in("Vera", "432100")


def test_promoting_a_volunteer_needs_a_password(qtbot, desk, services, staff_team) -> None:
    _window, screen = _admin_on_staff_screen(qtbot, desk)
    screen.select(staff_team.volunteer.id)
    screen.role_button.click()
    dialog = screen.dialog
    dialog.role.setCurrentIndex(dialog.role.findData("lead"))
    dialog.save.click()
    qtbot.waitUntil(lambda: "password" in dialog.message.text())
    qtbot.keyClicks(dialog.secret, "vera leads now")
    type_text(qtbot, dialog.repeat, "vera leads now")
    dialog.save.click()
    qtbot.waitUntil(lambda: _row(screen, "Vera").role is Role.LEAD)
    assert services.auth.sign_in("Vera", "vera leads now").role is Role.LEAD
    with acting_as(staff_team.admin.actor()):
        assert {s.name: s.role for s in services.auth.list_staff()}["Vera"] is Role.LEAD
