"""Sign-in at the desk through the real lock screen: lockout, operator switch, admin screens by role."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from boxoffice.services.staff.access import Role, current_actor
from boxoffice.services.staff.auth import SIGN_IN_FAILED_TEXT
from tests.gui.auth_helpers import locked_window, sign_in
from tests.gui.conftest import ADMIN_PASSWORD, LEAD_PASSWORD, VOLUNTEER_PIN

pytestmark = pytest.mark.no_default_actor


def _message(window) -> str:
    return window.lock_screen.form.message.text()


def test_five_wrong_pins_lock_the_account_until_the_lock_runs_out(qtbot, desk, staff_team, clock) -> None:
    window = locked_window(qtbot, desk)
    assert window.status_operator.text() == "Desk locked"
    assert not window.content.isEnabled()
    qtbot.waitUntil(lambda: "Vera" in window.lock_screen.form.names())   # name completion
    for attempt in range(1, 6):
        sign_in(qtbot, window, "vera", "0000")
        qtbot.waitUntil(lambda: window.lock_screen.form.button.isEnabled())
        if attempt < 5:
            assert _message(window) == SIGN_IN_FAILED_TEXT
    assert "locked for 5 more minutes" in _message(window) and "lead" in _message(window)
    assert window.lock_screen.form.secret.text() == ""          # the wrong PIN is cleared
    sign_in(qtbot, window, "vera", VOLUNTEER_PIN)               # the right PIN is refused while locked
    qtbot.waitUntil(lambda: window.lock_screen.form.button.isEnabled())
    assert "locked" in _message(window) and window.is_locked()
    sign_in(qtbot, window, "Nobody", VOLUNTEER_PIN)             # an unknown name: the same words as a wrong PIN
    qtbot.waitUntil(lambda: _message(window) == SIGN_IN_FAILED_TEXT)
    clock.advance(minutes=5)
    sign_in(qtbot, window, "vera", VOLUNTEER_PIN)
    qtbot.waitUntil(lambda: not window.is_locked())
    assert window.status_operator.text() == "Operator: Vera (Volunteer)"
    assert desk.operator_id == staff_team.volunteer.id and current_actor().role is Role.VOLUNTEER


def test_lock_button_switches_operator_and_admin_screens_follow_the_role(qtbot, desk, staff_team) -> None:
    window = locked_window(qtbot, desk)
    staff_button, settings_button = window.nav_buttons[-2], window.nav_buttons[-1]
    assert staff_button.text().startswith("Staff") and settings_button.text().startswith("Settings")
    sign_in(qtbot, window, "Vera", VOLUNTEER_PIN)
    qtbot.waitUntil(lambda: not window.is_locked())
    assert staff_button.isHidden() and settings_button.isHidden()
    qtbot.keyClick(window, Qt.Key.Key_F9)                        # the shortcut does not open it either
    qtbot.waitUntil(lambda: window.input_hold.held() == 0 and not desk.tasks.is_writing())
    assert window.stack.currentWidget() is window.sell

    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(window.is_locked)   # applied once anything being saved is saved
    assert current_actor() is None and desk.operator_id is None
    assert window.lock_screen.form.name.text() == "" and "Vera locked the desk" in window.lock_screen.hint.text()
    sign_in(qtbot, window, "Ada", ADMIN_PASSWORD)                # a fast switch: whoever signs in operates
    qtbot.waitUntil(lambda: not window.is_locked())
    assert window.status_operator.text() == "Operator: Ada (Admin)" and desk.operator_id == staff_team.admin.id
    assert not staff_button.isHidden() and not settings_button.isHidden()
    qtbot.keyClick(window, Qt.Key.Key_F9)   # applied once the sign-in's own writes are saved
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.staff_screen)
    qtbot.waitUntil(lambda: window.staff_screen.model.rowCount() == 4)   # Ada, Grace, Linus, Vera

    window.lock_button.click()
    sign_in(qtbot, window, "Linus", LEAD_PASSWORD)
    qtbot.waitUntil(lambda: not window.is_locked())
    assert staff_button.isHidden()
    assert window.stack.currentWidget() is window.sell            # the admin screen was left for Sell


def _type(qtbot, text: str) -> None:
    """Type where the cursor is, as the next person at the desk would."""
    from PySide6.QtWidgets import QApplication

    widget = QApplication.focusWidget()
    assert widget is not None
    qtbot.keyClicks(widget, text)


def test_after_a_lock_the_next_person_starts_from_the_name_list(qtbot, desk, services, staff_team) -> None:
    from boxoffice.ui.dialogs.sign_in import SignInForm

    window = locked_window(qtbot, desk)
    sign_in(qtbot, window, "Vera", VOLUNTEER_PIN)
    qtbot.waitUntil(lambda: not window.is_locked())
    window.lock_button.click()
    form: SignInForm = window.lock_screen.form
    qtbot.waitUntil(lambda: form.visible_names() == ["Ada", "Linus", "Vera"])
    assert form.name.text() == "" and form.name.hasFocus()     # not pre-filled with the last operator
    _type(qtbot, "lin")                                          # the list filters as the name is typed
    assert form.visible_names() == ["Linus"]
    qtbot.keyClick(form.name, Qt.Key.Key_Return)                 # Enter picks the one match
    assert form.name.text() == "Linus" and form.secret.hasFocus()
    _type(qtbot, LEAD_PASSWORD)
    qtbot.keyClick(form.secret, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.is_locked())
    assert current_actor().name == "Linus"
    from sqlalchemy import func, select

    from boxoffice.domain.models import AuditEntry

    with services.db.read() as session:                          # nobody typed a name as Vera's PIN
        failed = session.scalar(select(func.count()).where(AuditEntry.action == "sign_in_failed"))
    assert failed == 0


def test_a_name_is_picked_from_the_list_with_a_click(qtbot, desk, staff_team) -> None:
    window = locked_window(qtbot, desk)
    form = window.lock_screen.form
    qtbot.waitUntil(lambda: len(form.visible_names()) == 3)
    people = form.people
    index = people.model().index(2, 0)
    qtbot.mouseClick(people.viewport(), Qt.MouseButton.LeftButton, pos=people.visualRect(index).center())
    assert form.name.text() == "Vera" and form.secret.hasFocus()
    _type(qtbot, VOLUNTEER_PIN)
    qtbot.keyClick(form.secret, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.is_locked())
    assert current_actor().name == "Vera"
